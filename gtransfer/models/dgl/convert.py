"""Convert between PyG ``Data``/``Batch`` and ``dgl.DGLGraph`` (batched graphs included).

What maps to what:

* structure: ``edge_index[0]``/``edge_index[1]`` <-> the source/destination of each DGL edge, in
  edge-ID order; the node count (isolated nodes included) is kept.
* features: PyG ``x`` <-> ``ndata["feat"]`` and ``edge_attr`` <-> ``edata["feat"]`` (DGL's own
  datasets use ``"feat"``); every other node-level or edge-level tensor keeps its name.
* batches: a PyG ``Batch`` of B graphs <-> a batched DGLGraph with ``batch_size`` B and the same
  per-graph node and edge counts (PyG's ``batch``/``ptr`` vectors are rebuilt, not stored).
* graph-level attributes (``y``, SMILES strings, ...) have no place on a DGLGraph: ask for them with
  ``with_graph_attrs=True``; otherwise a warning names those left out. ``dgl_to_pyg`` puts them back.

Tensors are shared, not copied, where the two libraries allow it.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from gtransfer.models.dgl_requirement import require_dgl

if TYPE_CHECKING:
    from torch_geometric.data import Batch, Data

dgl = require_dgl()

__all__ = ["pyg_to_dgl", "dgl_to_pyg", "pyg_structure_to_dgl", "graph_index", "FEATURE_NAME"]

#: the name PyG's ``x`` and ``edge_attr`` take in ``ndata``/``edata``
FEATURE_NAME = "feat"
_PYG_NODE_FEATURE, _PYG_EDGE_FEATURE = "x", "edge_attr"
_STRUCTURE_KEYS = {"edge_index", "batch", "ptr", "num_nodes"}


def _is_batch(data: Data | Batch) -> bool:
    from torch_geometric.data import Batch

    return isinstance(data, Batch)


def pyg_structure_to_dgl(data: Data | Batch) -> dgl.DGLGraph:
    """The graph structure of a PyG ``Data`` or ``Batch`` as a (batched) DGLGraph, without features.

    Raises:
        ValueError: no ``edge_index``, an ``edge_index`` not of shape (2, E) or pointing past the
            nodes, or a ``Batch`` whose edges are not grouped by graph.
    """
    edge_index = getattr(data, "edge_index", None)
    if edge_index is None:
        raise ValueError("the PyG graph has no edge_index")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"edge_index must have shape (2, E), got {tuple(edge_index.shape)}")
    num_nodes = int(data.num_nodes)
    if edge_index.numel() and int(edge_index.max()) >= num_nodes:
        raise ValueError(f"edge_index refers to node {int(edge_index.max())} but the graph has {num_nodes} nodes")
    src, dst = edge_index.long()
    graph = dgl.graph((src, dst), num_nodes=num_nodes)
    if _is_batch(data):
        node_counts = graph_sizes(data)
        edge_graph = data.batch[src]
        if edge_graph.numel() > 1 and bool((edge_graph[1:] < edge_graph[:-1]).any()):
            raise ValueError("the Batch's edges are not grouped by graph; DGL batches need them in graph order")
        edge_counts = torch.bincount(edge_graph, minlength=data.num_graphs)
        graph.set_batch_num_nodes(node_counts.to(graph.idtype))
        graph.set_batch_num_edges(edge_counts.to(graph.idtype))
    return graph


def graph_sizes(data: Batch) -> Tensor:
    """Node count of each graph of a PyG ``Batch`` (from ``ptr`` when present, else ``batch``)."""
    ptr = getattr(data, "ptr", None)
    if ptr is not None:
        return ptr[1:] - ptr[:-1]
    return torch.bincount(data.batch, minlength=data.num_graphs)


def graph_index(graph: dgl.DGLGraph) -> Tensor:
    """The graph each node of a (batched) DGLGraph belongs to, as PyG's ``batch`` vector (N,)."""
    counts = graph.batch_num_nodes().long()
    return torch.repeat_interleave(torch.arange(counts.numel(), device=counts.device), counts)


def _split_attributes(data: Data | Batch) -> tuple[dict[str, Tensor], dict[str, Tensor], dict[str, Any]]:
    """(node-level, edge-level, graph-level) attributes of a PyG graph, structure keys left out."""
    nodes, edges, graph = {}, {}, {}
    for key, value in data.to_dict().items():
        if key in _STRUCTURE_KEYS or key.startswith("_"):  # structure, or PyG's own bookkeeping (_num_nodes)
            continue
        if isinstance(value, Tensor) and data.is_node_attr(key):
            nodes[key] = value
        elif isinstance(value, Tensor) and data.is_edge_attr(key):
            edges[key] = value
        else:
            graph[key] = value
    return nodes, edges, graph


