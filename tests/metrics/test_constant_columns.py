"""Constant feature columns are dropped exactly: every metric is the same with or without them, at any magnitude."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from gtransfer import metrics
from gtransfer.metrics import ConstantColumnsWarning

rng = np.random.default_rng(0)
LABELS = np.arange(300) % 3
FEATURES = rng.standard_normal((300, 5)) + 0.5 * LABELS[:, None]


def _with_constants(features: np.ndarray, magnitude: float) -> np.ndarray:
    """Constant columns of +magnitude and -magnitude/3, one in front, one in the middle."""
    n = features.shape[0]
    return np.c_[np.full(n, magnitude), features[:, :2], np.full(n, -magnitude / 3), features[:, 2:]]


@pytest.mark.parametrize("name", metrics.FEATURE_METRICS)
def test_every_feature_metric_ignores_constant_columns_of_any_magnitude(name):
    """Before, a constant column at 1e20 gave h_score 2.7268 (above C - 1 = 2) and 1.0 from 1e30 on; GBC (by 2e-13
    here) and TransRate moved too. Bit-equal now: once the constant columns are dropped the metric reads the same
    array."""
    base = metrics.METRICS[name](FEATURES, LABELS)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantColumnsWarning)
        values = {exponent: metrics.METRICS[name](_with_constants(FEATURES, 10.0**exponent), LABELS)
                  for exponent in (0, 5, 10, 15, 20, 25, 30)}
    assert values == dict.fromkeys(values, base)


def test_h_score_with_a_huge_constant_column_stays_within_its_bound():
    with pytest.warns(ConstantColumnsWarning):
        value = metrics.h_score(np.c_[FEATURES, np.full(300, 1e20)], LABELS)
    assert 0.0 <= value <= 2.0
    assert value == pytest.approx(metrics.h_score(FEATURES, LABELS), rel=1e-12)


def test_the_dropped_columns_are_counted():
    with pytest.warns(ConstantColumnsWarning, match=r"features: 2 of 7 columns hold one value each and were dropped"):
        scores = metrics.score_all(_with_constants(FEATURES, 1e30), LABELS, metrics=["h_score"])
    assert scores.constant_columns == 2
    assert metrics.score_all(FEATURES, LABELS, metrics=["h_score"]).constant_columns == 0


def test_torch_features_drop_constant_columns_too():
    features = torch.from_numpy(_with_constants(FEATURES, 1e25))
    with pytest.warns(ConstantColumnsWarning):
        value = metrics.transrate(features, torch.from_numpy(LABELS))
    assert value == pytest.approx(metrics.transrate(FEATURES, LABELS), rel=1e-12)


def test_features_without_a_varying_column_score_as_no_information():
    """Every column constant: one zero column stands for them, the values of all-zero features."""
    constant = np.tile([3.0, -1e22, 7.5], (30, 1))
    labels = np.arange(30) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConstantColumnsWarning)
        for name in ("h_score", "shrinkage_h_score", "transrate", "gbc", "logme"):
            assert metrics.METRICS[name](constant, labels) == metrics.METRICS[name](np.zeros((30, 4)), labels), name


def test_a_column_constant_only_in_its_first_rows_is_kept():
    """Columns constant over the first block of rows (32,768 rows at d = 4) are only candidates: one value that
    differs in the last row keeps the column; the columns constant throughout are still found."""
    n = 40000
    labels = np.arange(n) % 2
    features = np.c_[np.random.default_rng(1).standard_normal(n), np.full(n, 5.0), np.full(n, 1e20), np.zeros(n)]
    features[-1, 1] = 5.5
    with pytest.warns(ConstantColumnsWarning, match=r"2 of 4 columns"):
        scores = metrics.score_all(features, labels, metrics=["h_score"])
    assert scores.constant_columns == 2
    assert scores["h_score"] == metrics.h_score(features[:, :2], labels)
