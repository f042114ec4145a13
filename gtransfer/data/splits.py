"""Train/valid/test splits: Bemis-Murcko scaffold (as OGB and Hu et al. 2020), random, stratified.

Every function returns ``{"train", "valid", "test"}`` -> sorted ``np.ndarray`` of int64 indices into
the input, disjoint and covering every index exactly once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["murcko_scaffold", "random_split", "scaffold_split", "stratified_sample", "stratified_split"]

SPLIT_NAMES = ("train", "valid", "test")


def _check_fractions(frac_train: float, frac_valid: float, frac_test: float) -> None:
    fractions = (frac_train, frac_valid, frac_test)
    if any(not np.isfinite(f) or f < 0 for f in fractions):
        raise ValueError(f"split fractions must be finite and >= 0, got {fractions}")
    if not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"split fractions must sum to 1, got {fractions} (sum {sum(fractions)})")


def murcko_scaffold(smiles: str, *, include_chirality: bool = True) -> str:
    """Bemis-Murcko scaffold SMILES of a molecule (``""`` for acyclic molecules).

    Bemis & Murcko, "The properties of known drugs. 1. Molecular frameworks", J. Med. Chem. 1996.
    Chirality is kept by default, as in the OGB / Hu et al. 2020 scaffold split.
    """
    from rdkit import Chem
    from rdkit.Chem.Scaffolds import MurckoScaffold

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        raise ValueError(f"RDKit cannot parse SMILES {smiles!r}; filter invalid molecules before splitting")
    return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=include_chirality)


def scaffold_split(
    smiles: Sequence[str],
    *,
    frac_train: float = 0.8,
    frac_valid: float = 0.1,
    frac_test: float = 0.1,
) -> dict[str, np.ndarray]:
    """Deterministic scaffold split: whole scaffold sets, largest first, fill train, then valid, then test.

    Molecules are grouped by Bemis-Murcko scaffold. Sets are ordered by size, largest first (ties:
    the set whose first molecule comes later in the input goes first, the order OGB's split uses).
    Each set goes, whole, to train if train stays within ``frac_train * n``, else to valid if
    train + valid stays within ``(frac_train + frac_valid) * n``, else to test. So no scaffold is in
    two splits, the common scaffolds are learnt in train and valid/test hold the rarer ones, and each
    split's size misses its target by less than one scaffold set.
    """
    _check_fractions(frac_train, frac_valid, frac_test)
    smiles = list(smiles)
    if not smiles:
        raise ValueError("scaffold_split needs at least one SMILES")
    groups: dict[str, list[int]] = defaultdict(list)
    for index, s in enumerate(smiles):
        groups[murcko_scaffold(s)].append(index)
    ordered = sorted(groups.values(), key=lambda members: (len(members), members[0]), reverse=True)
    n = len(smiles)
    train_cutoff = frac_train * n
    valid_cutoff = (frac_train + frac_valid) * n
    parts: dict[str, list[int]] = {name: [] for name in SPLIT_NAMES}
    for members in ordered:
        if len(parts["train"]) + len(members) <= train_cutoff:
            parts["train"].extend(members)
        elif len(parts["train"]) + len(parts["valid"]) + len(members) <= valid_cutoff:
            parts["valid"].extend(members)
        else:
            parts["test"].extend(members)
    return {name: np.sort(np.asarray(parts[name], dtype=np.int64)) for name in SPLIT_NAMES}


def _sizes(n: int, frac_train: float, frac_valid: float) -> tuple[int, int]:
    n_train = int(round(frac_train * n))
    n_valid = int(round(frac_valid * n))
    return n_train, min(n_valid, n - n_train)


def random_split(
    n: int,
    *,
    frac_train: float = 0.8,
    frac_valid: float = 0.1,
    frac_test: float = 0.1,
    seed: int = 0,
) -> dict[str, np.ndarray]:
    """Uniformly random split of ``range(n)``, deterministic by ``seed``."""
    _check_fractions(frac_train, frac_valid, frac_test)
    if n < 1:
        raise ValueError(f"random_split needs n >= 1, got {n}")
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_valid = _sizes(n, frac_train, frac_valid)
    chunks = (order[:n_train], order[n_train : n_train + n_valid], order[n_train + n_valid :])
    return {name: np.sort(chunk).astype(np.int64) for name, chunk in zip(SPLIT_NAMES, chunks)}


def stratified_split(
    labels: npt.ArrayLike,
    *,
    frac_train: float = 0.8,
    frac_valid: float = 0.1,
    frac_test: float = 0.1,
    seed: int = 0,
    every_class_in_every_split: bool = False,
) -> dict[str, np.ndarray]:
    """Random split that keeps each class's share in every split (per-class rounding).

    Within each class the members are shuffled (by ``seed``) and cut at the same fractions, so a
    class of n_c samples gives round(frac_train * n_c) to train and round(frac_valid * n_c) to valid.
    This is the one stratified split of gtransfer: graph and image targets both use it.

    Args:
        every_class_in_every_split: raise ``ValueError`` when a class would be missing from a split
            whose fraction is positive (what a classification target needs to be evaluated).
    """
    _check_fractions(frac_train, frac_valid, frac_test)
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError(f"stratified_split needs a non-empty 1-D label array, got shape {labels.shape}")
    if labels.dtype.kind == "f" and not np.all(np.isfinite(labels)):
        raise ValueError("stratified_split: labels contain NaN/inf; mask missing labels first")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {name: [] for name in SPLIT_NAMES}
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        n_train, n_valid = _sizes(members.size, frac_train, frac_valid)
        if every_class_in_every_split:
            sizes = (n_train, n_valid, members.size - n_train - n_valid)
            empty = [
                name
                for name, size, frac in zip(SPLIT_NAMES, sizes, (frac_train, frac_valid, frac_test))
                if frac > 0 and size == 0
            ]
            if empty:
                raise ValueError(
                    f"stratified_split: class {cls.item() if hasattr(cls, 'item') else cls!r} has {members.size} "
                    f"sample(s), which leaves {empty} "
                    f"without it at fractions {(frac_train, frac_valid, frac_test)}; give each class more samples"
                )
        parts["train"].append(members[:n_train])
        parts["valid"].append(members[n_train : n_train + n_valid])
        parts["test"].append(members[n_train + n_valid :])
    return {name: np.sort(np.concatenate(parts[name])).astype(np.int64) for name in SPLIT_NAMES}


def stratified_sample(labels: npt.ArrayLike, size: int, *, seed: int = 0, min_per_class: int = 2) -> np.ndarray:
    """Sorted positions of ``size`` of ``labels``' rows, each class keeping its share, seeded.

    Class labels (1-D integers): class c of n_c rows gets max(min(min_per_class, n_c), floor(size *
    n_c / n)) rows, the rest of ``size`` going to the largest remainders, so a rare class is not lost
    when ``size`` is small (a Tox21 task with 4% positives keeps 2 of them in a sample of 50). Other
    labels (floats: regression, or (n, T) multi-task) are sampled uniformly.

    Raises:
        ValueError: ``size`` below the number of rows the class minimum needs, or not positive.
    """
    labels = np.asarray(labels)
    n = labels.shape[0]
    if size <= 0:
        raise ValueError(f"stratified_sample: size must be positive, got {size}")
    rng = np.random.default_rng(seed)
    if size >= n:
        return np.arange(n, dtype=np.int64)
    if labels.ndim != 1 or labels.dtype.kind not in "iub":
        return np.sort(rng.choice(n, size=size, replace=False)).astype(np.int64)
    classes, counts = np.unique(labels, return_counts=True)
    floor = np.minimum(min_per_class, counts)
    if floor.sum() > size:
        raise ValueError(f"stratified_sample: {classes.size} classes need at least {int(floor.sum())} rows "
                         f"({min_per_class} each, or all of a smaller class), but size is {size}; ask for more rows")
    exact = size * counts / n
    take = np.minimum(counts, np.maximum(floor, np.floor(exact).astype(np.int64)))
    order = np.argsort(-(exact - np.floor(exact)), kind="stable")
    while take.sum() < size:  # largest remainders first, skipping full classes
        for c in order:
            if take.sum() == size:
                break
            if take[c] < counts[c]:
                take[c] += 1
    while take.sum() > size:  # the class minimum pushed it over: trim the largest classes above their floor
        c = int(np.argmax(take - floor))
        take[c] -= 1
    chosen = [rng.choice(np.flatnonzero(labels == cls), size=int(k), replace=False) for cls, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen)).astype(np.int64)
