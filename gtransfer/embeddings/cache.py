"""The one embedding cache: arrays keyed by what determines them, written atomically, verified on read.

Every cached embedding in gtransfer (``gtransfer embed``, the graph trial kinds, the vision trial
kinds) is an *entry* of an :class:`ArrayCache`:

* its key is the SHA-256 of the canonical JSON (:mod:`gtransfer.io.canonical`) of the ``fields``
  that determine it (encoder identity -- a spec and a checkpoint digest --, dataset, level, node input,
  pooling, layer, rows, format version, ...: for graph embeddings, the fields of
  :func:`gtransfer.embeddings.entries.embedding_fields`, the one key schema), so a changed checkpoint or
  option is a new entry;
* an entry is a folder ``<cache>/<key>/`` holding one ``<name>.npy`` per array and ``meta.json``
  (the fields, each array's shape, dtype and SHA-256, free-form ``info`` and the code version);
* the folder is built beside its final place and renamed into it (:func:`gtransfer.io.atomic.atomic_folder`):
  a killed writer leaves no entry, two writers of the same entry leave one complete copy;
* a read checks every file against ``meta.json``; a damaged or foreign entry (a file that fails its
  SHA-256, an unreadable or missing ``meta.json``, a file where the entry's folder should be) is
  removed with a warning and recomputed, never returned, so a damaged entry costs one recomputation,
  not a failure on every run;
* a cache folder that cannot be written is a one-line
  :class:`~gtransfer.io.atomic.UnwritableFolderError`, raised before anything is computed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gtransfer.io.atomic import atomic_folder, build_lock, writable_folder
from gtransfer.io.canonical import canonical_json, canonicalize
from gtransfer.io.digests import file_sha256
from gtransfer.io.provenance import code_version

__all__ = ["ArrayCache", "CacheEntry", "DamagedCacheWarning", "cache_key"]

FORMAT = "gtransfer-array-cache/1"
META = "meta.json"


class DamagedCacheWarning(UserWarning):
    """A cache entry failed its check and was removed (it is recomputed)."""


def cache_key(fields: Mapping[str, Any]) -> str:
    """32 hex digits of SHA-256 over the canonical JSON of ``fields`` (order-independent)."""
    return hashlib.sha256(canonical_json(dict(fields)).encode("ascii")).hexdigest()[:32]


@dataclass(frozen=True)
class CacheEntry:
    """One cached entry: its folder, the arrays' files, its metadata and whether it was read or computed."""

    folder: Path
    files: dict[str, Path]
    metadata: dict[str, Any]
    from_cache: bool

    def load(self, name: str) -> np.ndarray:
        """The array ``name`` (``allow_pickle=False``)."""
        if name not in self.files:
            raise KeyError(f"cache entry {self.folder} has no array {name!r}; it has {sorted(self.files)}")
        return np.load(self.files[name], allow_pickle=False)

    @property
    def info(self) -> dict[str, Any]:
        return dict(self.metadata.get("info", {}))


class ArrayCache:
    """A folder of entries keyed by the fields that determine them (see the module docstring).

    Args:
        folder: where entries live; created on the first write.
    """

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)

    def entry_folder(self, fields: Mapping[str, Any]) -> Path:
        """Where the entry of ``fields`` lives (whether or not it exists)."""
        return self.folder / cache_key(fields)

    def get(self, fields: Mapping[str, Any]) -> CacheEntry | None:
        """The verified entry of ``fields``, or None when absent (a damaged entry is removed, with a warning)."""
        folder = self.entry_folder(fields)
        meta_path = folder / META
        if not folder.exists() and not folder.is_symlink():
            return None
        if folder.is_dir():
            problem = _check_entry(folder, dict(canonicalize(dict(fields))))
        else:
            problem = "a file stands where the entry's folder should be"
        if problem is not None:
            warnings.warn(f"embedding cache entry {folder} is damaged ({problem}); it is removed and recomputed",
                          DamagedCacheWarning, stacklevel=2)
            if folder.is_dir() and not folder.is_symlink():
                shutil.rmtree(folder, ignore_errors=True)
            else:
                folder.unlink(missing_ok=True)
            return None
        metadata = json.loads(meta_path.read_text())
        return CacheEntry(folder, {name: folder / f"{name}.npy" for name in metadata["arrays"]}, metadata, True)

    def put(
        self, fields: Mapping[str, Any], arrays: Mapping[str, np.ndarray], *, info: Mapping[str, Any] | None = None
    ) -> CacheEntry:
        """Write the entry of ``fields`` (replacing any) with ``arrays``; ``info`` is stored in its metadata."""
        if not arrays:
            raise ValueError("a cache entry needs at least one array")
        bad = [name for name in arrays if not name.replace("_", "").replace("-", "").isalnum()]
        if bad:
            raise ValueError(f"cache array names must be letters, digits, '_' or '-': {bad}")
        folder = self.entry_folder(fields)
        described: dict[str, dict[str, Any]] = {}
        with atomic_folder(folder) as staging:
            for name, array in arrays.items():
                array = np.asarray(array)
                if array.dtype == object:
                    raise ValueError(f"cache array {name!r} has dtype object; only numeric arrays are cached")
                path = staging / f"{name}.npy"
                np.save(path, array, allow_pickle=False)
                described[name] = {"shape": list(array.shape), "dtype": str(array.dtype), "sha256": file_sha256(path)}
            metadata = {
                "format": FORMAT,
                "fields": canonicalize(dict(fields)),
                "arrays": described,
                "info": canonicalize(dict(info or {}), path="info", allow_nonfinite=True),
                "code_version": code_version(),
            }
            (staging / META).write_text(json.dumps(metadata, indent=1))
        return CacheEntry(folder, {name: folder / f"{name}.npy" for name in described}, metadata, False)

    def get_or_compute(
        self,
        fields: Mapping[str, Any],
        compute: Callable[[], Mapping[str, np.ndarray]],
        *,
        info: Mapping[str, Any] | None = None,
    ) -> CacheEntry:
        """The entry of ``fields``, computed by ``compute()`` and stored when it is absent or damaged.

        A present entry is returned without locking; a missing one is computed under
        :func:`gtransfer.io.atomic.build_lock`, so of two processes asking at once one computes and
        the other reads its entry.
        """
        entry = self.get(fields)
        if entry is not None:
            return entry
        writable_folder(self.folder, what="the embedding cache")  # before the (possibly long) computation
        with build_lock(self.entry_folder(fields)):
            entry = self.get(fields)
            if entry is not None:
                return entry
            return self.put(fields, compute(), info=info)


def _check_entry(folder: Path, fields: dict[str, Any]) -> str | None:
    """None when the entry is whole and belongs to ``fields``, else what is wrong."""
    try:
        metadata = json.loads((folder / META).read_text())
    except (OSError, ValueError) as exc:
        return f"unreadable {META}: {exc}"
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        return f"{META} is not a {FORMAT} entry"
    if metadata.get("fields") != fields:
        return "its fields differ from the request (a key collision or an edited entry)"
    arrays = metadata.get("arrays")
    if not isinstance(arrays, dict) or not arrays:
        return "no arrays listed"
    for name, described in arrays.items():
        if (
            not isinstance(name, str)
            or not name.replace("_", "").replace("-", "").isalnum()
            or not isinstance(described, dict)
        ):
            return f"{META} lists an array {name!r} that no gtransfer cache writes"
        path = folder / f"{name}.npy"
        if not path.is_file():
            return f"{path.name} is missing"
        if file_sha256(path) != described.get("sha256"):
            return f"{path.name} fails its checksum"
    return None
