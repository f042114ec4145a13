"""Task specs and label rows of every kind of target; OGB's average precision; MAE; and fine-tuning a tiny
regression task, which fails if the MSE loss's sign or RMSE's direction flips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from gtransfer.data.targets import GraphTarget
from gtransfer.models import GIN
from gtransfer.training.finetune import finetune
from gtransfer.training.task_metrics import (
    HIGHER_IS_BETTER,
    METRIC_FUNCTIONS,
    average_precision_multilabel,
    mae,
    metric_of_target,
    rmse,
)
from gtransfer.training.tasks import graph_labels, task_spec_of


def _target(labels, kind="", eval_metric=""):
    labels = np.asarray(labels)
    n = labels.shape[0]
    return GraphTarget(
        "t", None, "t", "graph",
        np.arange(n),
        labels,
        {"train": np.arange(n)},
        None,
        task_kind=kind,
        eval_metric=eval_metric,
    )


def test_task_spec_and_label_rows_of_every_kind():
    binary = _target(np.array([0, 1, 1, 0]))
    assert (task_spec_of(binary).kind, task_spec_of(binary).num_outputs) == ("multilabel", 1)
    rows = graph_labels(binary, np.array([2, 0]))
    assert rows.dtype == torch.float32 and rows.tolist() == [[1.0], [0.0]]

    multitask = _target(np.array([[0, np.nan, 1], [1, 1, np.nan]]), "multitask")
    assert (task_spec_of(multitask).kind, task_spec_of(multitask).num_outputs) == ("multilabel", 3)
    rows = graph_labels(multitask, np.array([1, 0]))
    assert rows.shape == (2, 3) and torch.isnan(rows[0, 2]) and torch.isnan(rows[1, 1]) and rows[0, 0] == 1

    multiclass = _target(np.array([0, 3, 1, 2]))
    assert (task_spec_of(multiclass).kind, task_spec_of(multiclass).num_outputs) == ("multiclass", 4)
    rows = graph_labels(multiclass, np.array([1, 3]))
    assert rows.dtype == torch.long and rows.tolist() == [3, 2]

    regression = _target(np.array([-1.5, 0.25, 2.0]), "regression")
    assert (task_spec_of(regression).kind, task_spec_of(regression).num_outputs) == ("regression", 1)
    assert graph_labels(regression, np.array([0, 2])).tolist() == [[-1.5], [2.0]]


def test_measure_of_each_target():
    assert metric_of_target(_target(np.zeros((3, 17)), "multitask", "ap")) == "average_precision"  # MUV, PCBA
    assert metric_of_target(_target(np.zeros((3, 12)), "multitask", "rocauc")) == "rocauc"  # Tox21
    assert metric_of_target(_target(np.array([0, 1, 0]), "binary", "ap")) == "average_precision"  # one MUV task
    assert metric_of_target(_target(np.array([0, 2, 1]))) == "accuracy"
    assert metric_of_target(_target(np.array([0.5, 1.0, 2.0]), "regression", "rmse")) == "rmse"
    assert HIGHER_IS_BETTER["average_precision"] and not HIGHER_IS_BETTER["rmse"] and not HIGHER_IS_BETTER["mae"]
    assert set(METRIC_FUNCTIONS) == set(HIGHER_IS_BETTER)


def test_average_precision_matches_the_ogb_evaluator_and_mae_reference():
    from ogb.graphproppred import Evaluator

    rng = np.random.default_rng(0)
    y = (rng.random((300, 17)) < 0.1).astype(float)  # rare positives, 17 tasks, as MUV
    y[rng.random(y.shape) < 0.3] = np.nan
    y[:, 2] = np.where(np.isnan(y[:, 2]), np.nan, 0.0)  # one class only: skipped, as OGB does
    scores = rng.normal(size=y.shape) + 2 * np.nan_to_num(y)
    want = Evaluator("ogbg-molmuv").eval({"y_true": y, "y_pred": scores})["ap"]
    assert average_precision_multilabel(y, scores) == pytest.approx(want, abs=1e-12)
    assert mae(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, 2.5])) == pytest.approx(0.75)


def _sizes(n_graphs: int, seed: int) -> list[Data]:
    """Regression target: the number of nodes (4..12) of a path with constant features, centred."""
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(n_graphs):
        n = int(rng.integers(4, 13))
        src = torch.arange(n - 1)
        edge_index = torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])
        graphs.append(Data(x=torch.ones(n, 1), edge_index=edge_index, y=torch.tensor([[(n - 8.0) / 2.0]]), num_nodes=n))
    return graphs


def test_finetuning_a_regression_task_lowers_the_loss_and_beats_the_mean():
    train, valid, test = _sizes(64, 0), _sizes(32, 1), _sizes(32, 2)
    encoder = GIN(num_layers=2, hidden_dim=16, node_features=1, edge_features=None, pooling="sum")
    result = finetune(
        encoder,
        DataLoader(train, batch_size=16, shuffle=True, generator=torch.Generator().manual_seed(0)),
        DataLoader(valid, batch_size=32),
        DataLoader(test, batch_size=32),
        task=task_spec_of(_target(np.zeros(3), "regression")),
        epochs=40,
        patience=40,
        lr=1e-2,
        seed=0,
        device="cpu",
    )
    assert result.metric == "rmse"
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.2 * losses[0] and min(losses) >= 0.0, losses  # MSE: positive and falling
    # the best epoch is the one with the LOWEST validation RMSE
    valid_rmses = [h["valid_metric"] for h in result.history]
    assert result.valid_metric == min(valid_rmses) and result.best_epoch == 1 + int(np.argmin(valid_rmses))
    y_train = np.array([g.y.item() for g in train])
    y_test = np.array([g.y.item() for g in test])
    mean_rmse = rmse(y_test, np.full_like(y_test, y_train.mean()))
    assert result.test_metric < 0.5 * mean_rmse, (result.test_metric, mean_rmse)
