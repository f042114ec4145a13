"""Graphs as plain arrays, checked once for the graph-structure estimators (:mod:`.graph_egi`, :mod:`.graph_graphon`).

A *graph* is either a tuple ``(num_nodes, edge_index)`` with ``edge_index`` an integer array (numpy or torch)
of shape (2, E), or a square scipy sparse adjacency matrix. A *collection* is a sequence of graphs (a list of
molecules, a dataset). What the checks do with each oddity:

- no node (``num_nodes == 0``), an empty collection, an edge index that is not (2, E) integers, an endpoint
  outside ``[0, num_nodes)``, a non-square matrix: ``ValueError`` naming the graph and the fix;
- a self-loop: ``ValueError`` (the estimators are defined on simple graphs; the message says how to drop them);
- an edge given in one direction only: read as undirected (the adjacency is made symmetric, ``A | A^T``);
  an edge given twice counts once; the weights of a sparse matrix are ignored (every stored non-zero is an edge).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sp

__all__ = ["Graph", "GraphCollection", "as_adjacency", "as_adjacencies", "union_adjacency"]

#: ``(num_nodes, edge_index)`` with edge_index (2, E), or a square scipy sparse adjacency.
Graph: TypeAlias = tuple[int, Any] | sp.spmatrix | sp.sparray
#: One graph, or a sequence of graphs read as one collection.
GraphCollection: TypeAlias = Graph | Sequence[Graph]

_LOOP_FIX = "drop them first, e.g. edge_index[:, edge_index[0] != edge_index[1]] (or A.setdiag(0); A.eliminate_zeros())"


def _is_graph(obj: object) -> bool:
    if sp.issparse(obj):
        return True
    return isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], (int, np.integer))


def _host_array(x: object) -> np.ndarray:
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # a torch tensor, without importing torch
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _checked_edges(graph: Graph, name: str) -> tuple[int, np.ndarray, np.ndarray]:
    """(num_nodes, rows, cols) of a graph, checked (see the module's docstring); rows and cols int64, one
    entry per edge as given (not yet symmetric nor deduplicated)."""
    if sp.issparse(graph):
        matrix: Any = graph
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"{name}: an adjacency matrix must be square, got shape {matrix.shape}")
        n = int(matrix.shape[0])
        coo = sp.coo_matrix(matrix)
        keep = coo.data != 0
        rows, cols = coo.row[keep].astype(np.int64), coo.col[keep].astype(np.int64)
    elif _is_graph(graph):
        n = int(graph[0])
        edges = _host_array(graph[1])
        if edges.size == 0:
            edges = edges.reshape(2, 0).astype(np.int64)
        if edges.ndim != 2 or edges.shape[0] != 2:
            raise ValueError(f"{name}: edge_index must have shape (2, E), got {edges.shape}; "
                             "transpose an (E, 2) edge list with edge_list.T")
        if not np.issubdtype(edges.dtype, np.integer):
            raise ValueError(f"{name}: edge_index must hold integers, got dtype {edges.dtype}")
        rows, cols = edges.astype(np.int64, copy=False)
        if rows.size and (min(rows.min(), cols.min()) < 0 or max(rows.max(), cols.max()) >= n):
            bad = int(np.count_nonzero((rows < 0) | (rows >= n) | (cols < 0) | (cols >= n)))
            raise ValueError(f"{name}: {bad} edges have an endpoint outside [0, {n}) (num_nodes = {n}); "
                             "num_nodes must count every node the edges name")
    else:
        raise TypeError(
            f"{name}: a graph is (num_nodes, edge_index) or a scipy sparse adjacency, got {type(graph).__name__}"
        )
    if n <= 0:
        raise ValueError(f"{name}: the graph has no node (num_nodes = {n}); leave empty graphs out of the collection")
    loops = int(np.count_nonzero(rows == cols))
    if loops:
        raise ValueError(f"{name}: {loops} self-loops; the estimators are defined on simple graphs: {_LOOP_FIX}")
    return n, rows, cols


def _symmetric(n: int, rows: np.ndarray, cols: np.ndarray) -> sp.csr_matrix:
    """The symmetric 0/1 CSR adjacency (int8, sorted indices) of the edges (rows, cols) on n nodes."""
    data = np.ones(2 * rows.size, dtype=np.int8)
    adjacency = sp.csr_matrix((data, (np.concatenate([rows, cols]), np.concatenate([cols, rows]))), shape=(n, n))
    adjacency.sum_duplicates()
    adjacency.data[:] = 1
    adjacency.sort_indices()
    return adjacency


def as_adjacency(graph: Graph, *, name: str = "graph") -> sp.csr_matrix:
    """The graph's symmetric 0/1 adjacency as a CSR matrix (int8, no diagonal, sorted indices).

    Raises ValueError for a graph without nodes, a malformed edge index, an endpoint out of range, a
    non-square matrix or a self-loop; a one-directional edge is read as undirected (see the module's
    docstring).

    Examples:
        >>> import numpy as np
        >>> as_adjacency((3, np.array([[0, 1], [1, 2]]))).toarray().tolist()
        [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    return _symmetric(*_checked_edges(graph, name))


def union_adjacency(graphs: GraphCollection, *, name: str = "graphs") -> sp.csr_matrix:
    """One graph, or the disjoint union of a collection (graph i's nodes after those of graphs 0..i-1), as
    :func:`as_adjacency` makes it; each graph is checked as there.

    Examples:
        >>> import numpy as np
        >>> edge = (2, np.array([[0], [1]]))
        >>> union_adjacency([edge, edge]).toarray().tolist()
        [[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]]
    """
    if _is_graph(graphs):
        return as_adjacency(graphs, name=name)
    _check_collection(graphs, name)
    rows, cols = [], []
    offset = 0
    for index, graph in enumerate(graphs):
        n, r, c = _checked_edges(graph, f"{name}[{index}]")
        rows.append(r + offset)
        cols.append(c + offset)
        offset += n
    return _symmetric(offset, np.concatenate(rows), np.concatenate(cols))


def _check_collection(graphs: object, name: str) -> None:
    if isinstance(graphs, (str, bytes)) or not isinstance(graphs, Sequence):
        raise TypeError(
            f"{name}: expected a graph ((num_nodes, edge_index) or a scipy sparse adjacency) or a sequence of "
            f"graphs, got {type(graphs).__name__}"
        )
    if len(graphs) == 0:
        raise ValueError(f"{name}: the collection holds no graph")


def as_adjacencies(graphs: GraphCollection, *, name: str = "graphs") -> list[sp.csr_matrix]:
    """One graph or a collection of graphs as a list of checked adjacencies (:func:`as_adjacency`)."""
    if _is_graph(graphs):
        return [as_adjacency(graphs, name=name)]
    _check_collection(graphs, name)
    return [as_adjacency(graph, name=f"{name}[{index}]") for index, graph in enumerate(graphs)]
