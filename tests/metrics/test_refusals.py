"""A metric that cannot score drops out of ``score_all`` with its reason; labels that are sample ids are refused."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from gtransfer import metrics
from gtransfer.metrics import registry


def _many_classes(n: int = 2000, num_classes: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % num_classes
    return rng.standard_normal((n, 8)) + 0.3 * labels[:, None], labels


def test_score_all_scores_the_others_when_nleep_refuses_many_classes(monkeypatch):
    """C = 40, n = 2,000: N-LEEP's bias guard refuses, decided from n and C before any PCA or mixture fit."""
    features, labels = _many_classes()

    def no_fit(*args, **kwargs):
        raise AssertionError("N-LEEP fitted a PCA or a mixture although its refusal was known from n and C")

    monkeypatch.setattr("sklearn.decomposition.PCA", no_fit)
    monkeypatch.setattr("sklearn.mixture.GaussianMixture", no_fit)
    scores = metrics.score_all(features, labels)
    assert list(scores.refused) == ["nleep"]
    assert scores.refused["nleep"].startswith("N-LEEP with 200 mixture components (5 per class) on 2000 samples")
    assert "use at least 4208 samples" in scores.refused["nleep"]
    expected = [name for name in metrics.FEATURE_METRICS if name != "nleep"] + ["label_entropy"]
    assert list(scores) == expected
    # the values of the metrics that scored are the ones each gives alone
    for name in ("h_score", "logme", "gbc", "transrate"):
        assert scores[name] == pytest.approx(metrics.METRICS[name](features, labels), rel=1e-10)
    assert scores["label_entropy"] == pytest.approx(math.log(40), rel=1e-14)


def test_the_refusal_reason_is_nleeps_own_error():
    features, labels = _many_classes()
    with pytest.raises(ValueError) as alone:
        metrics.nleep(features, labels)
    assert metrics.score_all(features, labels, metrics=["h_score", "nleep"]).refused == {"nleep": str(alone.value)}


def test_a_metric_that_fails_while_computing_is_refused_and_the_rest_kept(monkeypatch):
    features, labels = _many_classes(n=400, num_classes=4)

    def cannot(features, labels):
        raise ValueError("cannot score these")

    spec = registry.METRIC_SPECS["knn_accuracy"]
    monkeypatch.setitem(registry.METRIC_SPECS, "knn_accuracy", dataclasses.replace(spec, function=cannot))
    scores = metrics.score_all(features, labels, metrics=["knn_accuracy", "h_score"])
    assert scores.refused == {"knn_accuracy": "cannot score these"}
    assert list(scores) == ["h_score", "label_entropy"]


def test_every_requested_metric_refused_is_an_error_with_every_reason():
    features = np.random.default_rng(3).standard_normal((8, 3))
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 1])  # a class of one sample: no cross-validation
    with pytest.raises(
        ValueError,
        match=r"no requested metric can score these data:\nknn_accuracy: cross-validated "
        r"baselines need at least 2 samples in every class \(the smallest class has 1\)\n"
        r"linear_probe_accuracy: cross-validated",
    ):
        metrics.score_all(features, labels, metrics=["knn_accuracy", "linear_probe_accuracy"])


def test_bad_input_still_raises_rather_than_being_refused():
    features, labels = _many_classes(n=400, num_classes=4)
    features[5, 2] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN"):
        metrics.score_all(features, labels)


@pytest.mark.parametrize("name", ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "nleep", "knn_accuracy",
                                  "linear_probe_accuracy", "leep", "nce"])
def test_labels_that_are_sample_ids_are_refused(name):
    """C = n: every class mean is one sample and the H-score would read C - 1 for any features."""
    rng = np.random.default_rng(4)
    n = 30
    inputs = rng.dirichlet(np.ones(3), size=n) if name in ("leep",) else rng.standard_normal((n, 5))
    if name == "nce":
        inputs = rng.integers(0, 3, n)
    rule = r"30 classes for 30 samples .* at least 2 samples per class on average \(C <= n / 2\).*merge rare classes"
    with pytest.raises(ValueError, match=rule):
        metrics.METRICS[name](inputs, np.arange(n)) if name != "nce" else metrics.nce(inputs, np.arange(n))
    labels = np.arange(n) % 16  # 16 classes > 30 / 2
    with pytest.raises(ValueError, match=r"16 classes for 30 samples"):
        metrics.METRICS[name](inputs, labels) if name != "nce" else metrics.nce(inputs, labels)


def test_two_samples_per_class_on_average_is_accepted():
    features = np.random.default_rng(5).standard_normal((30, 4))
    value = metrics.h_score(features, np.arange(30) % 15)  # C = n / 2 exactly
    assert 0.0 <= value <= 14.0
