"""Scoring a target's embeddings by its kind: class labels as before, LogME's regression form, mean over tasks."""

import numpy as np
import pytest

from gtransfer import metrics
from gtransfer.selection.task_scores import metric_applies, score_target


def _data(seed=0, n=120, d=6):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng


def test_class_labels_are_scored_as_score_all_does():
    features, rng = _data()
    labels = rng.integers(0, 3, 120)
    assert score_target(features, labels, "multiclass", metrics=["logme", "h_score"]) == metrics.score_all(
        features, labels, metrics=["logme", "h_score"])


def test_regression_uses_logme_regression_and_refuses_classification_metrics():
    features, rng = _data(1)
    y = features @ rng.standard_normal(6) + 0.2 * rng.standard_normal(120)
    assert score_target(features, y, "regression") == {
        "logme": pytest.approx(metrics.logme_regression(features, y), rel=1e-12)
    }
    assert metric_applies("logme", "regression") is None and metric_applies("h_score", "binary") is None
    with pytest.raises(
        ValueError,
        match=r"^h_score does not apply to a regression target: it needs class labels; "
        r"metrics with a regression form: logme$",
    ):
        score_target(features, y, "regression", metrics=["logme", "h_score"])


def test_multitask_is_the_mean_over_tasks_on_their_labelled_rows():
    features, rng = _data(2)
    y = rng.integers(0, 2, (120, 3)).astype(float)
    y[rng.random((120, 3)) < 0.3] = np.nan
    y[:, 2] = np.where(np.isnan(y[:, 2]), np.nan, 1.0)  # one class only: not scorable, counted
    scores = score_target(features, y, "multitask", metrics=["logme", "gbc"])
    for name in ("logme", "gbc"):
        per_task = [
            metrics.METRICS[name](features[~np.isnan(y[:, t])], y[~np.isnan(y[:, t]), t].astype(int)) for t in (0, 1)
        ]
        assert scores[name] == pytest.approx(np.mean(per_task), rel=1e-12)
    assert scores["tasks_scored"] == 2 and scores["tasks_skipped"] == 1
    with pytest.raises(ValueError, match="none of the 1 tasks has both classes"):
        score_target(features, y[:, 2:], "multitask")


def test_a_metric_refused_on_a_later_task_drops_out_of_the_mean_with_its_reason():
    """The mean took the metric names of the first task: N-LEEP scored on task 0 but refused on task 1 (20
    labelled molecules) raised KeyError instead of leaving N-LEEP out with the reason."""
    features, rng = _data(3, n=200)
    y = rng.integers(0, 2, (200, 2)).astype(float)
    y[20:, 1] = np.nan  # task 1: 20 labelled rows, too few for N-LEEP's mixture
    scores = score_target(features, y, "multitask", metrics=["nleep", "logme"])
    assert "nleep" not in scores and scores["tasks_scored"] == 2
    rows = [~np.isnan(y[:, t]) for t in (0, 1)]
    per_task = [
        metrics.score_all(features[r], y[r, t].astype(int), metrics=["logme"])["logme"] for t, r in enumerate(rows)
    ]
    assert scores["logme"] == pytest.approx(np.mean(per_task), rel=1e-12)
    reason = metrics.score_all(features[:20], y[:20, 1].astype(int), metrics=["nleep", "logme"]).refused["nleep"]
    assert scores.refused == {"nleep": f"refused on 1 of 2 scored tasks (the first: {reason})"}


def test_a_multitask_targets_logme_is_logme_multilabel():
    """The multi-task mean of LogME is the stated multi-label form: each task's binary LogME on its labelled rows."""
    features, rng = _data(4, n=150)
    y = rng.integers(0, 2, (150, 3)).astype(float)
    y[rng.random((150, 3)) < 0.3] = np.nan
    scores = score_target(features, y, "multitask", metrics=["logme", "h_score"])
    assert scores["logme"] == pytest.approx(metrics.logme_multilabel(features, y), rel=1e-12)
