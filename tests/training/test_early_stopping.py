"""The one early-stopping tracker: per-member best, patience, ties, lower-is-better and diverged members."""

from __future__ import annotations

import math

import pytest

from gtransfer.training.early_stopping import EarlyStopping
from gtransfer.training.evaluation_step import divergence, evaluation_step
from gtransfer.training.finetune import TaskSpec


def test_each_member_keeps_its_best_and_its_own_patience() -> None:
    tracker = EarlyStopping([1, 3], higher_is_better=False)  # RMSE-like: lower is better
    assert tracker.record(1, [0, 1], [1.0, 1.0], [0.5, 0.5]) == ([0, 1], [])
    assert tracker.record(2, [0, 1], [0.9, 0.9], [0.5, 0.4]) == ([1], [0])  # a tie is no improvement
    assert tracker.record(3, [1], [0.8], [0.6]) == ([], [])  # rows are the members still in: row 0 is member 1
    assert tracker.record(4, [1], [0.7], [0.7]) == ([], [])
    assert tracker.record(5, [1], [0.7], [0.7]) == ([], [0])
    assert (tracker.best, tracker.best_epoch, tracker.epochs_run) == ([0.5, 0.4], [1, 2], [2, 5])
    assert [h["epoch"] for h in tracker.history[1]] == [1, 2, 3, 4, 5] and tracker.failures == [None, None]
    assert tracker.best_so_far() == 0.4


def test_a_diverged_member_stops_at_once_with_its_reason() -> None:
    tracker = EarlyStopping([5, 5], higher_is_better=True)
    reason = divergence(1, train_loss=math.inf, weights_finite=True, outputs_finite=True)
    assert reason == ("training diverged at epoch 1: the training loss (inf) turned non-finite "
                      "(lower the learning rate, or check the initial weights)")
    assert tracker.record(1, [0, 1], [math.inf, 0.3], [math.nan, 0.7], diverged={0: reason}) == ([1], [0])
    assert tracker.failures == [reason, None] and tracker.best == [-math.inf, 0.7] and tracker.best_so_far() == 0.7
    with pytest.raises(ValueError, match="patience must be one int >= 1 per member"):
        EarlyStopping([0], higher_is_better=True)


def test_the_evaluation_step_scores_finite_models_and_names_the_others() -> None:
    import numpy as np

    task = TaskSpec("multiclass", 2)
    outputs = np.array([[[2.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [1.0, 0.0]], [[np.nan, 0.0], [0.0, 1.0]]])
    metrics, diverged = evaluation_step(task, outputs, np.array([0, 1]), epoch=4, train_losses=[0.1, 0.2, 0.3],
                                        weights_finite=[True, True, True])
    assert metrics[:2] == [1.0, 0.5] and math.isnan(metrics[2])
    assert diverged == {2: "training diverged at epoch 4: the validation predictions turned non-finite "
                           "(lower the learning rate, or check the initial weights)"}
