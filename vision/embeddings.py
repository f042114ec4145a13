"""Frozen embeddings of a zoo encoder on a target task, cached as ``.npy`` for the shared ``score`` kind.

The cache key is the checkpoint's SHA-256 (so a rebuilt encoder never reuses stale features) and
the target name. Files are written to a temporary name and ``os.replace``'d, so concurrent sweep
workers and killed runs never leave half a file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import torch

from .data import image_batch_to, make_loader
from .targets import load_target
from .zoo import load_zoo_encoder

__all__ = ["target_embeddings", "encoder_path"]

_PARTS = ("train", "valid", "test")


def encoder_path(encoder: str, zoo: str | os.PathLike) -> Path:
    """``<zoo>/<encoder>.pt``; FileNotFoundError naming the zoo when it is missing."""
    path = Path(zoo) / f"{encoder}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"encoder {encoder!r} not found in zoo {zoo} (build it with experiments/build_vision_zoo.py)")
    return path


def _save(path: Path, array: np.ndarray) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        np.save(handle, array)
    os.replace(tmp, path)


def target_embeddings(encoder: str, target: str, zoo: str | os.PathLike, cache: str | os.PathLike,
                      root: str | os.PathLike | None = None, part: str = "train") -> dict[str, Path]:
    """Paths of ``features.npy`` (n, d) float32, ``labels.npy`` (n,) and ``source_probs.npy`` (n, Z).

    ``source_probs`` is the softmax of the encoder's source classifier (for LEEP and NCE). All three
    parts of the target are embedded at once; ``part`` picks which paths are returned.
    """
    if part not in _PARTS:
        raise ValueError(f"part must be one of {_PARTS}, got {part!r}")
    checkpoint = encoder_path(encoder, zoo)
    digest = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:16]
    folder = Path(cache) / f"{encoder}-{digest}" / target.replace("/", "_")
    paths = {p: {kind: folder / f"{p}_{kind}.npy" for kind in ("features", "labels", "source_probs")} for p in _PARTS}
    if not all(path.is_file() for kinds in paths.values() for path in kinds.values()):
        folder.mkdir(parents=True, exist_ok=True)
        model, head, metadata = load_zoo_encoder(checkpoint)
        task = load_target(target, root)
        from gtransfer.embed import embed_loader

        for p in _PARTS:
            dataset = getattr(task, p)
            features = embed_loader(model, make_loader(dataset, tuple(metadata["input_shape"]), 256), image_batch_to, "cpu")
            with torch.no_grad():
                probs = torch.softmax(head(torch.from_numpy(features).float()).double(), dim=1).numpy()
            _save(paths[p]["features"], features.astype(np.float32))
            _save(paths[p]["labels"], dataset.labels.astype(np.int64))
            _save(paths[p]["source_probs"], probs)
    return paths[part]
