"""``load_dataset``: one entry point for every graph dataset, by the name researchers already use."""

from __future__ import annotations

import os
from pathlib import Path

from torch_geometric.data import InMemoryDataset

from .molecules import _ALIASES, MOLECULE_SPECS, load_molecule_dataset
from .planetoid import PLANETOID_NAMES, load_planetoid
from .roots import MissingDataError, data_roots
from .tu import load_tu_dataset

__all__ = ["available_datasets", "dataset_kind", "load_dataset"]


def dataset_kind(name: str) -> str:
    """``"molecule"`` (OGB names, MoleculeNet folder names), ``"planetoid"`` or ``"tu"`` (anything else)."""
    key = name.lower()
    if key.startswith("ogbg-mol"):
        if key not in MOLECULE_SPECS:
            raise ValueError(f"unknown OGB molecule dataset {name!r}; supported: {sorted(MOLECULE_SPECS)}")
        return "molecule"
    if key.startswith("ogbg-"):
        raise ValueError(f"{name!r} is not a molecule dataset; gtransfer.data supports {sorted(MOLECULE_SPECS)}")
    if key in _ALIASES:
        return "molecule"
    if key in PLANETOID_NAMES:
        return "planetoid"
    return "tu"


def load_dataset(
    name: str,
    *,
    root: str | os.PathLike | None = None,
    featurizer: str = "ogb",
    allow_download: bool = False,
    **options,
) -> InMemoryDataset:
    """Load a graph dataset by name, offline, as a PyG ``InMemoryDataset``.

    Args:
        name: an OGB molecule name (``"ogbg-molbbbp"``, ``"ogbg-moltox21"``, ...; MoleculeNet
            folder names such as ``"tox21"`` work too), ``"Cora"`` / ``"CiteSeer"``, or any TU
            dataset name (``"MUTAG"``, ``"REDDIT-BINARY"``, ...).
        root: data root (layout of ../shared/data: ``tu/<NAME>/raw/``, ``tu_zips/<NAME>.zip``,
            ``moleculenet/<name>/raw/<file>``, ``planetoid/raw/``). Default: ``GTRANSFER_DATA``,
            else the user data directory. The repository's ``datasets/`` is searched after it.
            The root may be read-only.
        featurizer: molecule featuriser, ``"ogb"`` (9 atom / 3 bond features) or ``"hu2020"``
            (2 / 2, for the published encoders of Hu et al. 2020). Ignored for other datasets.
        allow_download: when the files are missing, download them from the public source into the
            root. Off by default; with the files present no network access is ever attempted.
        **options: ``cache`` (writable cache directory, default ``GTRANSFER_CACHE`` or
            ``~/.cache/gtransfer``), ``transform``; molecules: ``num_workers``, ``progress``,
            ``prefer_official``, ``verify_size`` (default True: a file of a known dataset must have
            its published number of rows, so a truncated CSV is an error); TU: ``node_features`` (``"auto"``,
            ``"degree"``, ``"constant"``),
            ``use_node_attr``, ``use_edge_attr``.

    Returns:
        molecules: :class:`~gtransfer.data.molecules.MoleculeDataset` (``get_idx_split()``,
        ``smiles``, ``num_tasks``, ``task_names``, ``eval_metric``, ``featurizer``); TU:
        :class:`~gtransfer.data.tu.TUGraphDataset`; Planetoid:
        :class:`~gtransfer.data.planetoid.OfflinePlanetoid` with the public masks.

    Raises:
        gtransfer.data.roots.MissingDataError: (a ``FileNotFoundError``) the files are in no
            root; the message names the expected paths and the public source.
        ValueError: unknown name or option, or raw files that are inconsistent or malformed.
    """
    roots = data_roots(root)
    kind = dataset_kind(name)
    allowed = {
        "molecule": {"cache", "transform", "num_workers", "progress", "prefer_official", "verify_size"},
        "planetoid": {"cache", "transform"},
        "tu": {"cache", "transform", "node_features", "use_node_attr", "use_edge_attr"},
    }[kind]
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"load_dataset({name!r}): unknown option(s) {sorted(unknown)} for a {kind} dataset; "
                         f"allowed: {sorted(allowed)}")
    try:
        if kind == "molecule":
            return load_molecule_dataset(name, roots, featurizer=featurizer, allow_download=allow_download, **options)
        if kind == "planetoid":
            return load_planetoid(name, roots, allow_download=allow_download, **options)
        return load_tu_dataset(name, roots, allow_download=allow_download, **options)
    except MissingDataError as exc:
        present = sorted(available_datasets(root), key=str.lower)
        raise MissingDataError(
            f"{exc}\nDatasets present in these roots: {', '.join(present) if present else 'none'}"
        ) from None


def available_datasets(root: str | os.PathLike | None = None) -> dict[str, Path]:
    """Datasets whose raw files are present in the data roots: name -> where they were found.

    Names are what :func:`load_dataset` accepts (OGB names for molecules). The first root wins, as
    in :func:`load_dataset`.
    """
    found: dict[str, Path] = {}
    for base in data_roots(root):
        entries: list[tuple[str, Path]] = []
        if (base / "tu").is_dir():
            entries += [(p.parent.parent.name, p.parent) for p in sorted((base / "tu").glob("*/raw/*_A.txt"))]
        if (base / "tu_zips").is_dir():
            entries += [(p.stem, p) for p in sorted((base / "tu_zips").glob("*.zip"))]
        for name, spec in MOLECULE_SPECS.items():
            for file in spec.files:
                path = base / "moleculenet" / spec.folder / "raw" / file
                if path.is_file():
                    entries.append((name, path))
                    break
        for lower, proper in PLANETOID_NAMES.items():
            for path in (
                base / "planetoid" / "raw" / f"ind.{lower}.graph",
                base / proper / "raw" / f"ind.{lower}.graph",
            ):
                if path.is_file():
                    entries.append((proper, path.parent))
                    break
        for name, path in entries:
            found.setdefault(name, path)
    return found
