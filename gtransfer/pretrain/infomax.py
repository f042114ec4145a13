r"""Deep Graph Infomax for graph batches (Velickovic et al. 2019, ICLR; as used by Hu et al. 2020).

Each graph's summary :math:`s_g = \sigma(\mathrm{mean}_{v \in g} h_v)`; a bilinear discriminator
:math:`D(h_v, s) = h_v^\top W s` scores (node, own summary) pairs as positives and (node, summary of
the next graph in the batch) pairs as negatives, with a logistic loss.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch_geometric.nn import global_mean_pool

from gtransfer.models.encoder import GNNEncoder
from gtransfer.pretrain.base import PretrainStrategy

if TYPE_CHECKING:
    from torch_geometric.data import Batch


class DeepGraphInfomax(PretrainStrategy):
    name = "infomax"

    def __init__(self, encoder: GNNEncoder) -> None:
        super().__init__(encoder)
        dim = encoder.embedding_dim
        self.weight = nn.Parameter(torch.empty(dim, dim))
        nn.init.xavier_uniform_(self.weight)

    def pair_scores(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """Discriminator logits of (node, own summary) pairs (N,) and (node, other graph's summary) pairs (N,)."""
        if batch.num_graphs < 2:
            raise ValueError("DeepGraphInfomax needs at least 2 graphs per batch (negatives are other graphs)")
        h = self.encoder.node_embeddings(batch)
        summary = torch.sigmoid(global_mean_pool(h, batch.batch, size=batch.num_graphs))
        other = torch.roll(summary, shifts=1, dims=0)
        pos = (h @ self.weight * summary[batch.batch]).sum(-1)
        neg = (h @ self.weight * other[batch.batch]).sum(-1)
        return pos, neg

    def loss(self, batch: Batch) -> Tensor:
        pos, neg = self.pair_scores(batch)
        return (F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos))
                + F.binary_cross_entropy_with_logits(neg, torch.zeros_like(neg)))
