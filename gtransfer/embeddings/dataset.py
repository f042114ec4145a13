"""Embeddings of a whole dataset (or split) from an encoder file, cached on disk.

An entry of the one embedding cache (:class:`gtransfer.embeddings.cache.ArrayCache`, folder
``<cache>/embeddings``) is keyed by (encoder identity -- the spec and a checkpoint's SHA-256 --,
dataset, split, featuriser, pooling, layer, level, subsample): the same request is served from the
cache without touching the encoder. The entry holds
``features.npy`` and, when the data has labels, ``labels.npy``. The command is ``gtransfer embed``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gtransfer.embeddings.cache import ArrayCache
from gtransfer.embeddings.embed import embed_loader
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
          root: str | os.PathLike | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(rows, labels)``: the graph (or node) ids to embed, in order, and their labels; ``(None, None)`` for all
    rows; ``labels`` None where the graphs' own ``y`` holds them (molecules: every task at once, NaN kept).

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
        return None, None
    molecule = dataset_kind(name) == "molecule"
    if molecule and max_samples is None:  # the scaffold split, every task at once
        return np.sort(np.asarray(data.get_idx_split()[split], dtype=np.int64)), None
    target = load_target(name, root=root, seed=seed, dataset=data)
    if target.level != level:
        raise ValueError(
            f"{name} is a {target.level}-level dataset: its splits and --max-samples choose {target.level}s; "
            f"use level={target.level!r} (--level {target.level}), or split='all' without max_samples"
        )
    target = subsample_target(target, max_samples, seed=seed)
    positions = np.arange(target.indices.size) if split == "all" else target.splits[split]
    return target.indices[positions], None if molecule else target.labels[positions]


def _clean_labels(labels: np.ndarray) -> np.ndarray:
    """(n, 1) -> (n,); float labels that are all whole numbers -> int64. Multi-task (n, T) with NaN stays float."""
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if np.issubdtype(labels.dtype, np.floating) and np.all(np.isfinite(labels)) and np.all(labels == np.round(labels)):
        labels = labels.astype(np.int64)
    return labels


def embed_dataset(
    encoder: str | os.PathLike | EncoderSpec,
    dataset: str,
    *,
    split: str = "all",
    pooling: str = "mean",
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
        pooling: graph pooling (``"mean"``, ``"sum"``, ``"max"``); ignored for ``level="node"``.
        layer: embed layer ``layer`` (0..L) instead of the jumping-knowledge output.
        level: ``"graph"`` or ``"node"``; default node for Planetoid datasets, graph otherwise.
        featurizer: molecule featuriser; default the encoder's (``None`` for float-feature encoders).
        arch: architecture of a published ``.pth`` file whose name does not say it.
        cache: cache root (default ``GTRANSFER_CACHE`` or ``~/.cache/gtransfer``); entries under ``embeddings/``.
        max_samples: embed at most this many samples: the rule of ``gtransfer rank`` and the trial kinds
            (:func:`gtransfer.data.targets.subsample_target`: the dataset's target cut to at most that many, the
            same share of every split and class, drawn by ``sample_seed``), then ``split``'s rows of it.
        progress: a progress bar (with ETA) over the batches.

    Returns:
        :class:`EmbeddingEntry`; ``from_cache`` says whether it was computed now. Labels are (n,)
        integers for single-task data, (n, T) floats with NaN for missing labels of multi-task molecules.
    """
    from torch_geometric.loader import DataLoader

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
    spec = resolve_encoder(encoder, root)
    model = load_encoder(spec.path, arch=arch) if spec.kind == "file" and arch else None
    if featurizer is None and kind == "molecule":
        featurizer = getattr(model, "featurizer", None) or spec.featurizer
    featurizer = featurizer if kind == "molecule" else "none"
    fields = {
        "encoder": spec.identity,
        "dataset": dataset,
        "split": split,
        "featurizer": featurizer,
        "pooling": pooling if level == "graph" else None,
        "layer": layer,
        "level": level,
        "max_samples": max_samples,
        "sample_seed": sample_seed if (max_samples is not None or kind != "molecule") else None,
        "format": 3,
    }  # 3: --max-samples on molecules follows subsample_target, as rank does
    cache_folder = ArrayCache(cache_dir(cache) / "embeddings")

    def compute() -> dict[str, np.ndarray]:
        data = load_dataset(
            dataset, root=root, **({"featurizer": featurizer, "progress": progress} if kind == "molecule" else {})
        )
        if kind == "molecule" and featurizer in ("hu2020", "ogb"):
            from gtransfer.models.inputs import check_molecule_vocabulary

            check_molecule_vocabulary(data, featurizer, name=dataset)
        rows, row_labels = _rows(dataset, data, split, level, max_samples, sample_seed, root)
        problem = spec.fit_problem(dataset, kind, None if kind == "molecule" else int(data.num_features))
        if problem is not None and model is None:
            raise ValueError(problem)
        node_input = featurizer if kind == "molecule" else int(data.num_features)
        subset = data if level == "node" or rows is None else data[torch.as_tensor(rows)]
        # what rank embeds (the JK output, mean-pooled, of the whole dataset when at least half of it is asked for):
        # one cache entry serves both
        whole = len(data) == 1 if level == "node" else rows is None or rows.size * 2 >= len(data)
        if model is None and pooling == "mean" and layer is None and whole:
            from gtransfer.embeddings.targets import dataset_features

            array = dataset_features(spec, data, dataset, level, node_input, cache=cache_folder.folder, device=device,
                                     batch_size=batch_size)
            if level == "graph" and rows is not None:
                array = array[rows]
        else:
            net = model if model is not None else spec.load(node_features=node_input)
            loader = DataLoader(subset, batch_size=1 if level == "node" else batch_size, shuffle=False)
            kwargs = {"level": level, "layer": layer}
            if level == "graph":
                kwargs["pooling"] = pooling
            array = embed_loader(net, _with_progress(loader, progress, f"embed {dataset}"), device=device, **kwargs)
        if row_labels is not None:
            labels = row_labels
        elif level == "graph" and getattr(subset[0], "y", None) is not None:
            labels = torch.cat([g.y.view(1, -1) for g in subset]).numpy()
        elif level == "node" and getattr(data[0], "y", None) is not None:
            labels = data[0].y.numpy() if len(data) == 1 else None
        else:
            labels = None
        if level == "node" and rows is not None:
            array = array[rows]
            if row_labels is None and labels is not None:
                labels = labels[rows]
        out = {"features": array}
        if labels is not None:
            out["labels"] = _clean_labels(np.asarray(labels))
        return out

    entry = cache_folder.get_or_compute(fields, compute, info={"encoder": spec.text})
    shape = list(entry.metadata["arrays"]["features"]["shape"])
    meta = {**fields, "encoder_text": spec.text, "shape": shape, "dtype": entry.metadata["arrays"]["features"]["dtype"],
            "labels": "labels" in entry.files, "code_version": entry.metadata["code_version"]}
    if "labels" in entry.files:
        meta["labels_shape"] = list(entry.metadata["arrays"]["labels"]["shape"])
    if spec.path is not None:
        meta["checkpoint"] = str(spec.path)
        meta["checkpoint_sha256"] = spec.identity.get("sha256")
    return EmbeddingEntry(entry.files["features"], entry.files.get("labels"), meta, from_cache=entry.from_cache)


def _with_progress(loader: Iterable, enabled: bool, desc: str) -> Iterable:
    """``loader`` wrapped in a tqdm bar (batches, ETA) when ``enabled``."""
    if not enabled:
        return loader
    from tqdm.auto import tqdm

    return tqdm(loader, desc=desc, unit="batch", dynamic_ncols=True)
