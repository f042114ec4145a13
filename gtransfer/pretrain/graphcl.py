r"""Graph contrastive learning (GraphCL; You et al. 2020, NeurIPS).

Two augmented views of each graph (augmentations drawn from :mod:`gtransfer.pretrain.augment`: node
dropping, edge dropping, attribute masking, subgraph),
pooled embeddings through a projection head :math:`g`, NT-Xent loss with temperature :math:`\tau`:

.. math::
    \ell_i = -\log \frac{\exp(\cos(z_i, z_i') / \tau)}{\sum_{k \ne i} \exp(\cos(z_i, z_k) / \tau)},

over the 2B views of a batch, averaged over both directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gtransfer.models.encoder import GNNEncoder
from gtransfer.pretrain.augment import AUGMENTATIONS
from gtransfer.pretrain.base import PretrainStrategy

if TYPE_CHECKING:
    from torch_geometric.data import Batch


class GraphCL(PretrainStrategy):
    name = "graphcl"

    def __init__(
        self,
        encoder: GNNEncoder,
        *,
        augmentations: tuple[str, ...] = ("drop_nodes", "drop_edges", "mask_attributes", "subgraph"),
        rate: float = 0.2,
        temperature: float = 0.2,
    ) -> None:
        super().__init__(encoder)
        unknown = set(augmentations) - set(AUGMENTATIONS)
        if unknown or not augmentations:
            raise ValueError(
                f"GraphCL: augmentations must be a non-empty subset of {sorted(AUGMENTATIONS)}, got {augmentations}"
            )
        if temperature <= 0:
            raise ValueError(f"GraphCL: temperature must be > 0, got {temperature}")
        self.augmentations, self.rate, self.temperature = tuple(augmentations), rate, temperature
        dim = encoder.embedding_dim
        self.projection = nn.Sequential(nn.Linear(dim, dim), nn.ReLU(), nn.Linear(dim, dim))

    def _view(self, batch: Batch) -> Batch:
        choice = self.augmentations[int(torch.randint(len(self.augmentations), (1,)))]
        return AUGMENTATIONS[choice](batch, self.encoder, rate=self.rate)

    def _similarities(self, batch: Batch) -> Tensor:
        """(2B, 2B) cosine similarities / temperature of the projected views; rows i and i + B are one graph's views."""
        if batch.num_graphs < 2:
            raise ValueError("GraphCL needs at least 2 graphs per batch (negatives are other graphs)")
        z = torch.cat([self.projection(self.encoder.embed(self._view(batch))) for _ in range(2)])
        z = F.normalize(z, dim=-1)
        return z @ z.T / self.temperature

    def pair_scores(self, batch: Batch) -> tuple[Tensor, Tensor]:
        """Scaled similarities of the two views of each graph (B,) and of views of different graphs (B(B-1),)."""
        sim = self._similarities(batch)
        b = batch.num_graphs
        across = sim[:b, b:]
        other = ~torch.eye(b, dtype=torch.bool, device=sim.device)
        return across.diagonal(), across[other]

    def loss(self, batch: Batch) -> Tensor:
        sim = self._similarities(batch)
        sim.fill_diagonal_(float("-inf"))
        b = batch.num_graphs
        targets = torch.cat([torch.arange(b, 2 * b), torch.arange(0, b)]).to(sim.device)
        return F.cross_entropy(sim, targets)
