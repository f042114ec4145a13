"""LogME's regression form: the classification evidence with real targets in place of one-hot columns."""

import numpy as np
import pytest

from gtransfer import metrics


@pytest.mark.parametrize("n,d", [(120, 8), (15, 40)])  # primal (n >= d) and dual (n < d) eigenproblems
def test_one_hot_targets_give_the_classification_logme(n, d):
    rng = np.random.default_rng(0)
    labels = np.arange(n) % 3
    features = rng.standard_normal((n, d)) + 1.5 * rng.standard_normal((3, d))[labels]
    one_hot = np.eye(3)[labels]
    assert metrics.logme_regression(features, one_hot) == pytest.approx(metrics.logme(features, labels), rel=1e-10)


def test_evidence_at_the_fixed_point_matches_the_dense_formula():
    """With alpha, beta converged, L = d/2 log a + n/2 log b - n/2 log 2pi - b/2 |Fm - y|^2 - a/2 |m|^2 - 1/2 log|aI + b
    F^T F|."""
    rng = np.random.default_rng(1)
    n, d = 200, 6
    features = rng.standard_normal((n, d))
    y = features @ rng.standard_normal(d) + 0.3 * rng.standard_normal(n)
    value = metrics.logme_regression(features, y, max_iter=200, tol=1e-12)
    alpha, beta = 1.0, 1.0
    gram = features.T @ features
    for _ in range(500):  # the fixed point of You et al., densely
        a_matrix = alpha * np.eye(d) + beta * gram
        m = beta * np.linalg.solve(a_matrix, features.T @ y)
        gamma = np.sum(np.linalg.eigvalsh(beta * gram) / (alpha + np.linalg.eigvalsh(beta * gram)))
        alpha, beta = gamma / (m @ m), (n - gamma) / np.sum((features @ m - y) ** 2)
    a_matrix = alpha * np.eye(d) + beta * gram
    m = beta * np.linalg.solve(a_matrix, features.T @ y)
    dense = (
        d / 2 * np.log(alpha)
        + n / 2 * np.log(beta)
        - n / 2 * np.log(2 * np.pi)
        - beta / 2 * np.sum((features @ m - y) ** 2)
        - alpha / 2 * m @ m
        - 0.5 * np.linalg.slogdet(a_matrix)[1]
    ) / n
    assert value == pytest.approx(dense, rel=1e-6)


def test_predictable_targets_score_higher_and_missing_rows_are_left_out():
    rng = np.random.default_rng(2)
    features = rng.standard_normal((300, 10))
    y = features @ rng.standard_normal(10) + 0.1 * rng.standard_normal(300)
    shuffled = rng.permutation(y)
    assert metrics.logme_regression(features, y) > metrics.logme_regression(features, shuffled) + 0.5
    two = np.stack([y, shuffled], 1)
    assert metrics.logme_regression(features, two) == pytest.approx(
        (metrics.logme_regression(features, y) + metrics.logme_regression(features, shuffled)) / 2, rel=1e-12)
    holed = y.copy()
    holed[:50] = np.nan
    assert metrics.logme_regression(features, holed) == pytest.approx(
        metrics.logme_regression(features[50:], y[50:]), rel=1e-12
    )
    with pytest.raises(ValueError, match="targets must be"):
        metrics.logme_regression(features, y[:10])
    with pytest.raises(ValueError, match="at least 2"):
        metrics.logme_regression(features, np.full(300, np.nan))
