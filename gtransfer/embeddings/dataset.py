"""Embeddings of a whole dataset (or split) from an encoder file, cached on disk.

The rows asked for (a split, a ``max_samples`` cut) are embedded through
:func:`gtransfer.embeddings.entries.graph_embeddings`, the one entry schema of the embedding cache
(``<cache>/embeddings``), shared with ``gtransfer rank``: an entry is keyed by the encoder's identity (the spec and a
checkpoint's SHA-256), the dataset, level, node input, pooling, layer and the rows themselves, so the same request
-- from either command -- is served from the cache without running the encoder. The entry returned holds exactly
the rows asked for: ``features.npy`` and, when the data has labels, ``labels.npy``. The command is
``gtransfer embed``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from gtransfer.embeddings.entries import graph_embeddings
from gtransfer.models.specs import EncoderSpec, resolve_encoder

if TYPE_CHECKING:
    from torch_geometric.data import InMemoryDataset

__all__ = ["EmbeddingEntry", "embed_dataset", "SPLITS"]

SPLITS = ("all", "train", "valid", "test")


@dataclass(frozen=True)
class EmbeddingEntry:
    """A cached dataset embedding: the array file, its labels' file (or ``None``) and metadata."""

    path: Path
    labels_path: Path | None
    metadata: dict[str, Any]
    from_cache: bool

    def load(self) -> np.ndarray:
        return np.load(self.path, allow_pickle=False)

    def load_labels(self) -> np.ndarray | None:
        return None if self.labels_path is None else np.load(self.labels_path, allow_pickle=False)


def _rows(name: str, data: InMemoryDataset, split: str, level: str, max_samples: int | None, seed: int,
          root: str | os.PathLike | None) -> np.ndarray | None:
    """The graph (or node) ids to embed, in order; ``None`` for all rows.

    The splits are the target grammar's (:func:`gtransfer.data.targets.load_target`), so a split here
    is the same set as in ``gtransfer rank``: molecules their scaffold split, Planetoid and TU datasets
    a stratified 80/10/10 split by ``seed`` (Cora's train split is 2,166 nodes, not the 140-node public mask).
    ``max_samples`` follows the one sampling rule of ``rank`` and the trial kinds
    (:func:`gtransfer.data.targets.subsample_target`): the dataset's target cut to at most that many samples,
    the same share of every split and class, drawn by ``seed``; then the split's rows of what is left.
    """
    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.targets import load_target, subsample_target

    if split == "all" and max_samples is None:
        return None
    if dataset_kind(name) == "molecule" and max_samples is None:  # the scaffold split, every task at once
        return np.sort(np.asarray(data.get_idx_split()[split], dtype=np.int64))
    target = load_target(name, root=root, seed=seed, dataset=data)
    if target.level != level:
        raise ValueError(
            f"{name} is a {target.level}-level dataset: its splits and --max-samples choose {target.level}s; "
            f"use level={target.level!r} (--level {target.level}), or split='all' without max_samples"
        )
    target = subsample_target(target, max_samples, seed=seed)
    positions = np.arange(target.indices.size) if split == "all" else target.splits[split]
    return target.indices[positions]


