"""Planetoid (public split) statistics and the target-task builders."""

from __future__ import annotations

import pickle
import shutil
import warnings

import numpy as np
import pytest
import torch

from gtransfer.data import load_dataset
from gtransfer.data.class_subsets import TaskInfo, describe_labels
from gtransfer.data.molecules import SkippedMoleculesWarning, molecule_spec, read_molecule_csv
from gtransfer.data.roots import MissingDataError
from gtransfer.data.splits import random_split
from gtransfer.data.tasks import (
    binary_task_targets,
    class_subset_tasks,
    class_subset_tasks_from_labels,
    molecule_task_targets,
)

# Yang et al. 2016 / Kipf & Welling 2017: nodes, directed edges (PyG), features, classes, train/val/test.
PLANETOID_STATS = {"Cora": (2708, 10556, 1433, 7, 140, 500, 1000), "CiteSeer": (3327, 9104, 3703, 6, 120, 500, 1000)}


@pytest.mark.parametrize("name", sorted(PLANETOID_STATS))
def test_planetoid_published_statistics(name, data_root, data_cache):
    nodes, edges, features, classes, train, val, test = PLANETOID_STATS[name]
    dataset = load_dataset(name, root=data_root, cache=data_cache)
    graph = dataset[0]
    assert (graph.num_nodes, graph.edge_index.shape[1], graph.x.shape[1], dataset.num_classes) == (
        nodes, edges, features, classes,
    )
    assert (int(graph.train_mask.sum()), int(graph.val_mask.sum()), int(graph.test_mask.sum())) == (train, val, test)
    assert not (graph.train_mask & graph.test_mask).any() and not (graph.val_mask & graph.test_mask).any()
    # public split: 20 training nodes per class
    np.testing.assert_array_equal(torch.bincount(graph.y[graph.train_mask]).numpy(), np.full(classes, 20))


def test_planetoid_missing_files(tmp_path):
    with pytest.raises(MissingDataError, match="ind.cora.graph"):
        load_dataset("cora", root=tmp_path, cache=tmp_path / "cache")


