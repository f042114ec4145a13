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
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

from torch_geometric.datasets import Planetoid

from gtransfer.io.atomic import build_lock

from .errors import CorruptCacheWarning
from .roots import ExplicitFolders, MissingDataError, download_file, find_data_path, processed_dir

__all__ = ["PLANETOID_NAMES", "OfflinePlanetoid", "load_planetoid"]

# PubMed loads the same way when its files are in a root (they are not in ../shared/data).
PLANETOID_NAMES = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}
PLANETOID_URL = "https://github.com/kimiyoung/planetoid/raw/master/data"
RAW_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph", "test.index")


class OfflinePlanetoid(ExplicitFolders, Planetoid):
    """PyG's Planetoid (public split) reading a given raw folder and caching elsewhere."""

    def __init__(self, name: str, raw_folder: str | os.PathLike, processed_folder: str | os.PathLike,
                 transform: Callable | None = None) -> None:
        self._raw_folder = str(raw_folder)
        self._processed_folder = str(processed_folder)
        cached = Path(processed_folder, "data.pt").exists()
        try:
            super().__init__(root=str(processed_folder), name=name, split="public", transform=transform)
        except Exception as error:
            if not cached:
                raise
            warnings.warn(
                f"{name}: processed cache {processed_folder} is unreadable ({type(error).__name__}: {error}); "
                "deleting it and rebuilding from the raw files",
                CorruptCacheWarning,
                stacklevel=2,
            )
            shutil.rmtree(processed_folder, ignore_errors=True)
            super().__init__(root=str(processed_folder), name=name, split="public", transform=transform)



def load_planetoid(
    name: str,
    roots: Sequence[Path],
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
    base = processed_dir("planetoid", name, {"split": "public"}, raw_files, cache)
    with build_lock(base):  # two processes building the same cache at once: one builds, one reads
        return OfflinePlanetoid(name, raw_folder, base / "processed", transform=transform)
