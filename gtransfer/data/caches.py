"""Processed-dataset caches: read without unpickling code; an unreadable one is rebuilt, with the reason, counted.

A cache under ``GTRANSFER_CACHE/processed/`` may be shared (a lab cluster's group folder), so its
files are treated as untrusted input (docs/security.md). PyG's ``fs.torch_load`` and OGB's bare
``torch.load`` would unpickle any object a planted ``data.pt`` names (PyG retries with
``weights_only=False`` when the strict load fails); here every processed file is read by
:func:`load_cache_file`, ``torch.load(weights_only=True)`` with an explicit allow-list of PyG's data
classes and no fallback. A file that needs anything else is refused (:class:`UnsafeCacheError`), and
:func:`load_or_rebuild` -- the one rule every loader uses -- deletes the cache and builds it again
from the raw files with a :class:`~gtransfer.data.errors.CorruptCacheWarning` that says why and
counts the rebuilds of this process (:func:`rebuilt_caches`).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import torch

from .errors import CorruptCacheWarning

__all__ = ["UnsafeCacheError", "load_cache_file", "load_or_rebuild", "read_or_build", "rebuilt_caches",
           "strict_cache_loads"]

T = TypeVar("T")

#: torch's own loader, kept: OGB's loader runs with ``torch.load`` replaced by :func:`load_cache_file`
_TORCH_LOAD = torch.load
#: reason ("unsafe" or "unreadable") -> caches rebuilt by this process
_REBUILT: Counter[str] = Counter()


class UnsafeCacheError(ValueError):
    """A processed cache file asks to unpickle something outside the allow-list (it could run code)."""


def _allowed_globals() -> list[Any]:
    """What PyG's and OGB's processed files hold besides tensors: the data classes and their storages."""
    from torch_geometric.data import Data, HeteroData
    from torch_geometric.data.data import DataEdgeAttr, DataTensorAttr
    from torch_geometric.data.storage import BaseStorage, EdgeStorage, GlobalStorage, NodeStorage

    return [Data, HeteroData, DataEdgeAttr, DataTensorAttr, BaseStorage, EdgeStorage, GlobalStorage, NodeStorage]


def load_cache_file(path: str | os.PathLike, *args: Any, **kwargs: Any) -> Any:
    """``torch.load(path, weights_only=True)`` with the allow-list; never a fallback that unpickles objects.

    Extra arguments of ``torch.load``/``fs.torch_load`` (``map_location``) are accepted and ignored:
    caches are always read to the CPU.

    Raises:
        UnsafeCacheError: the file names a global outside the allow-list (``os.system``, a class).
        pickle.UnpicklingError, RuntimeError, EOFError, ...: the file is damaged (the caller rebuilds it).
    """
    with torch.serialization.safe_globals(_allowed_globals()):
        try:
            return _TORCH_LOAD(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as error:
            if "GLOBAL" in str(error) or "safe_globals" in str(error):
                first = next((line for line in str(error).splitlines() if "GLOBAL" in line), str(error).splitlines()[0])
                raise UnsafeCacheError(
                    f"{path} asks to unpickle an object a gtransfer cache never holds "
                    f"({first.strip()[:160]}); it was not written by gtransfer and is not read"
                ) from None
            raise


@contextlib.contextmanager
def strict_cache_loads() -> Iterator[None]:
    """Within the block, PyG's ``fs.torch_load`` (used by ``InMemoryDataset.load`` and ``TUDataset``) is
    :func:`load_cache_file`, so PyG never retries a refused file with ``weights_only=False``."""
    from torch_geometric.io import fs

    original = fs.torch_load
    fs.torch_load = load_cache_file
    try:
        yield
    finally:
        fs.torch_load = original


def rebuilt_caches() -> dict[str, int]:
    """How many processed caches this process rebuilt, by reason (``"unsafe"``, ``"unreadable"``)."""
    return dict(_REBUILT)


def load_or_rebuild(load: Callable[[], T], *, cache: str | os.PathLike, what: str, cached: bool | None = None,
                    keep: tuple[type[BaseException], ...] = (), stacklevel: int = 3) -> T:
    """``load()``; when a cache was there and it cannot be read, delete ``cache`` and ``load()`` again.

    Args:
        load: builds the cache when it is missing and reads it (a dataset constructor, ...).
        cache: the folder of the processed files, deleted before the second try.
        what: the dataset's name for the warning.
        cached: whether a cache existed before ``load`` (default: ``cache`` exists now). Without a
            cache, an error comes from the raw files or the build and is raised as it is.
        keep: errors raised as they are even with a cache (a raw file's own error, a wrong size).

    Warns:
        CorruptCacheWarning: names the cache, the reason (unsafe: it asked to unpickle an object;
            unreadable: damaged) and the count of rebuilds so far in this process.
    """
    cache = Path(cache)
    if cached is None:
        cached = cache.exists()
    try:
        return load()
    except keep:
        raise
    except Exception as error:  # noqa: BLE001 - any unreadable cache is rebuilt, never trusted
        if not cached:
            raise
        reason = "unsafe" if isinstance(error, UnsafeCacheError) else "unreadable"
        _REBUILT[reason] += 1
        why = str(error).strip().splitlines()[0] if str(error).strip() else ""
        warnings.warn(
            f"{what}: processed cache {cache} is {reason} ({type(error).__name__}: {why}); deleting it and rebuilding "
            f"from the raw files ({sum(_REBUILT.values())} cache(s) rebuilt by this process: {dict(_REBUILT)})",
            CorruptCacheWarning,
            stacklevel=stacklevel,
        )
        shutil.rmtree(cache, ignore_errors=True)
    return load()


def read_or_build(lock: str | os.PathLike, *, complete: bool, read: Callable[[], T], build: Callable[[], T]) -> T:
    """``read()`` without any lock when the cache is ``complete``; else (or when that read fails) ``build()``
    under :func:`gtransfer.io.atomic.build_lock` on ``lock``.

    Taking the lock creates a lock file, which a read-only cache (a shared, fully populated
    ``GTRANSFER_CACHE``) has no room for; a complete cache needs no lock to be read, since every
    entry is replaced whole (:func:`gtransfer.io.atomic.atomic_folder`). A read that fails (damaged,
    unsafe, or replaced meanwhile) is not acted on here: ``build`` decides under the lock, and says why.
    """
    from gtransfer.io.atomic import build_lock

    if complete:
        try:
            return read()
        except Exception:  # noqa: BLE001 - the locked path reads again and reports the reason
            pass
    with build_lock(lock):
        return build()
