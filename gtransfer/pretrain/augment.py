"""Graph augmentations of GraphCL (You et al. 2020, NeurIPS): node dropping, edge perturbation
(dropping), attribute masking. Each acts on a whole PyG batch and keeps every graph non-empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch_geometric.utils import subgraph

from gtransfer.models.encoder import GNNEncoder
from gtransfer.pretrain.base import mask_node_features

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["drop_nodes", "drop_edges", "mask_attributes", "AUGMENTATIONS"]


def drop_nodes(batch: Batch, encoder: GNNEncoder, rate: float = 0.2) -> Batch:
    """Remove each node with probability ``rate`` (one node per graph always stays) and its edges."""
    keep = torch.rand(batch.num_nodes, device=batch.x.device) >= rate
    # the first node of every graph is kept, so no graph disappears
    counts = torch.bincount(batch.batch, minlength=batch.num_graphs)
    firsts = (torch.cumsum(counts, 0) - counts)[counts > 0]
    keep[firsts] = True
    edge_index, edge_attr = subgraph(keep, batch.edge_index, getattr(batch, "edge_attr", None),
                                     relabel_nodes=True, num_nodes=batch.num_nodes)
    out = batch.clone()
    out.x, out.batch, out.edge_index = batch.x[keep], batch.batch[keep], edge_index
    if edge_attr is not None:
        out.edge_attr = edge_attr
    return out


def drop_edges(batch: Batch, encoder: GNNEncoder, rate: float = 0.2) -> Batch:
    """Remove each undirected edge (both directions together) with probability ``rate``."""
    src, dst = batch.edge_index
    key = torch.minimum(src, dst) * batch.num_nodes + torch.maximum(src, dst)
    unique, inverse = torch.unique(key, return_inverse=True)
    keep = (torch.rand(unique.numel(), device=key.device) >= rate)[inverse]
    out = batch.clone()
    out.edge_index = batch.edge_index[:, keep]
    if getattr(batch, "edge_attr", None) is not None:
        out.edge_attr = batch.edge_attr[keep]
    return out


def mask_attributes(batch: Batch, encoder: GNNEncoder, rate: float = 0.2) -> Batch:
    """Replace each node's features by the mask token (zeros for float features) with probability ``rate``."""
    mask = torch.rand(batch.num_nodes, device=batch.x.device) < rate
    out = batch.clone()
    out.x = mask_node_features(encoder, batch.x, mask)
    return out


AUGMENTATIONS = {"drop_nodes": drop_nodes, "drop_edges": drop_edges, "mask_attributes": mask_attributes}
