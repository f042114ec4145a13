"""Planetoid citation graphs Cora and CiteSeer (Yang et al. 2016), public split, offline.

The raw pickles ``ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}`` are read from
``<root>/planetoid/raw/`` (the layout of ../shared/data) or ``<root>/<Name>/raw/`` (PyG's layout);
the processed file goes to the cache. The result is PyG's
:class:`~torch_geometric.datasets.Planetoid` with its public ``train_mask``/``val_mask``/``test_mask``.

STATS (Yang et al. 2016; Kipf & Welling 2017)

========  =====  ======  ========  =======  =====  =====  ====
Name      nodes  edges   features  classes  train  val    test
========  =====  ======  ========  =======  =====  =====  ====
Cora      2,708  10,556     1,433        7    140    500  1000
CiteSeer  3,327   9,104     3,703        6    120    500  1000
========  =====  ======  ========  =======  =====  =====  ====

(edges counted in both directions, as PyG stores them)

The raw files are Python 2 pickles. They are never given to :func:`pickle.load`: a pickle names the
functions it calls, so a crafted file could run anything. :func:`read_planetoid_pickle` unpickles
with an allow-list of exactly what the published files hold (numpy arrays and dtypes, a scipy CSR
matrix, a ``defaultdict`` of lists) and refuses every other name with a one-line error; PyG's
processing reads the raw files through it.
"""

from __future__ import annotations

import collections
import contextlib
import io
import os
import pickle
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
from torch_geometric.datasets import Planetoid

from .caches import load_or_rebuild, read_or_build, strict_cache_loads
from .roots import ExplicitFolders, MissingDataError, download_file, find_data_path, processed_dir

__all__ = ["PLANETOID_NAMES", "OfflinePlanetoid", "UnsafePickleError", "load_planetoid", "read_planetoid_pickle"]

# PubMed loads the same way when its files are in a root (they are not in ../shared/data).
PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data"
RAW_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


class UnsafePickleError(ValueError):
    """A raw Planetoid file asks to call something outside the allow-list (or is not a pickle at all)."""


def _allowed_globals() -> dict[tuple[str, str], Any]:
    """(module, name) as written in the published pickles -> the object it stands for."""
    import scipy.sparse

    reconstruct = np.ndarray.__reduce__(np.zeros(1))[0]  # numpy's array rebuilder, wherever numpy keeps it
    allowed: dict[tuple[str, str], Any] = {
        ("collections", "defaultdict"): collections.defaultdict,
        ("builtins", "list"): list,
        ("__builtin__", "list"): list,  # Python 2 spelling (a custom find_class sees names unmapped)
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
    }
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = reconstruct
    for module in ("scipy.sparse.csr", "scipy.sparse._csr", "scipy.sparse"):
        allowed[(module, "csr_matrix")] = scipy.sparse.csr_matrix
    return allowed


class _PlanetoidUnpickler(pickle.Unpickler):
    def __init__(self, file: BinaryIO, path: str) -> None:
        super().__init__(file, encoding="latin1")  # Python 2 pickles
        self._path = path
        self._allowed = _allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        found = self._allowed.get((module, name))
        if found is None:
            raise UnsafePickleError(
                f"{self._path} asks to load {module}.{name}, which a Planetoid raw file never holds; the file is not "
                f"the published one (it could run code): restore it from {PLANETOID_URL}"
            )
        return found


def _check_plain(value: Any, path: str) -> None:
    """Refuse object arrays (which could carry anything) in what the allow-listed pickle produced."""
    arrays = (
        [value]
        if isinstance(value, np.ndarray)
        else [getattr(value, name, None) for name in ("data", "indices", "indptr")]
    )
    if any(isinstance(a, np.ndarray) and a.dtype == object for a in arrays):
        raise UnsafePickleError(
            f"{path} holds an array of Python objects, not numbers; restore it from {PLANETOID_URL}"
        )


def read_planetoid_pickle(path: str | os.PathLike) -> Any:
    """One raw Planetoid pickle (``ind.cora.x``, ...), unpickled with the allow-list (module docstring).

    Raises:
        UnsafePickleError: the file names anything else (``os.system``, ...) or holds object arrays.
        gtransfer.data.rawfiles.DamagedFileError: the file is truncated or not a pickle.
    """
    with open(path, "rb") as handle:
        return _unpickle(handle.read(), str(path))


