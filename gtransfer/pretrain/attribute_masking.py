"""Attribute masking (Hu et al. 2020, ICLR, "Strategies for Pre-training GNNs", Sec. 3.1.2).

A fraction of nodes (15%) get their features replaced by a mask token; a linear head on the node
embeddings recovers the atom type (cross-entropy), or the float features (squared error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch.nn.functional as F
from torch import Tensor, nn

from gtransfer.models.encoder import GNNEncoder
from gtransfer.models.inputs import molecule_specs
from gtransfer.pretrain.base import PretrainStrategy, mask_node_features, node_target, sample_mask

if TYPE_CHECKING:
    from torch_geometric.data import Batch


class AttributeMasking(PretrainStrategy):
    name = "attrmask"

    def __init__(self, encoder: GNNEncoder, *, mask_rate: float = 0.15) -> None:
        super().__init__(encoder)
        if not 0 < mask_rate < 1:
            raise ValueError(f"AttributeMasking: mask_rate must be in (0, 1), got {mask_rate}")
        self.mask_rate = mask_rate
        if encoder.featurizer is not None:  # classify the atom type among the vocabulary rows
            out = molecule_specs(encoder.featurizer)[0].cardinalities[0]
        else:  # reconstruct the float features
            out = encoder.node_encoder.linear.in_features
        self.head = nn.Linear(encoder.embedding_dim, out)

    def loss(self, batch: Batch) -> Tensor:
        mask = sample_mask(batch.num_nodes, self.mask_rate, batch.x.device)
        target, classes = node_target(self.encoder, batch.x)
        masked = batch.clone()
        masked.x = mask_node_features(self.encoder, batch.x, mask)
        pred = self.head(self.encoder.node_embeddings(masked)[mask])
        if classes is not None:
            return F.cross_entropy(pred, target[mask])
        return F.mse_loss(pred, target[mask])