class _System:
    """Unpickling this calls ``os.system(command)``: the classic hostile pickle."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        import os

        return (os.system, (self.command,))


def _copy_cora(data_root, root):
    raw = root / "planetoid" / "raw"
    raw.mkdir(parents=True)
    for path in (data_root / "planetoid" / "raw").glob("ind.cora.*"):
        shutil.copy(path, raw / path.name)
    return raw


def test_planetoid_pickles_are_read_with_an_allow_list(data_root, tmp_path):
    from gtransfer.data.planetoid import UnsafePickleError, read_planetoid_pickle

    raw = _copy_cora(data_root, tmp_path / "root")
    marker = tmp_path / "payload_ran"
    with open(raw / "ind.cora.x", "wb") as handle:
        pickle.dump(_System(f"touch {marker}"), handle, protocol=2)
    with pytest.raises(
        UnsafePickleError, match=r"ind.cora.x asks to load posix.system, which a Planetoid raw file never holds"
    ):
        read_planetoid_pickle(raw / "ind.cora.x")
    with pytest.raises(UnsafePickleError, match="ind.cora.x asks to load posix.system"):
        load_dataset("cora", root=tmp_path / "root", cache=tmp_path / "cache")
    assert not marker.exists()
    with open(raw / "ind.cora.y", "wb") as handle:
        pickle.dump(np.array([{"a": 1}], dtype=object), handle, protocol=2)
    with pytest.raises(UnsafePickleError, match=r"ind.cora.y (asks to load|holds an array of Python objects)"):
        read_planetoid_pickle(raw / "ind.cora.y")


def test_planetoid_allow_list_reads_the_published_files_exactly(data_root):
    from gtransfer.data.planetoid import read_planetoid_pickle

    raw = data_root / "planetoid" / "raw"
    for name in ("cora", "citeseer"):
        for part in ("x", "y", "tx", "ty", "allx", "ally", "graph"):
            with open(raw / f"ind.{name}.{part}", "rb") as handle:
                reference = pickle.load(handle, encoding="latin1")  # the trusted shipped files only
            value = read_planetoid_pickle(raw / f"ind.{name}.{part}")
            assert type(value) is type(reference)
            if part == "graph":
                assert value == reference
            else:
                dense = (lambda a: a.toarray() if hasattr(a, "toarray") else a)
                np.testing.assert_array_equal(dense(value), dense(reference))


# -- molecule task targets ---------------------------------------------------------------------------
@pytest.mark.parametrize("name,count", [("ogbg-moltox21", 12), ("ogbg-molsider", 27), ("ogbg-moltoxcast", 617)])
def test_molecule_task_targets(name, count, data_root, data_cache):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedMoleculesWarning)
        dataset = load_dataset(name, root=data_root, cache=data_cache, progress=False)
    tasks = molecule_task_targets(name, dataset=dataset)
    assert len(tasks) == count == dataset.num_tasks
    y = dataset._data.y.numpy()
    split = dataset.get_idx_split()
    for column, task in enumerate(tasks):
        assert task.name == f"{name}/{dataset.task_names[column]}"
        np.testing.assert_array_equal(task.valid_mask, ~np.isnan(y[:, column]))
        np.testing.assert_array_equal(task.valid_labels, y[task.valid_mask, column].astype(np.int64))
        assert np.all(task.labels[~task.valid_mask] == -1)
        assert task.info == describe_labels(task.valid_labels, name=task.name)
        assert task.info.num_samples == task.valid_mask.sum() and task.info.num_classes == 2
        for part in ("train", "valid", "test"):  # the scaffold split, restricted to labelled molecules
            expected = split[part].numpy()[task.valid_mask[split[part].numpy()]]
            np.testing.assert_array_equal(task.splits[part], expected)


def test_muv_task_targets_from_the_raw_labels(data_root):
    # featurising MUV's 93k molecules takes minutes on two cores; its 17 label columns are checked here
    spec = molecule_spec("ogbg-molmuv")
    smiles, labels, names = read_molecule_csv(data_root / "moleculenet" / "muv" / "raw" / "muv.csv.gz", spec)
    tasks = binary_task_targets(labels, names, random_split(len(smiles), seed=0), "ogbg-molmuv")
    assert len(tasks) == 17
    for column, task in enumerate(tasks):
        assert task.valid_mask.sum() == np.sum(~np.isnan(labels[:, column]))
        assert task.info.class_counts[1] == np.nansum(labels[:, column]) <= 30
        assert task.info.imbalance_ratio > 400  # ~15,000 decoys per ~30 actives
        assert sum(len(v) for v in task.splits.values()) == task.valid_mask.sum()


def test_binary_tasks_with_one_class_are_left_out_and_counted():
    y = np.array([[0, 1, np.nan], [1, 1, 0], [0, 1, 0], [np.nan, 1, np.nan]])
    split = {"train": np.array([0, 1]), "valid": np.array([2]), "test": np.array([3])}
    with pytest.warns(UserWarning, match=r"left out 2 of 3 tasks .*\('b', \[0, 4\]\), \('c', \[2, 0\]\)"):
        tasks = binary_task_targets(y, ["a", "b", "c"], split, "toy")
    assert [t.name for t in tasks] == ["toy/a"]
    assert tasks[0].splits["test"].size == 0 and tasks[0].info.class_counts == (2, 1)
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        binary_task_targets(np.array([[2.0]]), ["a"], split, "toy")


# -- class-subset tasks ------------------------------------------------------------------------------
@pytest.mark.parametrize("name,level,total_classes", [("ENZYMES", "graph", 6), ("IMDB-MULTI", "graph", 3),
                                                      ("Cora", "node", 7), ("CiteSeer", "node", 6)])
def test_class_subset_tasks(name, level, total_classes, data_root, data_cache):
    dataset = load_dataset(name, root=data_root, cache=data_cache)
    labels = dataset._data.y.numpy()
    tasks = class_subset_tasks(name, num_classes=3, imbalance_ratio=4.0, seed=7, num_tasks=3, dataset=dataset)
    again = class_subset_tasks(name, num_classes=3, imbalance_ratio=4.0, seed=7, num_tasks=3, dataset=dataset)
    assert len(tasks) == 3 and len({t.name for t in tasks}) == 3
    for task, twin in zip(tasks, again):
        assert task.level == level and isinstance(task.info, TaskInfo)
        np.testing.assert_array_equal(task.indices, twin.indices)  # deterministic by seed
        assert task.info.num_classes == 3
        assert task.info.imbalance_ratio == pytest.approx(4.0, rel=0.05)
        # labels are the original classes, remapped to 0..2 in increasing order
        original = labels[task.indices]
        np.testing.assert_array_equal(np.searchsorted(task.params["classes"], original), task.labels)
        parts = np.concatenate(list(task.splits.values()))
        np.testing.assert_array_equal(np.sort(parts), task.indices)
        assert set(task.params["classes"]) <= set(range(total_classes))


def test_class_subset_tasks_refuse_bad_requests():
    labels = np.repeat([0, 1, 2], 20)
    with pytest.raises(ValueError, match="num_classes must be in"):
        class_subset_tasks_from_labels(labels, "toy", num_classes=5)
    with pytest.raises(ValueError, match="imbalance_ratio must be >= 1"):
        class_subset_tasks_from_labels(labels, "toy", num_classes=2, imbalance_ratio=0.5)
    with pytest.raises(ValueError, match="multi-task"):
        class_subset_tasks("ogbg-moltox21", num_classes=2, dataset=object())
