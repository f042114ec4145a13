"""Checkpoints: tensors plus metadata in one file, written atomically, read without unpickling code.

A checkpoint is a ``torch.save`` of a plain dict::

    {"format": "gtransfer-checkpoint", "version": 1,
     "state_dict": {name: Tensor}, "metadata": {JSON-serialisable}, "extra": {...} | None}

so that ``torch.load(path, weights_only=True)`` reads it: only tensors and plain containers, never
arbitrary objects. ``extra`` carries training state for resuming (optimizer state, epoch).
Writes are atomic (:func:`gtransfer.io.atomic.atomic_write`), so a reader (or a killed writer) never
sees half a file. Legacy files that hold a bare
state_dict (the published Hu et al. encoders) load with empty metadata.

A checkpoint may come from anywhere (docs/security.md). Before ``torch.load`` allocates anything,
:func:`check_declared_sizes` reads the pickle's storage declarations (without running it) and
refuses a file whose tensors declare more elements than the file has bytes: a 1 KB crafted file
could otherwise ask for 320 GB. Every other malformed file (empty, truncated, a string or list
where a dict belongs) is a one-line ``ValueError`` naming the file.
"""

from __future__ import annotations

import json
import os
import pickle
import pickletools
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from gtransfer.io.atomic import atomic_write

__all__ = ["check_declared_sizes", "save_checkpoint", "load_checkpoint", "read_checkpoint"]

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
    *,
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


def _declared_storages(stream: Any, sizes: dict[str, int]) -> None:
    """Add ``key -> numel`` of every storage one pickle declares (torch's persistent ids), without running it.

    torch writes each storage as the persistent id ``("storage", type, key, location, numel)``: the
    values since the tuple's MARK are tracked (memo references resolved), and each BINPERSID records
    the tuple before it.
    """
    memo: dict[int, Any] = {}
    items: list[Any] = []
    marks: list[int] = []
    last: tuple = ()
    for opcode, arg, _ in pickletools.genops(stream):
        name = opcode.name
        if name == "MARK":
            marks.append(len(items))
        elif name in ("TUPLE", "TUPLE1", "TUPLE2", "TUPLE3"):
            if name == "TUPLE":
                start = marks.pop() if marks else 0
            else:
                start = max(0, len(items) - int(name[-1]))
            last = tuple(items[start:])
            del items[start:]
            items.append(last)
        elif name in ("BINPUT", "LONG_BINPUT", "PUT"):
            memo[int(arg or 0)] = items[-1] if items else None
        elif name == "MEMOIZE":
            memo[len(memo)] = items[-1] if items else None
        elif name in ("BINGET", "LONG_BINGET", "GET"):
            items.append(memo.get(int(arg or 0)))
        elif name == "BINPERSID":
            pid = items.pop() if items else last
            if isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and isinstance(pid[4], int):
                sizes[str(pid[2])] = max(sizes.get(str(pid[2]), 0), pid[4])
        elif opcode.arg is not None and isinstance(arg, (int, str)):
            items.append(arg)
        elif name not in ("PROTO", "FRAME", "STOP"):
            items.append(None)


def check_declared_sizes(path: str | os.PathLike) -> None:
    """Refuse a torch file whose storages declare more elements than the file has bytes, before loading it.

    A tensor's data lies in the file uncompressed (torch never compresses it), so every element takes at
    least one byte of it. Zip members must be stored uncompressed, as ``torch.save`` writes them.

    Raises:
        ValueError: a declared size past the file's size, or a compressed member (one line, naming the file).
    """
    path = Path(path)
    size = path.stat().st_size
    sizes: dict[str, int] = {}
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                compressed = [m.filename for m in archive.infolist() if m.compress_type != zipfile.ZIP_STORED]
                if compressed:
                    raise ValueError(f"{path}: member {compressed[0]} is compressed, which torch.save never writes; "
                                     "the file is not a checkpoint (re-save it with torch.save)")
                pickles = [m for m in archive.namelist() if m.endswith("/data.pkl") or m == "data.pkl"]
                for member in pickles:
                    with archive.open(member) as stream:
                        _declared_storages(stream, sizes)
        else:
            with open(path, "rb") as stream:  # the legacy format: magic, protocol, sys info, then the data pickle
                for _ in range(4):
                    _declared_storages(stream, sizes)
    except ValueError as error:
        if "torch.save never writes" in str(error):
            raise
        return  # not readable as pickles: torch.load reports it (no storage is allocated before)
    except (EOFError, zipfile.BadZipFile, OSError, IndexError, KeyError):
        return
    declared = sum(sizes.values())
    if declared > size:
        raise ValueError(f"refusing to load {path}: its tensors declare {declared:,} elements but the file has only "
                         f"{size:,} bytes (a crafted or damaged checkpoint would make torch allocate them)")


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The whole checkpoint dict (``state_dict``, ``metadata``, ``extra``), read with ``weights_only=True``.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file needs arbitrary unpickling (refused), declares tensors larger than itself,
            is empty, damaged or of another layout (one line naming the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint not found: {path}")
    if path.stat().st_size == 0:
        raise ValueError(f"checkpoint {path} is an empty file (an interrupted copy?); copy or save it again")
    check_declared_sizes(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, EOFError, IndexError, ValueError, TypeError,
            KeyError, MemoryError, zipfile.BadZipFile) as err:
        first = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise ValueError(
            f"refusing to load {path}: it cannot be read with torch.load(weights_only=True) "
            f"(it needs arbitrary unpickling, or is corrupt): {first}"
        ) from None
    if isinstance(obj, Mapping) and obj.get("format") == FORMAT:
        if obj.get("version") != VERSION:
            raise ValueError(f"{path}: checkpoint format version {obj.get('version')} is not {VERSION}")
        state, metadata = obj.get("state_dict"), obj.get("metadata")
        if not isinstance(state, Mapping) or not all(isinstance(v, torch.Tensor) for v in state.values()):
            raise ValueError(f"{path}: 'state_dict' must be a dict of tensors, got {type(state).__name__}; "
                             "the checkpoint is damaged or was not written by gtransfer")
        if not isinstance(metadata, Mapping):
            raise ValueError(f"{path}: 'metadata' must be a dict, got {type(metadata).__name__}; "
                             "the checkpoint is damaged or was not written by gtransfer")
        architecture = metadata.get("architecture")
        if architecture is not None and not isinstance(architecture, Mapping):
            raise ValueError(f"{path}: metadata 'architecture' must be a dict, got {type(architecture).__name__}")
        return {"state_dict": dict(state), "metadata": dict(metadata), "extra": obj.get("extra")}
    if isinstance(obj, Mapping) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return {"state_dict": dict(obj), "metadata": {}, "extra": None}  # legacy bare state_dict
    raise ValueError(f"{path} holds neither a gtransfer checkpoint nor a state_dict of tensors "
                     f"(it holds a {type(obj).__name__})")


def load_checkpoint(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state_dict, metadata)`` of a checkpoint; metadata is ``{}`` for a legacy bare state_dict."""
    ckpt = read_checkpoint(path)
    return ckpt["state_dict"], ckpt["metadata"]
