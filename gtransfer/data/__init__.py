"""Graph data: data roots, TU, MoleculeNet as OGB molecules, Planetoid, featurisers, splits, tasks.

``from gtransfer.data import load_dataset`` is the entry point. Submodules that need torch or PyG
are imported on first use, so importing the package stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "load_dataset", "available_datasets", "dataset_kind", "MissingDataError", "scaffold_split", "random_split",
    "stratified_split",
]

_LAZY = {
    "load_dataset": "loading",
    "available_datasets": "loading",
    "dataset_kind": "loading",
    "MissingDataError": "roots",
    "scaffold_split": "splits",
    "random_split": "splits",
    "stratified_split": "splits",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
