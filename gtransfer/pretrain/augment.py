"""Graph augmentations of GraphCL (You et al. 2020, NeurIPS): node dropping, edge perturbation
(dropping), attribute masking, subgraph. Each acts on a whole PyG batch and keeps every graph non-empty."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor
from torch_geometric.utils import subgraph

from gtransfer.models.encoder import GNNEncoder
from gtransfer.pretrain.base import mask_node_features

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["drop_nodes", "drop_edges", "mask_attributes", "sample_subgraph", "AUGMENTATIONS"]


def drop_nodes(batch: Batch, encoder: GNNEncoder, *, rate: float = 0.2) -> Batch:
    """Remove each node with probability ``rate`` (one node per graph always stays) and its edges."""
    keep = torch.rand(batch.num_nodes, device=batch.x.device) >= rate
    # the first node of every graph is kept, so no graph disappears
    keep[_first_nodes(batch)] = True
    return _keep_nodes(batch, keep)


def _keep_nodes(batch: Batch, keep: Tensor) -> Batch:
    """The batch restricted to the nodes in ``keep`` and the edges between them (relabelled)."""
    edge_index, edge_attr = subgraph(keep, batch.edge_index, getattr(batch, "edge_attr", None),
                                     relabel_nodes=True, num_nodes=batch.num_nodes)
    out = batch.clone()
    out.x, out.batch, out.edge_index = batch.x[keep], batch.batch[keep], edge_index
    if edge_attr is not None:
        out.edge_attr = edge_attr
    return out


def _first_nodes(batch: Batch) -> Tensor:
    counts = torch.bincount(batch.batch, minlength=batch.num_graphs)
    return (torch.cumsum(counts, 0) - counts)[counts > 0]


def sample_subgraph(batch: Batch, encoder: GNNEncoder, *, rate: float = 0.2) -> Batch:
    """GraphCL's subgraph view: per graph, a connected set of ``ceil((1 - rate) n)`` nodes grown from a random
    start node by adding random neighbours of the set (breadth-first, in random order within each ring),
    and the edges between them. A graph whose start node's component is smaller keeps that component."""
    device = batch.x.device
    counts = torch.bincount(batch.batch, minlength=batch.num_graphs)
    starts = torch.cumsum(counts, 0) - counts
    quota = torch.ceil((1.0 - rate) * counts.double()).long().clamp_min(1)
    start = starts + (torch.rand(batch.num_graphs, device=device) * counts).long().clamp_max((counts - 1).clamp_min(0))
    keep = torch.zeros(batch.num_nodes, dtype=torch.bool, device=device)
    keep[start[counts > 0]] = True
    src, dst = batch.edge_index
    priority = torch.rand(batch.num_nodes, device=device)
    while True:
        size = torch.bincount(batch.batch[keep], minlength=batch.num_graphs)
        room = quota - size
        frontier = torch.zeros_like(keep)
        frontier[dst[keep[src]]] = True
        frontier &= ~keep & (room[batch.batch] > 0)
        if not frontier.any():
            return _keep_nodes(batch, keep)
        # admit the frontier nodes of each graph in random order, up to the graph's room
        nodes = frontier.nonzero().view(-1)
        order = torch.argsort(priority[nodes])
        nodes = nodes[order]
        nodes = nodes[torch.argsort(batch.batch[nodes], stable=True)]
        graph = batch.batch[nodes]
        first = torch.searchsorted(graph, graph, right=False)
        rank = torch.arange(nodes.numel(), device=device) - first
        keep[nodes[rank < room[graph]]] = True


def drop_edges(batch: Batch, encoder: GNNEncoder, *, rate: float = 0.2) -> Batch:
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


def mask_attributes(batch: Batch, encoder: GNNEncoder, *, rate: float = 0.2) -> Batch:
    """Replace each node's features by the mask token (zeros for float features) with probability ``rate``."""
    mask = torch.rand(batch.num_nodes, device=batch.x.device) < rate
    out = batch.clone()
    out.x = mask_node_features(encoder, batch.x, mask)
    return out


AUGMENTATIONS = {
    "drop_nodes": drop_nodes,
    "drop_edges": drop_edges,
    "mask_attributes": mask_attributes,
    "subgraph": sample_subgraph,
}
