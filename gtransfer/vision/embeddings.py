"""Frozen embeddings of a zoo encoder on a target task, in the one embedding cache, for the ``score`` kind.

Entries of :class:`gtransfer.embeddings.cache.ArrayCache` keyed by the checkpoint's SHA-256 (so a
rebuilt encoder never reuses stale features) and the target name; each holds, for every part of
the target (train, valid, test), the features, the labels and the source head's probabilities.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from gtransfer.embeddings.cache import ArrayCache
from gtransfer.io.digests import file_sha256

from .data import image_batch_to, make_loader
from .targets import load_target
from .zoo import load_zoo_encoder

__all__ = ["target_embeddings", "encoder_path"]

_PARTS = ("train", "valid", "test")
_ARRAYS = ("features", "labels", "source_probs")


def encoder_path(encoder: str, zoo: str | os.PathLike) -> Path:
    """``<zoo>/<encoder>.pt``; FileNotFoundError naming the zoo when it is missing."""
    path = Path(zoo) / f"{encoder}.pt"
    if not path.is_file():
        raise FileNotFoundError(
            f"encoder {encoder!r} not found in zoo {zoo} (build it with experiments/build_vision_zoo.py)"
        )
    return path


def target_embeddings(encoder: str, target: str, zoo: str | os.PathLike, cache: str | os.PathLike,
                      *,
                      root: str | os.PathLike | None = None, part: str = "train") -> dict[str, Path]:
    """Paths of ``features`` (n, d) float32, ``labels`` (n,) int64 and ``source_probs`` (n, Z) ``.npy`` files.

    ``source_probs`` is theta of the encoder's source head (the softmax of its source classifier, in float64:
    :meth:`gtransfer.models.source_heads.SourceHead.probabilities`; for LEEP and NCE). All three
    parts of the target are embedded at once; ``part`` picks which paths are returned.
    """
    if part not in _PARTS:
        raise ValueError(f"part must be one of {_PARTS}, got {part!r}")
    checkpoint = encoder_path(encoder, zoo)
    # "theta": source_probs are the source head's float64 theta (models.source_heads), no longer float32 logits
    fields = {"kind": "vision-target-embedding", "encoder_sha256": file_sha256(checkpoint), "target": target,
              "theta": "source_heads/float64"}

    def compute() -> dict[str, np.ndarray]:
        from gtransfer.embeddings.embed import embed_loader

        model, head, metadata = load_zoo_encoder(checkpoint)
        task = load_target(target, root=root)
        arrays = {}
        for name in _PARTS:
            dataset = getattr(task, name)
            features = embed_loader(
                model,
                make_loader(dataset, input_shape=tuple(metadata["input_shape"]), batch_size=256),
                batch_to=image_batch_to,
                device="cpu",
            )
            probs = head.probabilities(features)
            arrays[f"{name}_features"] = features.astype(np.float32)
            arrays[f"{name}_labels"] = dataset.labels.astype(np.int64)
            arrays[f"{name}_source_probs"] = probs
        return arrays

    entry = ArrayCache(cache).get_or_compute(fields, compute, info={"encoder": encoder})
    return {kind: entry.files[f"{part}_{kind}"] for kind in _ARRAYS}
