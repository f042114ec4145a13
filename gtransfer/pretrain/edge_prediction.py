"""Edge prediction (Hamilton et al. 2017; Hu et al. 2020, Sec. 5): node embeddings of linked nodes
should have a high inner product, those of random same-graph pairs a low one (logistic loss)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor

from gtransfer.pretrain.base import PretrainStrategy

if TYPE_CHECKING:
    from torch_geometric.data import Batch


class EdgePrediction(PretrainStrategy):
    name = "edgepred"

    def pair_scores(self, batch: Batch) -> tuple[Tensor, Tensor]:
        r"""Logits :math:`h_u^\top h_v` of every edge (E,) and :math:`h_u^\top h_w` of one negative per edge (E,)."""
        if batch.edge_index.size(1) == 0:
            raise ValueError("EdgePrediction: the batch has no edges")
        h = self.encoder.node_embeddings(batch)
        src, dst = batch.edge_index
        # negatives: for each positive (u, v), a uniformly random node w of u's graph
        index = batch.batch if getattr(batch, "batch", None) is not None else torch.zeros_like(batch.x[:, 0]).long()
        counts = torch.bincount(index, minlength=int(index.max()) + 1)
        starts = torch.cumsum(counts, 0) - counts
        g = index[src]
        neg = starts[g] + (torch.rand(src.numel(), device=h.device) * counts[g]).long()
        pos_score = (h[src] * h[dst]).sum(-1)
        neg_score = (h[src] * h[neg]).sum(-1)
        return pos_score, neg_score

    def loss(self, batch: Batch) -> Tensor:
        pos_score, neg_score = self.pair_scores(batch)
        return (F.binary_cross_entropy_with_logits(pos_score, torch.ones_like(pos_score))
                + F.binary_cross_entropy_with_logits(neg_score, torch.zeros_like(neg_score)))
