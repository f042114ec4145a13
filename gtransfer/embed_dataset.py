"""Embeddings of a whole dataset (or split) from an encoder file, cached on disk.

An entry is keyed by (checkpoint SHA-256, dataset, split, featuriser, pooling, layer, level): the
same request is served from ``<cache>/embeddings/<key>.npy`` without touching the encoder. Each entry
has ``<key>.json`` (the key fields, shape, code version) and, when the data has labels,
``<key>.labels.npy``. Files are written to a temporary name and renamed, so an interrupted run never
leaves a half entry that looks complete.

Command line (also wired as ``gtransfer embed``)::

    python -m gtransfer.embed_dataset CHECKPOINT DATASET [--split test] [--pooling mean] [--layer 3]
        [--level graph|node] [--featurizer hu2020] [--out embeddings.npy]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gtransfer.checkpoints import code_version, file_sha256
from gtransfer.embed import embed_loader

__all__ = ["EmbeddingEntry", "embed_dataset", "embedding_key", "add_embed_arguments", "run_embed_command", "main"]

SPLITS = ("all", "train", "valid", "test")


@dataclass(frozen=True)
class EmbeddingEntry:
    """A cached embedding: the array file, its labels (or ``None``) and metadata."""

    path: Path
    labels_path: Path | None
    metadata: dict[str, Any]
    from_cache: bool

    def load(self) -> np.ndarray:
        return np.load(self.path)

    def load_labels(self) -> np.ndarray | None:
        return None if self.labels_path is None else np.load(self.labels_path)


def embedding_key(fields: dict[str, Any]) -> str:
    """Stable 24-hex-digit key of the request fields (order-independent)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:24]


def _atomic_save(path: Path, array: np.ndarray) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)


def _select(dataset, split: str, level: str):
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
    key = embedding_key(fields)
    folder = cache_dir(cache) / "embeddings"
    folder.mkdir(parents=True, exist_ok=True)
    path, meta_path, labels_path = folder / f"{key}.npy", folder / f"{key}.json", folder / f"{key}.labels.npy"
    if path.is_file() and meta_path.is_file():  # metadata is written last: its presence marks a complete entry
        meta = json.loads(meta_path.read_text())
        return EmbeddingEntry(path, labels_path if labels_path.is_file() else None, meta, from_cache=True)

    options = {"featurizer": featurizer} if featurizer != "none" else {}
    data = load_dataset(dataset, root=root, **options)
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
    _atomic_save(path, array)
    if labels is not None:
        _atomic_save(labels_path, labels)
    meta = {**fields, "checkpoint": str(checkpoint), "shape": list(array.shape), "dtype": str(array.dtype),
            "labels": labels is not None, "code_version": code_version()}
    fd, tmp = tempfile.mkstemp(prefix=f".{meta_path.name}.", dir=folder)
    with os.fdopen(fd, "w") as handle:
        json.dump(meta, handle, indent=1)
    os.replace(tmp, meta_path)
    return EmbeddingEntry(path, labels_path if labels is not None else None, meta, from_cache=False)


def add_embed_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Arguments of the ``embed`` command (for ``gtransfer.cli``)."""
    parser.add_argument("checkpoint", help="encoder file: a gtransfer checkpoint or a published pretrain_gnns .pth")
    parser.add_argument("dataset", help="dataset name, e.g. ogbg-molbbbp, MUTAG, Cora")
    parser.add_argument("--split", default="all", choices=SPLITS)
    parser.add_argument("--pooling", default="mean", choices=["mean", "sum", "max"])
    parser.add_argument("--layer", type=int, default=None, help="layer 0..L instead of the JK output")
    parser.add_argument("--level", default="graph", choices=["graph", "node"])
    parser.add_argument("--featurizer", default=None, choices=["ogb", "hu2020"])
    parser.add_argument("--arch", default=None, help="architecture of a published file whose name does not say it")
    parser.add_argument("--root", default=None, help="data root (default GTRANSFER_DATA)")
    parser.add_argument("--cache", default=None, help="cache root (default GTRANSFER_CACHE or ~/.cache/gtransfer)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", default=None, help="also copy the .npy (and .json metadata) here")
    return parser


def run_embed_command(args: argparse.Namespace) -> EmbeddingEntry:
    entry = embed_dataset(args.checkpoint, args.dataset, split=args.split, pooling=args.pooling, layer=args.layer,
                          level=args.level, featurizer=args.featurizer, arch=args.arch, root=args.root,
                          cache=args.cache, batch_size=args.batch_size, device=args.device)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.path, out)
        out.with_suffix(".json").write_text(json.dumps(entry.metadata, indent=1))
        if entry.labels_path is not None:
            shutil.copyfile(entry.labels_path, out.with_suffix(".labels.npy"))
    print(json.dumps({"path": str(entry.path), "from_cache": entry.from_cache, "shape": entry.metadata["shape"]}))
    return entry


def main(argv: Sequence[str] | None = None) -> EmbeddingEntry:
    parser = add_embed_arguments(argparse.ArgumentParser(prog="gtransfer embed", description=__doc__.split("\n")[0]))
    return run_embed_command(parser.parse_args(argv))


if __name__ == "__main__":
    main()