def _unpickle(data: bytes, path: str) -> Any:
    from .rawfiles import DamagedFileError

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*`scipy.sparse.csr` name.*")
        try:
            value = _PlanetoidUnpickler(io.BytesIO(data), path).load()
        except UnsafePickleError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError) as error:
            raise DamagedFileError(f"{path} is damaged or not a Planetoid pickle ({type(error).__name__}: {error}); "
                                   f"restore it from {PLANETOID_URL}") from None
    _check_plain(value, path)
    return value


@contextlib.contextmanager
def _safe_pyg_reader() -> Iterator[None]:
    """PyG's ``read_planetoid_data`` with its ``pickle.load`` replaced by :func:`read_planetoid_pickle`."""
    from torch_geometric.io import planetoid as pyg_planetoid

    class _SafePickle:
        @staticmethod
        def load(file: Any, **kwargs: Any) -> Any:
            return _unpickle(file.read(), str(getattr(file, "path", None) or getattr(file, "name", "<planetoid file>")))

    original = pyg_planetoid.pickle
    pyg_planetoid.pickle = _SafePickle
    try:
        yield
    finally:
        pyg_planetoid.pickle = original


class OfflinePlanetoid(ExplicitFolders, Planetoid):
    """PyG's Planetoid (public split) reading a given raw folder and caching elsewhere."""

    def __init__(self, name: str, raw_folder: str | os.PathLike, processed_folder: str | os.PathLike,
                 *,
                 transform: Callable | None = None, rebuild: bool = True) -> None:
        self._raw_folder = str(raw_folder)
        self._processed_folder = str(processed_folder)
        def construct() -> None:
            with strict_cache_loads():
                super(OfflinePlanetoid, self).__init__(root=str(processed_folder), name=name, split="public",
                                                       transform=transform)

        if not rebuild:  # a read only (no lock held): a failure is the caller's to handle
            construct()
            return
        load_or_rebuild(construct, cache=processed_folder, what=name, cached=Path(processed_folder, "data.pt").exists())

    def process(self) -> None:
        """PyG's processing, with the raw pickles read through the allow-list (:func:`read_planetoid_pickle`)."""
        with _safe_pyg_reader():
            super().process()



def load_planetoid(
    name: str,
    roots: Sequence[Path],
    *,
    allow_download: bool = False,
    cache: str | os.PathLike | None = None,
    transform: Callable | None = None,
) -> OfflinePlanetoid:
    """Find Cora or CiteSeer's raw pickles in ``roots`` and load the public split."""
    try:
        name = PLANETOID_NAMES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown Planetoid dataset {name!r}; known: {sorted(PLANETOID_NAMES.values())}") from None
    lower = name.lower()
    probe = f"ind.{lower}.graph"
    roots = list(roots)
    try:
        found = find_data_path([f"planetoid/raw/{probe}", f"{name}/raw/{probe}"], roots, what=f"Planetoid {name}",
                               source=f"{PLANETOID_URL}/ind.{lower}.* (Yang et al. 2016)")
    except MissingDataError:
        if not allow_download:
            raise
        for part in RAW_PARTS:
            download_file(f"{PLANETOID_URL}/ind.{lower}.{part}", roots[0] / "planetoid" / "raw" / f"ind.{lower}.{part}")
        found = roots[0] / "planetoid" / "raw" / probe
    raw_folder = found.parent
    raw_files = [raw_folder / f"ind.{lower}.{part}" for part in RAW_PARTS]
    missing = [str(f) for f in raw_files if not f.is_file()]
    if missing:
        raise MissingDataError(f"Planetoid {name}: raw files missing: {missing}")
    base = processed_dir("planetoid", name, {"split": "public"}, raw_files, cache=cache)
    processed = base / "processed"
    # a complete cache is read without the lock (read-only shared caches); else one process builds, one reads
    return read_or_build(base, complete=(processed / "data.pt").is_file(),
                         read=lambda: OfflinePlanetoid(name, raw_folder, processed, transform=transform, rebuild=False),
                         build=lambda: OfflinePlanetoid(name, raw_folder, processed, transform=transform))
