"""LogME as published (eigenvectors formed, a fixed point per class: metrics.textbook.textbook_logme), claim (c)'s
second comparator, equals gtransfer's LogME to 1e-9 relative (both float64; measured differences 1e-15 to 1e-11)."""

import numpy as np
import pytest

from gtransfer.bench.metrics import make_features
from gtransfer.metrics import logme
from gtransfer.metrics.textbook import textbook_logme


@pytest.mark.parametrize("n, d, classes", [(500, 64, 5), (300, 100, 3), (80, 200, 4), (1000, 256, 10), (60, 20, 2)])
def test_published_algorithm_equals_gtransfer_logme(n, d, classes):
    features, labels = make_features(n, d, classes, seed=1)
    assert textbook_logme(features, labels) == pytest.approx(logme(features, labels), rel=1e-9)


def test_rank_deficient_features():
    features, labels = make_features(200, 40, 3, seed=2)
    features = np.hstack([features, features[:, :10]])  # 10 duplicated columns: rank 40 of 50
    assert textbook_logme(features, labels) == pytest.approx(logme(features, labels), rel=1e-9)