def pyg_to_dgl(
    data: Data | Batch, *, with_graph_attrs: bool = False
) -> dgl.DGLGraph | tuple[dgl.DGLGraph, dict[str, Any]]:
    """A PyG ``Data`` (or ``Batch``) as a DGLGraph (batched for a ``Batch``), features included.

    Args:
        data: the PyG graph(s).
        with_graph_attrs: also return the graph-level attributes (``y``, ...) as a dict.

    Returns:
        the DGLGraph, or ``(graph, graph_attrs)`` with ``with_graph_attrs=True``.

    Warns:
        UserWarning: graph-level attributes were left out (named), unless ``with_graph_attrs``.
    """
    graph = pyg_structure_to_dgl(data)
    nodes, edges, graph_attrs = _split_attributes(data)
    for key, value in nodes.items():
        graph.ndata[FEATURE_NAME if key == _PYG_NODE_FEATURE else key] = value
    for key, value in edges.items():
        graph.edata[FEATURE_NAME if key == _PYG_EDGE_FEATURE else key] = value
    if with_graph_attrs:
        return graph, graph_attrs
    if graph_attrs:
        warnings.warn(
            f"pyg_to_dgl: {len(graph_attrs)} graph-level attribute(s) {sorted(graph_attrs)} have no place on a "
            "DGLGraph and were left out; pass with_graph_attrs=True to get them back",
            stacklevel=2,
        )
    return graph


def _pyg_name(key: str, feature: str) -> str:
    return feature if key == FEATURE_NAME else key


def _single_to_pyg(graph: dgl.DGLGraph, graph_attrs: dict[str, Any]) -> Data:
    from torch_geometric.data import Data

    src, dst = graph.edges(order="eid")
    data = Data(edge_index=torch.stack([src, dst]).long(), num_nodes=graph.num_nodes())
    clash = {_pyg_name(k, _PYG_NODE_FEATURE) for k in graph.ndata} & {
        _pyg_name(k, _PYG_EDGE_FEATURE) for k in graph.edata
    }
    if clash:
        raise ValueError(f"dgl_to_pyg: {sorted(clash)} name both node and edge data; PyG needs distinct names")
    for key, value in graph.ndata.items():
        data[_pyg_name(key, _PYG_NODE_FEATURE)] = value
    for key, value in graph.edata.items():
        data[_pyg_name(key, _PYG_EDGE_FEATURE)] = value
    for key, value in graph_attrs.items():
        data[key] = value
    return data


def dgl_to_pyg(
    graph: dgl.DGLGraph, *, graph_attrs: dict[str, Any] | None = None, as_batch: bool | None = None
) -> Data | Batch:
    """A DGLGraph as a PyG ``Data``, or a ``Batch`` when it is a batch of several graphs.

    Args:
        graph: a homogeneous DGLGraph (heterographs are not supported).
        graph_attrs: graph-level attributes to attach (as returned by ``pyg_to_dgl(...,
            with_graph_attrs=True)``); for a batch, tensors whose first dimension is the batch size
            are split one row per graph.
        as_batch: force a ``Batch`` (True) or a ``Data`` (False, only for batch size 1); default:
            a ``Batch`` when ``graph.batch_size > 1``.

    Raises:
        ValueError: a heterograph, a node and an edge field mapping to one PyG name, or graph
            attributes that do not split over the batch.
    """
    from torch_geometric.data import Batch

    if not graph.is_homogeneous:
        raise ValueError("dgl_to_pyg supports homogeneous graphs only (this one has several node or edge types)")
    graph_attrs = dict(graph_attrs or {})
    size = graph.batch_size
    if as_batch is None:
        as_batch = size > 1
    if not as_batch:
        if size > 1:
            raise ValueError(f"as_batch=False needs a single graph; this DGLGraph batches {size}")
        return _single_to_pyg(graph, graph_attrs)
    parts = dgl.unbatch(graph) if size > 1 else [graph]
    per_graph: list[dict[str, Any]] = [{} for _ in parts]
    for key, value in graph_attrs.items():
        if isinstance(value, Tensor) and value.dim() > 0 and value.size(0) == size:
            for i in range(size):
                per_graph[i][key] = value[i : i + 1]
        elif isinstance(value, (list, tuple)) and len(value) == size:
            for i in range(size):
                per_graph[i][key] = value[i]
        else:
            raise ValueError(f"graph attribute {key!r} does not have one entry per graph of the batch ({size})")
    return Batch.from_data_list([_single_to_pyg(part, attrs) for part, attrs in zip(parts, per_graph)])
