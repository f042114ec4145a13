"""Embeddings of a whole dataset (or split) from an encoder file, cached on disk.

An entry of the one embedding cache (:class:`gtransfer.embeddings.cache.ArrayCache`, folder
``<cache>/embeddings``) is keyed by (checkpoint SHA-256, dataset, split, featuriser, pooling, layer,
level): the same request is served from the cache without touching the encoder. The entry holds
``features.npy`` and, when the data has labels, ``labels.npy``. The command is ``gtransfer embed``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from gtransfer.embeddings.cache import ArrayCache
from gtransfer.embeddings.embed import embed_loader
from gtransfer.io.digests import file_sha256

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


def _select(dataset: InMemoryDataset, split: str, level: str) -> tuple[InMemoryDataset, torch.Tensor | None]:
    """(data to embed, row index for node-level Planetoid masks or None)."""
    if split == "all":
        return dataset, None
    if level == "node":
        data = dataset[0]
        mask = getattr(data, f"{'val' if split == 'valid' else split}_mask", None)
        if mask is None:
            raise ValueError(f"the dataset has no {split} node mask")
        return dataset, mask.nonzero().view(-1)
    if not hasattr(dataset, "get_idx_split"):
        raise ValueError(f"the dataset has no predefined splits; use split='all' (got {split!r})")
    return dataset[torch.as_tensor(dataset.get_idx_split()[split])], None


def embed_dataset(
    checkpoint: str | os.PathLike,
    dataset: str,
    split: str = "all",
    pooling: str = "mean",
    layer: int | None = None,
    level: str = "graph",
    featurizer: str | None = None,
    arch: str | None = None,
    root: str | os.PathLike | None = None,
    cache: str | os.PathLike | None = None,
    batch_size: int = 256,
    device: str | None = None,
) -> EmbeddingEntry:
    """Embed ``dataset`` (a :func:`gtransfer.data.load_dataset` name) with the encoder at ``checkpoint``.

    Args:
        checkpoint: a gtransfer checkpoint or a published ``pretrain_gnns`` file.
        split: ``"all"`` or ``"train"``/``"valid"``/``"test"`` (molecule scaffold split; Planetoid masks
            with ``level="node"``).
        pooling: graph pooling (``"mean"``, ``"sum"``, ``"max"``); ignored for ``level="node"``.
        layer: embed layer ``layer`` (0..L) instead of the jumping-knowledge output.
        featurizer: molecule featuriser; default the encoder's (``None`` for float-feature encoders).
        cache: cache root (default ``GTRANSFER_CACHE`` or ``~/.cache/gtransfer``); entries under ``embeddings/``.

    Returns:
        :class:`EmbeddingEntry`; ``from_cache`` says whether it was computed now.
    """
    from torch_geometric.loader import DataLoader

    from gtransfer.data import load_dataset
    from gtransfer.data.roots import cache_dir
    from gtransfer.models import load_encoder

    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if level not in ("graph", "node"):
        raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
    checkpoint = Path(checkpoint)
    if not checkpoint.is_file():
        raise FileNotFoundError(f"checkpoint not found: {checkpoint}")
    encoder = load_encoder(checkpoint, arch=arch)
    featurizer = featurizer or encoder.featurizer or "none"
    fields = {"checkpoint_sha256": file_sha256(checkpoint), "dataset": dataset, "split": split,
              "featurizer": featurizer, "pooling": pooling if level == "graph" else None, "layer": layer, "level": level}
    cache_folder = ArrayCache(cache_dir(cache) / "embeddings")

    def compute() -> dict[str, np.ndarray]:
        options = {"featurizer": featurizer} if featurizer != "none" else {}
        data = load_dataset(dataset, root=root, **options)
        if featurizer in ("hu2020", "ogb"):
            from gtransfer.models.inputs import check_molecule_vocabulary

            check_molecule_vocabulary(data, featurizer, name=dataset)
        subset, node_rows = _select(data, split, level)
        loader = DataLoader(subset, batch_size=1 if level == "node" else batch_size, shuffle=False)
        kwargs = {"level": level, "layer": layer} if level == "node" else {"level": level, "layer": layer, "pooling": pooling}
        array = embed_loader(encoder, loader, device=device, **kwargs)
        labels = None
        if level == "graph" and getattr(subset[0], "y", None) is not None:
            labels = torch.cat([g.y.view(1, -1) for g in subset]).numpy()
        elif level == "node" and getattr(data[0], "y", None) is not None:
            labels = data[0].y.numpy()
        if node_rows is not None:
            array = array[node_rows.numpy()]
            labels = None if labels is None else labels[node_rows.numpy()]
        return {"features": array} if labels is None else {"features": array, "labels": labels}

    entry = cache_folder.get_or_compute(fields, compute, info={"checkpoint": str(checkpoint)})
    shape = list(entry.metadata["arrays"]["features"]["shape"])
    meta = {**fields, "checkpoint": str(checkpoint), "shape": shape, "dtype": entry.metadata["arrays"]["features"]["dtype"],
            "labels": "labels" in entry.files, "code_version": entry.metadata["code_version"]}
    return EmbeddingEntry(entry.files["features"], entry.files.get("labels"), meta, from_cache=entry.from_cache)