def embed_dataset(
    encoder: str | os.PathLike | EncoderSpec,
    dataset: str,
    *,
    split: str = "all",
    pooling: str | None = "mean",
    layer: int | None = None,
    level: str | None = None,
    featurizer: str | None = None,
    arch: str | None = None,
    root: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    batch_size: int = 256,
    device: str | None = None,
    max_samples: int | None = None,
    sample_seed: int = 0,
    progress: bool = False,
) -> EmbeddingEntry:
    """Embed ``dataset`` (a :func:`gtransfer.data.load_dataset` name) with ``encoder``.

    Args:
        encoder: an encoder string (:mod:`gtransfer.models.specs`: a checkpoint path, ``published:NAME``,
            ``random:ARCH[:layers=L,dim=D,seed=S]``) or spec.
        split: ``"all"`` or ``"train"``/``"valid"``/``"test"``: the target grammar's split (molecules:
            scaffold; Planetoid and TU: stratified 80/10/10 by ``sample_seed``), as in ``gtransfer rank``.
        pooling: graph pooling (``"mean"``, ``"sum"``, ``"max"``; ``None``: the encoder's own, what ``gtransfer rank``
            embeds with); ignored for ``level="node"``.
        layer: embed layer ``layer`` (0..L) instead of the jumping-knowledge output.
        level: ``"graph"`` or ``"node"``; default node for Planetoid datasets, graph otherwise.
        featurizer: molecule featuriser; default the encoder's (``None`` for float-feature encoders).
        arch: architecture of a published ``.pth`` file whose name does not say it.
        cache: cache root (default ``GTRANSFER_CACHE`` or ``~/.cache/gtransfer``); entries under ``embeddings/``.
        max_samples: embed at most this many samples: the rule of ``gtransfer rank`` and the trial kinds
            (:func:`gtransfer.data.targets.subsample_target`: the dataset's target cut to at most that many, the
            same share of every split and class, drawn by ``sample_seed``), then ``split``'s rows of it.
        progress: a progress bar (with ETA) over the batches.

    The rows are embedded through the one entry schema (:func:`gtransfer.embeddings.entries.graph_embeddings`):
    what ``gtransfer rank`` embedded for the same encoder, dataset, pooling and layer is reused, and the entry
    returned holds exactly the rows asked for.

    Returns:
        :class:`EmbeddingEntry`; ``from_cache`` says whether it was computed now. Labels are (n,)
        integers for single-task data, (n, T) floats with NaN for missing labels of multi-task molecules.
    """
    from gtransfer.data import load_dataset
    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.roots import cache_dir
    from gtransfer.models import load_encoder

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    kind = dataset_kind(dataset)
    level = level or ("node" if kind == "planetoid" else "graph")
    if level not in ("graph", "node"):
        raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
    if isinstance(encoder, os.PathLike):
        encoder = str(encoder)
    spec = resolve_encoder(encoder, root=root)
    model = load_encoder(spec.path, arch=arch) if spec.kind == "file" and spec.path is not None and arch else None
    if featurizer is None and kind == "molecule":
        featurizer = getattr(model, "featurizer", None) or spec.featurizer
    data = load_dataset(
        dataset, root=root, **({"featurizer": featurizer, "progress": progress} if kind == "molecule" else {})
    )
    if kind == "molecule" and featurizer in ("hu2020", "ogb"):
        from gtransfer.models.inputs import check_molecule_vocabulary

        check_molecule_vocabulary(data, featurizer, name=dataset)
    problem = spec.fit_problem(dataset, kind, num_features=None if kind == "molecule" else int(data.num_features))
    if problem is not None and model is None:
        raise ValueError(problem)
    node_input: str | int = str(featurizer) if kind == "molecule" else int(data.num_features)
    rows = _rows(dataset, data, split, level, max_samples, sample_seed, root)
    embedded = graph_embeddings(spec, data, dataset, level=level, node_input=node_input, pooling=pooling, layer=layer,
                                rows=rows, keep_rows=True, encoder=model, cache=cache_dir(cache) / "embeddings",
                                device=device, batch_size=batch_size, progress=progress)
    entry = embedded.entry
    assert entry is not None  # a cache was given and the rows kept: the entry holds exactly them
    fields = entry.metadata["fields"]
    features = entry.metadata["arrays"]["features"]
    meta = {**fields, "split": split, "max_samples": max_samples, "sample_seed": sample_seed,
            "encoder_text": spec.text, "shape": list(features["shape"]), "dtype": features["dtype"],
            "labels": "labels" in entry.files, "code_version": entry.metadata["code_version"]}
    if "labels" in entry.files:
        meta["labels_shape"] = list(entry.metadata["arrays"]["labels"]["shape"])
    if spec.path is not None:
        meta["checkpoint"] = str(spec.path)
        meta["checkpoint_sha256"] = spec.identity.get("sha256")
    return EmbeddingEntry(entry.files["features"], entry.files.get("labels"), meta, from_cache=entry.from_cache)
