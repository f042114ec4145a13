"""Checkpoints: tensors plus metadata in one file, written atomically, read without unpickling code.

A checkpoint is a ``torch.save`` of a plain dict::

    {"format": "gtransfer-checkpoint", "version": 1,
     "state_dict": {name: Tensor}, "metadata": {JSON-serialisable}, "extra": {...} | None}

so that ``torch.load(path, weights_only=True)`` reads it: only tensors and plain containers, never
arbitrary objects. ``extra`` carries training state for resuming (optimizer state, epoch).
Writes are atomic (:func:`gtransfer.io.atomic.atomic_write`), so a reader (or a killed writer) never
sees half a file. Legacy files that hold a bare
state_dict (the published Hu et al. encoders) load with empty metadata.
"""

from __future__ import annotations

import json
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from gtransfer.io.atomic import atomic_write

__all__ = ["save_checkpoint", "load_checkpoint", "read_checkpoint"]

FORMAT = "gtransfer-checkpoint"
VERSION = 1


def _check_state_dict(state_dict: Mapping[str, Any]) -> dict[str, torch.Tensor]:
    if not isinstance(state_dict, Mapping):
        raise ValueError(f"state_dict must be a mapping of names to tensors, got {type(state_dict).__name__}")
    bad = [k for k, v in state_dict.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise ValueError(f"state_dict entries must be str -> Tensor; offending keys: {bad[:5]}")
    return dict(state_dict)


def _check_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(metadata, Mapping):
        raise ValueError(f"metadata must be a dict, got {type(metadata).__name__}")
    try:
        # round trip through JSON: only plain types survive, which weights_only=True can read back
        return json.loads(json.dumps(dict(metadata), allow_nan=True))
    except TypeError as err:
        raise ValueError(f"metadata must be JSON-serialisable: {err}") from None


def save_checkpoint(
    path: str | os.PathLike,
    state_dict: Mapping[str, torch.Tensor],
    metadata: Mapping[str, Any],
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``state_dict`` and ``metadata`` (and optional resumable ``extra`` state) atomically.

    Args:
        path: destination file; its folder is created if needed.
        state_dict: tensor names -> tensors (moved to CPU).
        metadata: JSON-serialisable description (architecture, featuriser, strategy, corpus, ...).
        extra: tensors/plain containers only (e.g. ``optimizer.state_dict()``), for resuming.

    Returns:
        The path written.
    """
    path = Path(path)
    tensors = {k: v.detach().cpu() for k, v in _check_state_dict(state_dict).items()}
    payload = {"format": FORMAT, "version": VERSION, "state_dict": tensors,
               "metadata": _check_metadata(metadata), "extra": None if extra is None else dict(extra)}
    atomic_write(path, lambda handle: torch.save(payload, handle))
    return path


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The whole checkpoint dict (``state_dict``, ``metadata``, ``extra``), read with ``weights_only=True``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file needs arbitrary unpickling (refused), or is not a state dict.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, EOFError) as err:
        raise ValueError(
            f"refusing to load {path}: it cannot be read with torch.load(weights_only=True) "
            f"(it needs arbitrary unpickling, or is corrupt): {str(err).splitlines()[0]}"
        ) from None
    if isinstance(obj, Mapping) and obj.get("format") == FORMAT:
        if obj.get("version") != VERSION:
            raise ValueError(f"{path}: checkpoint format version {obj.get('version')} is not {VERSION}")
        return {"state_dict": dict(obj["state_dict"]), "metadata": dict(obj["metadata"]), "extra": obj.get("extra")}
    if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return {"state_dict": dict(obj), "metadata": {}, "extra": None}  # legacy bare state_dict
    raise ValueError(f"{path} holds neither a gtransfer checkpoint nor a state_dict of tensors")


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state_dict, metadata)`` of a checkpoint; metadata is ``{}`` for a legacy bare state_dict."""
    ckpt = read_checkpoint(path)
    return ckpt["state_dict"], ckpt["metadata"]
