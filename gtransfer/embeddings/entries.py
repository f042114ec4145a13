"""The one kind of graph embedding entry: its key (:func:`embedding_fields`) and its computation
(:func:`graph_embeddings`), behind ``gtransfer embed`` (:mod:`.dataset`) and ``gtransfer rank``, the trial kinds and
the service layer (:mod:`.targets`) alike.

An entry holds the embeddings of some rows of a dataset under an encoder -- ``features.npy`` and, when the
dataset's samples carry labels, ``labels.npy`` -- and is keyed, in the one
:class:`~gtransfer.embeddings.cache.ArrayCache`, by every field that determines it: the encoder's identity (its
spec and a checkpoint's SHA-256), the dataset and its size, the level, the node input (a molecule featuriser or a
float width), the pooling (graph level; the encoder's own when none is asked for, written out), the layer
(``None``: the jumping-knowledge output) and the rows (``None`` for every row, else the SHA-256 of their ids, in
order). There is no other key: whoever asks (any pooling, any layer, node or graph level, any split or
``max_samples`` selection) gets the entry of these fields, so an entry of one request is served for another only
when every field agrees.

One rule decides how rows are embedded: a selection of at least half of a graph dataset (and any node-level
selection) is read from the whole dataset's entry, embedded once, so every task, class subset and split of a
dataset shares it; a smaller selection is embedded alone and kept as its own entry. A selection read from the whole
entry is kept as its own entry only when asked (``keep_rows``: ``gtransfer embed`` hands out a file of exactly its
rows); else it is cut in memory.

Entries written before this schema (``gtransfer embed``'s format 3 and rank's ``graph-target-embedding``
entries, before 2026-12-07) have other fields, so their keys are never asked for: they are recomputed once under
this one, never read.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gtransfer.embeddings.cache import ArrayCache, CacheEntry

if TYPE_CHECKING:
    from torch import nn
    from torch_geometric.data import Dataset

    from gtransfer.models.specs import EncoderSpec

__all__ = ["EMBEDDING_KIND", "EMBEDDING_FORMAT", "GraphEmbeddings", "embedding_fields", "graph_embeddings"]

#: the ``kind`` and ``format`` fields of every graph embedding entry
EMBEDDING_KIND = "graph-embedding"
EMBEDDING_FORMAT = 1


@dataclass(frozen=True)
class GraphEmbeddings:
    """The embeddings (n, D) float32 of the rows asked for, their labels (``None`` when the dataset's samples carry
    none) and the cache entry that holds exactly these rows (``None`` when they were cut in memory from the whole
    dataset's entry, or computed without a cache)."""

    features: np.ndarray
    labels: np.ndarray | None
    entry: CacheEntry | None


def embedding_fields(
    spec: EncoderSpec,
    dataset_name: str,
    *,
    level: str,
    node_input: str | int,
    pooling: str,
    layer: int | None,
    size: int,
    rows: np.ndarray | None,
) -> dict[str, Any]:
    """The key fields of the embedding entry of ``rows`` (``None``: every row) of a dataset under an encoder.

    The one place an embedding entry's key is built (see the module docstring).

    Args:
        spec: the resolved encoder; its :attr:`~gtransfer.models.specs.EncoderSpec.identity` enters the key.
        dataset_name: the :func:`gtransfer.data.load_dataset` name.
        level: ``"graph"`` or ``"node"``.
        node_input: what the encoder read per node: a molecule featuriser name or a float feature width.
        pooling: the graph pooling applied (``"mean"``, ``"sum"``, ``"max"``); not a field of node-level entries.
        layer: the layer embedded, ``None`` for the jumping-knowledge output.
        size: the dataset's number of graphs (graph level) or nodes (node level).
        rows: graph (or node) ids in order, or ``None`` for all of them.

    >>> from gtransfer.models.specs import resolve_encoder
    >>> fields = embedding_fields(resolve_encoder("random:gin"), "MUTAG", level="graph", node_input=7,
    ...                           pooling="max", layer=-2, size=188, rows=None)
    >>> fields["pooling"], fields["layer"], fields["samples"]
    ('max', -2, None)
    """
    if level not in ("graph", "node"):
        raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
    samples = None if rows is None else hashlib.sha256(_row_ids(rows).tobytes()).hexdigest()
    return {
        "kind": EMBEDDING_KIND,
        "format": EMBEDDING_FORMAT,
        "encoder": spec.identity,
        "dataset": dataset_name,
        "size": int(size),
        "level": level,
        "node_input": node_input,
        "pooling": pooling if level == "graph" else None,
        "layer": layer,
        "samples": samples,
    }


def graph_embeddings(
    spec: EncoderSpec,
    dataset: Dataset,
    dataset_name: str,
    *,
    level: str,
    node_input: str | int,
    pooling: str | None = None,
    layer: int | None = None,
    rows: np.ndarray | None = None,
    keep_rows: bool = False,
    encoder: nn.Module | None = None,
    cache: str | os.PathLike | None = None,
    device: str | None = None,
    batch_size: int = 128,
    progress: bool = False,
) -> GraphEmbeddings:
    """Embeddings of ``rows`` of ``dataset`` (a whole loaded dataset) under a resolved encoder, through the one
    embedding entry of :func:`embedding_fields`.

    The one function that computes embedding entries (the rule for whole and alone: the module docstring).

    Args:
        spec: the resolved encoder.
        dataset: the whole dataset, as loaded (graph ids index its graphs; node ids its nodes, graph after graph).
        dataset_name: its :func:`gtransfer.data.load_dataset` name (a key field).
        level: ``"graph"`` or ``"node"``.
        node_input: what the encoder reads per node: a molecule featuriser, or the float feature width (the input
            a ``random:`` encoder is built for).
        pooling: graph pooling; ``None`` is the encoder's own (:attr:`~gtransfer.models.specs.EncoderSpec.pooling`,
            or ``encoder``'s), which the key writes out, so ``None`` and the pooling it stands for share one entry.
        layer: embed layer ``layer`` instead of the jumping-knowledge output (``None``).
        rows: graph (or node) ids, in the order wanted; ``None`` for every row, in dataset order.
        keep_rows: keep a selection read from the whole dataset's entry as its own entry (so that
            :attr:`GraphEmbeddings.entry` holds exactly ``rows``); a selection embedded alone is always kept.
        encoder: an already loaded encoder to use instead of ``spec.load`` (a published file opened with an
            explicit architecture); its identity must be ``spec``'s.
        cache: the cache folder (the entries' parent); ``None`` computes without caching.
        device: where the encoder runs (default: CUDA when available); the entry does not depend on it.
        batch_size: graphs per batch; it changes how, not what, is computed.
        progress: a progress bar (with ETA) over the batches.
    """
    if level not in ("graph", "node"):
        raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
    if level == "graph":
        pooling = pooling or getattr(encoder, "pooling", None) or spec.pooling
    size = len(dataset) if level == "graph" else sum(int(graph.num_nodes) for graph in _graphs(dataset))
    if rows is not None:
        rows = _row_ids(rows)
        if rows.size and (rows.min() < 0 or rows.max() >= size):
            raise ValueError(f"rows of {dataset_name} must lie in 0..{size - 1}; got {rows.min()}..{rows.max()}")
    fields = embedding_fields(spec, dataset_name, level=level, node_input=node_input, pooling=str(pooling),
                              layer=layer, size=size, rows=rows)
    whole = rows is None or level == "node" or rows.size * 2 >= size

    def embed(subset: Any) -> np.ndarray:
        from torch_geometric.loader import DataLoader

        from gtransfer.embeddings.embed import embed_loader
        from gtransfer.training.batching import resolve_device

        net = encoder if encoder is not None else spec.load(node_features=node_input)
        loader = DataLoader(subset, batch_size=1 if level == "node" else batch_size, shuffle=False)
        kwargs: dict[str, Any] = {"level": level, "layer": layer}
        if level == "graph":
            kwargs["pooling"] = pooling
        return embed_loader(net, _with_progress(loader, progress, f"embed {dataset_name}"),
                            device=resolve_device(device), **kwargs)

    def compute() -> dict[str, np.ndarray]:
        if rows is None:
            features = embed(dataset)
        elif whole:  # kept as its own entry (keep_rows): cut from the whole dataset's entry
            features = graph_embeddings(spec, dataset, dataset_name, level=level, node_input=node_input,
                                        pooling=pooling, layer=layer, encoder=encoder, cache=cache, device=device,
                                        batch_size=batch_size, progress=progress).features[rows]
        else:
            import torch

            features = embed(dataset[torch.as_tensor(rows, dtype=torch.long)])
        labels = _labels(dataset, level, rows)
        return {"features": features} if labels is None else {"features": features, "labels": labels}

    if rows is not None and whole and not (keep_rows and cache is not None):  # cut from the whole in memory
        base = graph_embeddings(spec, dataset, dataset_name, level=level, node_input=node_input, pooling=pooling,
                                layer=layer, encoder=encoder, cache=cache, device=device, batch_size=batch_size,
                                progress=progress)
        return GraphEmbeddings(base.features[rows], _labels(dataset, level, rows), None)
    if cache is None:
        arrays = compute()
        return GraphEmbeddings(arrays["features"], arrays.get("labels"), None)
    entry = ArrayCache(cache).get_or_compute(fields, compute, info={"encoder": spec.text})
    return GraphEmbeddings(entry.load("features"), entry.load("labels") if "labels" in entry.files else None, entry)


def _row_ids(rows: np.ndarray) -> np.ndarray:
    """``rows`` as a contiguous int64 vector (what the key's digest reads)."""
    ids = np.asarray(rows)
    if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
        raise ValueError(f"rows must be a vector of integer ids, got shape {ids.shape} and dtype {ids.dtype}")
    return np.ascontiguousarray(ids, dtype=np.int64)


def _graphs(dataset: Dataset) -> Iterable[Any]:
    return [dataset[0]] if len(dataset) == 1 else dataset


def _labels(dataset: Dataset, level: str, rows: np.ndarray | None) -> np.ndarray | None:
    """The labels of ``rows`` (``None``: every row) as the dataset carries them, or ``None`` where it carries none:
    graph level (n,) or (n, T) (NaN kept: molecules, every task at once); node level the first graph's node labels.

    Integer-valued float labels without NaN become int64 and a single column (n, 1) becomes (n,)."""
    if level == "node":
        if len(dataset) != 1 or getattr(dataset[0], "y", None) is None:
            return None
        labels = dataset[0].y.numpy()
    else:
        store = getattr(dataset, "_data", None)
        y = getattr(store, "y", None)
        if getattr(dataset, "_indices", None) is None and y is not None and y.shape[0] == len(dataset):
            labels = y.reshape(len(dataset), -1).numpy()
        elif getattr(dataset[0], "y", None) is not None:
            import torch

            labels = torch.cat([graph.y.view(1, -1) for graph in dataset]).numpy()
        else:
            return None
    labels = np.asarray(labels if rows is None else labels[rows])
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if np.issubdtype(labels.dtype, np.floating) and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)
    return labels


def _with_progress(loader: Iterable, enabled: bool, desc: str) -> Iterable:
    """``loader`` wrapped in a tqdm bar (batches, ETA) when ``enabled``."""
    if not enabled:
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=desc, unit="batch", dynamic_ncols=True)
