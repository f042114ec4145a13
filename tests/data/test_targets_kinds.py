"""The target grammar's kinds: binary and multi-class targets as before, a multi-task dataset as one target
(``ogbg-molclintox``: every task, NaN = missing), regression targets (``ogbg-molesol``)."""

from __future__ import annotations

import numpy as np
import pytest

from gtransfer.data.targets import GraphTarget, load_target, subsample_target


def _target(labels, kind=""):
    n = len(labels)
    splits = {"train": np.arange(0, n - 4), "valid": np.arange(n - 4, n - 2), "test": np.arange(n - 2, n)}
    return GraphTarget("t", None, "t", "graph", np.arange(n), np.asarray(labels), splits, None, task_kind=kind)


def test_task_kind_is_derived_from_class_labels_and_checked():
    assert _target(np.array([0, 1, 1, 0, 1, 0, 0, 1])).task_kind == "binary"
    multiclass = _target(np.array([0, 2, 1, 0, 1, 2, 0, 1]))
    assert (
        multiclass.task_kind == "multiclass" and multiclass.eval_metric == "accuracy" and multiclass.is_classification
    )
    regression = _target(np.linspace(-1, 1, 8), "regression")
    assert regression.eval_metric == "rmse" and not regression.is_classification and regression.num_tasks == 1
    with pytest.raises(ValueError, match="task_kind must be one of"):
        _target(np.zeros(8), "ordinal")


def test_subsampling_a_regression_target_keeps_float_labels_and_split_shares():
    target = _target(np.linspace(-3, 3, 400), "regression")
    target = GraphTarget(
        target.name, None, "t", "graph", target.indices, target.labels,
        {"train": np.arange(320), "valid": np.arange(320, 360), "test": np.arange(360, 400)},
        None,
        task_kind="regression",
    )
    small = subsample_target(target, 100, seed=1)
    assert small.task_kind == "regression" and small.labels.dtype == np.float64
    assert {k: len(v) for k, v in small.splits.items()} == {"train": 80, "valid": 10, "test": 10}
    assert np.array_equal(small.labels, target.labels[small.indices])


def test_a_multi_task_dataset_is_one_target_and_a_task_of_it_another():
    whole = load_target("ogbg-molclintox")  # shipped in datasets/
    assert whole.task_kind == "multitask" and whole.task_names == ("FDA_APPROVED", "CT_TOX")
    assert whole.labels.shape == (whole.indices.size, 2) and whole.labels.dtype == np.float64
    assert set(np.unique(whole.labels[~np.isnan(whole.labels)])) == {0.0, 1.0}
    assert not np.isnan(whole.labels).all(axis=1).any(), "molecules without any label are left out"
    assert whole.eval_metric == "rocauc" and whole.num_tasks == 2
    one = load_target("ogbg-molclintox:CT_TOX", dataset=whole.dataset)
    assert one.task_kind == "binary" and one.labels.dtype == np.int64 and one.task_names == ("CT_TOX",)
    column = whole.labels[:, 1]
    assert np.array_equal(one.labels, column[~np.isnan(column)].astype(np.int64))
    # the split is the dataset's scaffold split in both
    test_ids = set(whole.indices[whole.splits["test"]].tolist())
    assert set(one.indices[one.splits["test"]].tolist()) <= test_ids
    assert sum(len(v) for v in whole.splits.values()) == whole.indices.size


@pytest.mark.shared_data
def test_esol_is_a_regression_target(shared_data):
    target = load_target("ogbg-molesol", root=shared_data)
    assert target.task_kind == "regression" and target.eval_metric == "rmse"
    assert target.labels.shape == (1128,) and target.labels.dtype == np.float64
    assert -12 < target.labels.min() < target.labels.max() < 3  # log solubility in mol/L
    assert {k: len(v) for k, v in target.splits.items()} == {"train": 902, "valid": 113, "test": 113}
    assert load_target("ogbg-molesol:0", dataset=target.dataset).labels.shape == (1128,)
    with pytest.raises(ValueError, match="no task 'logP'"):
        load_target("ogbg-molesol:logP", dataset=target.dataset)
