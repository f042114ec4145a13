"""A graph dataset collated once onto a device, and mini-batches gathered from it by index.

:class:`DeviceGraphs` holds every graph of a dataset as one flat set of tensors on the device: node
features ``x`` (N, F), edge indices *local to their graph* (2, E), edge features (E, F_e), per-graph
node and edge offsets (``node_ptr``, ``edge_ptr``, (G + 1,)) and labels ``y`` (G, ...). A
:class:`BatchPlan` turns a sequence of graph ids into mini-batches without any per-step CPU
collation or host-device copy: the node/edge gather indices of a whole epoch are computed on the
device in one pass, and each step only slices them (the slice bounds are host integers, known
from the per-graph sizes that are kept on the host as well).

The batches have the PyG ``Batch`` fields the encoders read: ``x``, ``edge_index`` (batch-global
node ids), ``edge_attr``, ``batch`` (N_b,) and ``num_graphs``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["DeviceGraphs", "GraphBatch", "BatchPlan"]


@dataclass
class GraphBatch:
    """A mini-batch gathered on the device; ``positions`` are the rows of its graphs in ``y``."""

    x: Tensor
    edge_index: Tensor
    edge_attr: Tensor | None
    batch: Tensor
    num_graphs: int
    y: Tensor
    positions: Tensor


class DeviceGraphs:
    """Graphs collated once onto ``device``.

    Args:
        graphs: PyG ``Data`` objects with ``x`` and ``edge_index`` (``edge_attr`` optional, but all or none).
        labels: (G, ...) label rows, one per graph (float with NaN for missing, or integer classes).
        device: where the tensors live.
        float_dtype: dtype of float node/edge features (integer features keep their dtype).

    Raises:
        ValueError: no graphs, a graph without ``x``, labels whose row count is not the graph count,
            or edge features on some graphs but not on others (the message names the first offender).
    """

    def __init__(self, graphs: Sequence[Any], labels: Tensor | np.ndarray, *, device: torch.device | str = "cpu",
                 float_dtype: torch.dtype = torch.float32) -> None:
        if len(graphs) == 0:
            raise ValueError("DeviceGraphs needs at least one graph")
        labels = torch.as_tensor(labels)
        if labels.size(0) != len(graphs):
            raise ValueError(f"DeviceGraphs: {labels.size(0)} label rows for {len(graphs)} graphs")
        has_edge_attr = getattr(graphs[0], "edge_attr", None) is not None
        xs, edges, attrs = [], [], []
        node_counts = np.zeros(len(graphs), dtype=np.int64)
        edge_counts = np.zeros(len(graphs), dtype=np.int64)
        for i, g in enumerate(graphs):
            if getattr(g, "x", None) is None:
                raise ValueError(f"DeviceGraphs: graph {i} has no node features x")
            if (getattr(g, "edge_attr", None) is not None) != has_edge_attr:
                raise ValueError(
                    f"DeviceGraphs: graph {i} {'lacks' if has_edge_attr else 'has'} edge_attr, unlike graph 0"
                )
            xs.append(g.x)
            edges.append(g.edge_index)
            if has_edge_attr:
                attrs.append(g.edge_attr)
            node_counts[i] = g.x.size(0)
            edge_counts[i] = g.edge_index.size(1)
        device = torch.device(device)
        x = torch.cat(xs)
        self.x = (x.to(float_dtype) if x.is_floating_point() else x).to(device)
        self.edge_index = torch.cat(edges, dim=1).long().to(device)
        edge_attr = torch.cat(attrs) if has_edge_attr else None
        if edge_attr is not None and edge_attr.is_floating_point():
            edge_attr = edge_attr.to(float_dtype)
        self.edge_attr = edge_attr.to(device) if edge_attr is not None else None
        self.y = (labels.to(float_dtype) if labels.is_floating_point() else labels.long()).to(device)
        #: per-graph sizes and offsets, on the host (for slice bounds) and on the device (for gathers)
        self.node_counts, self.edge_counts = node_counts, edge_counts
        self.node_ptr_host = np.concatenate([[0], np.cumsum(node_counts)])
        self.edge_ptr_host = np.concatenate([[0], np.cumsum(edge_counts)])
        self.node_ptr = torch.as_tensor(self.node_ptr_host, device=device)
        self.edge_ptr = torch.as_tensor(self.edge_ptr_host, device=device)
        self.device = device

    def __len__(self) -> int:
        return len(self.node_counts)

    def plan(self, order: Sequence[int] | np.ndarray | Tensor, batch_size: int) -> BatchPlan:
        """Mini-batches of ``batch_size`` graphs, in ``order`` (positions into this dataset)."""
        return BatchPlan(self, np.asarray(order, dtype=np.int64), batch_size)


def _segment_arange(starts: Tensor, counts: Tensor, total: int) -> Tensor:
    """Concatenation of ``arange(starts[i], starts[i] + counts[i])`` over i, on the device, no sync."""
    offsets = torch.cumsum(counts, 0) - counts
    base = torch.repeat_interleave(starts - offsets, counts, output_size=total)
    return base + torch.arange(total, device=starts.device)


class BatchPlan:
    """The batches of one pass over ``order``: gather indices computed once, each batch a slice.

    Args:
        graphs: the collated dataset.
        order: graph positions, in the order they are visited.
        batch_size: graphs per batch (the last batch may be smaller).
    """

    def __init__(self, graphs: DeviceGraphs, order: np.ndarray, batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if order.size == 0:
            raise ValueError("a batch plan needs at least one graph")
        self.graphs, self.order, self.batch_size = graphs, order, batch_size
        device = graphs.device
        node_counts = graphs.node_counts[order]
        edge_counts = graphs.edge_counts[order]
        self._graph_bounds = list(range(0, order.size, batch_size)) + [order.size]
        node_cum = np.concatenate([[0], np.cumsum(node_counts)])
        edge_cum = np.concatenate([[0], np.cumsum(edge_counts)])
        self._node_bounds = node_cum[self._graph_bounds].tolist()
        self._edge_bounds = edge_cum[self._graph_bounds].tolist()
        order_dev = torch.as_tensor(order, device=device)
        n_counts = torch.as_tensor(node_counts, device=device)
        e_counts = torch.as_tensor(edge_counts, device=device)
        total_nodes, total_edges = int(node_cum[-1]), int(edge_cum[-1])
        self._node_index = _segment_arange(graphs.node_ptr[order_dev], n_counts, total_nodes)
        self._edge_index = _segment_arange(graphs.edge_ptr[order_dev], e_counts, total_edges)
        # pass-wide node offset of each edge's graph and pass-wide graph slot of each node
        graph_slot = torch.arange(order.size, device=device)
        node_offset = torch.as_tensor(node_cum[:-1], device=device)
        self._edge_node_offset = torch.repeat_interleave(node_offset, e_counts, output_size=total_edges)
        self._node_graph_slot = torch.repeat_interleave(graph_slot, n_counts, output_size=total_nodes)
        self._order_dev = order_dev

    def __len__(self) -> int:
        return len(self._graph_bounds) - 1

    def batch(self, i: int) -> GraphBatch:
        """Batch ``i`` (0-based): slices of the pass-wide indices plus two integer shifts."""
        g0, g1 = self._graph_bounds[i], self._graph_bounds[i + 1]
        n0, n1 = self._node_bounds[i], self._node_bounds[i + 1]
        e0, e1 = self._edge_bounds[i], self._edge_bounds[i + 1]
        graphs = self.graphs
        node_index = self._node_index[n0:n1]
        edge_index = self._edge_index[e0:e1]
        local = graphs.edge_index[:, edge_index] + (self._edge_node_offset[e0:e1] - n0)
        positions = self._order_dev[g0:g1]
        return GraphBatch(
            x=graphs.x[node_index],
            edge_index=local,
            edge_attr=graphs.edge_attr[edge_index] if graphs.edge_attr is not None else None,
            batch=self._node_graph_slot[n0:n1] - g0,
            num_graphs=g1 - g0,
            y=graphs.y[positions],
            positions=positions,
        )

    def __iter__(self):  # noqa: ANN204 - a generator of GraphBatch
        for i in range(len(self)):
            yield self.batch(i)
