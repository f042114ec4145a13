"""Splits: scaffold split invariants on real molecules and OGB's published sizes; random and stratified."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest

from gtransfer.data import load_dataset
from gtransfer.data.molecules import SkippedMoleculesWarning
from gtransfer.data.splits import murcko_scaffold, random_split, scaffold_split, stratified_split


def _check_partition(split: dict[str, np.ndarray], n: int) -> None:
    assert set(split) == {"train", "valid", "test"}
    everything = np.concatenate(list(split.values()))
    assert np.array_equal(np.sort(everything), np.arange(n))  # disjoint and complete
    for part in split.values():
        assert part.dtype == np.int64 and np.all(np.diff(part) > 0)


@pytest.fixture(scope="module")
def tox21(data_root):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedMoleculesWarning)
        return load_dataset("ogbg-moltox21", root=data_root, progress=False)


def test_scaffold_split_invariants_on_tox21(tox21):
    smiles = tox21.smiles
    n = len(smiles)
    split = scaffold_split(smiles)
    _check_partition(split, n)
    for part, stored in tox21.get_idx_split().items():
        assert np.array_equal(split[part], stored.numpy())  # deterministic: same as when the cache was built
    scaffolds = [murcko_scaffold(s) for s in smiles]
    owners = {part: {scaffolds[i] for i in idx} for part, idx in split.items()}
    assert (
        not owners["train"] & owners["valid"]
        and not owners["train"] & owners["test"]
        and not owners["valid"] & owners["test"]
    )
    # each split misses its 80/10/10 target by less than one scaffold set
    largest_set = max(Counter(scaffolds).values())
    assert len(split["train"]) <= 0.8 * n and 0.8 * n - len(split["train"]) < largest_set
    assert abs(len(split["valid"]) - 0.1 * n) < largest_set and abs(len(split["test"]) - 0.1 * n) < largest_set
    # the largest scaffold sets are learnt in train
    most_common = [s for s, _ in Counter(scaffolds).most_common(5)]
    assert all(s in owners["train"] for s in most_common)


# OGB's published split sizes, reproduced wherever today's RDKit parses every SMILES of the CSV
OGB_SPLIT_SIZES = {
    "ogbg-molbbbp": (1631, 204, 204),
    "ogbg-molbace": (1210, 151, 152),
    "ogbg-molsider": (1141, 143, 143),
    "ogbg-moltoxcast": (6860, 858, 858),
    "ogbg-molesol": (902, 113, 113),
}


@pytest.mark.parametrize("name", sorted(OGB_SPLIT_SIZES))
def test_scaffold_split_matches_ogb_published_sizes(name, data_root, data_cache):
    dataset = load_dataset(name, root=data_root, cache=data_cache, progress=False)
    split = dataset.get_idx_split()
    assert tuple(len(split[k]) for k in ("train", "valid", "test")) == OGB_SPLIT_SIZES[name]


def test_scaffold_split_hand_built_example():
    benzenes = [
        "c1ccccc1C", "c1ccccc1CC", "c1ccccc1O", "c1ccccc1N", "c1ccccc1Cl", "c1ccccc1F", "c1ccccc1Br", "c1ccccc1I",
    ]
    pyridines = ["c1ccncc1C"]
    acyclic = ["CCO"]
    split = scaffold_split(benzenes + pyridines + acyclic)
    assert split["train"].tolist() == list(range(8))  # 8 of 10 = exactly 80%: the benzene set
    assert sorted(split["valid"].tolist() + split["test"].tolist()) == [8, 9]


def test_scaffold_split_rejects_bad_input():
    with pytest.raises(ValueError, match="cannot parse"):
        scaffold_split(["CCO", "not a smiles"])
    with pytest.raises(ValueError, match="sum to 1"):
        scaffold_split(["CCO"], frac_train=0.8, frac_valid=0.1, frac_test=0.2)
    with pytest.raises(ValueError, match="at least one"):
        scaffold_split([])


def test_random_split_sizes_and_determinism():
    split = random_split(1001, seed=3)
    _check_partition(split, 1001)
    assert [len(split[k]) for k in ("train", "valid", "test")] == [801, 100, 100]
    assert np.array_equal(random_split(1001, seed=3)["test"], split["test"])
    assert not np.array_equal(random_split(1001, seed=4)["test"], split["test"])


def test_stratified_split_keeps_class_shares():
    labels = np.repeat([0, 1, 2], [500, 300, 200])
    split = stratified_split(labels, seed=0)
    _check_partition(split, labels.size)
    for part, share in (("train", 0.8), ("valid", 0.1), ("test", 0.1)):
        counts = np.bincount(labels[split[part]], minlength=3)
        np.testing.assert_array_equal(counts, np.round(share * np.array([500, 300, 200])).astype(int))
    with pytest.raises(ValueError, match="NaN"):
        stratified_split(np.array([0.0, np.nan, 1.0]))


def test_stratified_split_can_require_every_class_in_every_split():
    """The image targets' use: 60/20/20 with each class present in train, valid and test."""
    labels = np.repeat([0, 1], [50, 150])
    split = stratified_split(
        labels, frac_train=0.6, frac_valid=0.2, frac_test=0.2, seed=0, every_class_in_every_split=True
    )
    assert [len(split[k]) for k in ("train", "valid", "test")] == [120, 40, 40]
    assert np.bincount(labels[split["test"]]).tolist() == [10, 30]
    assert len(set().union(*map(set, split.values()))) == 200
    with pytest.raises(ValueError, match="sum to 1"):
        stratified_split(labels, frac_train=0.5, frac_valid=0.2, frac_test=0.2)
    with pytest.raises(ValueError, match=r"class 1 has 1 sample"):
        stratified_split(
            np.array([0, 0, 0, 0, 0, 1]), frac_train=0.6, frac_valid=0.2, frac_test=0.2, every_class_in_every_split=True
        )
    # without the requirement the same labels split, leaving class 1 out of valid and test
    loose = stratified_split(np.array([0, 0, 0, 1]), frac_train=0.6, frac_valid=0.2, frac_test=0.2)
    assert sorted(np.concatenate(list(loose.values())).tolist()) == [0, 1, 2, 3]


def test_stratified_sample_keeps_class_shares_and_a_floor_for_rare_classes():
    from gtransfer.data.splits import stratified_sample

    labels = np.array([0] * 960 + [1] * 40)  # 4% positives, as in many Tox21 tasks
    rows = stratified_sample(labels, 50, seed=0)
    assert rows.size == 50 and np.unique(rows).size == 50 and np.all(np.diff(rows) > 0)
    assert np.bincount(labels[rows]).tolist() == [48, 2]  # 2 = 50 * 4%, and the floor
    rows = stratified_sample(labels, 500, seed=0)
    assert np.bincount(labels[rows]).tolist() == [480, 20]
    assert np.array_equal(stratified_sample(labels, 50, seed=1), stratified_sample(labels, 50, seed=1))
    assert not np.array_equal(stratified_sample(labels, 50, seed=1), stratified_sample(labels, 50, seed=2))
    skewed = np.array([0] * 995 + [1] * 5)  # 0.5%: the floor of 2 lifts the rare class above its share
    assert np.bincount(skewed[stratified_sample(skewed, 50, seed=0)]).tolist() == [48, 2]
    assert np.array_equal(stratified_sample(labels, 5000), np.arange(1000))
    regression = np.linspace(0, 1, 100)
    assert stratified_sample(regression, 10, seed=0).size == 10
    with pytest.raises(ValueError, match="3 classes need at least 6 rows"):
        stratified_sample(np.repeat([0, 1, 2], 10), 5)
