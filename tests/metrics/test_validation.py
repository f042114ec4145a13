"""Bad input gets a ValueError or TypeError that names the problem (and says how to fix it)."""

import numpy as np
import pytest
import torch

from gtransfer import evaluation, metrics

rng = np.random.default_rng(0)
F = rng.standard_normal((40, 5))
Y = np.arange(40) % 2
P = np.full((40, 3), 1 / 3)

with_nan = F.copy()
with_nan[3, 1] = np.nan
with_inf = F.copy()
with_inf[7, 0] = np.inf

FEATURE_CASES = [
    # (features, labels, exception, message)
    (with_nan, Y, ValueError, r"1 NaN and 0 infinite values in 1 rows \(first rows: \[3\]\)"),
    (with_inf, Y, ValueError, r"0 NaN and 1 infinite"),
    (F[0], Y, ValueError, r"must be 2-D"),
    (F[None], Y, ValueError, r"must be 2-D"),
    (F[:1], Y[:1], ValueError, r"at least 2 samples"),
    (F[:, :0], Y, ValueError, r"no feature columns"),
    (F.astype(complex), Y, TypeError, r"real numbers"),
    ("features", Y, TypeError, r"numpy array or a torch tensor"),
    (F, Y[:-1], ValueError, r"39 entries but the features have 40 rows"),
    (F, np.zeros(40, dtype=int), ValueError, r"single class"),
    (F, Y - 1, ValueError, r"non-negative.*np.unique"),
    (F, Y + 0.5, ValueError, r"non-integer values.*np.unique"),
    (F, Y * 2, ValueError, r"absent: \[1\]"),
    (F, np.eye(2)[Y], ValueError, r"one-hot labels pass labels.argmax\(1\)"),
    (F, np.array(["a", "b"] * 20), ValueError, r"integer class indices"),
    (torch.from_numpy(with_nan), torch.from_numpy(Y), ValueError, r"NaN"),
]


@pytest.mark.parametrize("name", ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate"])
@pytest.mark.parametrize("features, labels, exception, message", FEATURE_CASES)
def test_feature_metrics_reject_bad_input(name, features, labels, exception, message):
    with pytest.raises(exception, match=message):
        metrics.METRICS[name](features, labels)


PROBABILITY_CASES = [
    (P - 0.5, r"negative values .* not logits"),
    (P * 2, r"rows must sum to 1 \(40 rows deviate, worst by 1, tolerance 1e-06 for its dtype\).*normalise"),
    (P[:, 0], r"must be 2-D"),
    (P[:30], r"30 rows but labels have 40"),
    (np.where(np.arange(120).reshape(40, 3) == 5, np.nan, P), r"1 NaN or infinite"),
]


@pytest.mark.parametrize("probs, message", PROBABILITY_CASES)
def test_leep_rejects_bad_probabilities(probs, message):
    with pytest.raises(ValueError, match=message):
        metrics.leep(probs, Y)


def test_nce_rejects_bad_source_labels():
    with pytest.raises(ValueError, match="pass source_probs.argmax"):
        metrics.nce(np.full(40, 0.5), Y)
    with pytest.raises(ValueError, match="non-negative"):
        metrics.nce(-np.ones(40, dtype=int), Y)
    with pytest.raises(ValueError, match="40 entries but labels have 10|has 40 entries"):
        metrics.nce(np.zeros(40, dtype=int), Y[:10])


def test_score_all_rejects_unknown_metrics_and_missing_probabilities():
    with pytest.raises(ValueError, match=r"unknown metrics \['hscore'\]"):
        metrics.score_all(F, Y, metrics=["hscore"])
    with pytest.raises(ValueError, match=r"need source_probs"):
        metrics.score_all(F, Y, metrics=["leep"])


def test_metric_options_are_checked():
    with pytest.raises(ValueError, match="shrinkage must be in"):
        metrics.shrinkage_h_score(F, Y, shrinkage=1.5)
    with pytest.raises(ValueError, match="gaussian must be one of"):
        metrics.gbc(F, Y, gaussian="full")
    with pytest.raises(ValueError, match="pca_dim must be in"):
        metrics.gbc(F, Y, pca_dim=50)
    with pytest.raises(ValueError, match="epsilon must be positive"):
        metrics.transrate(F, Y, epsilon=0)
    with pytest.raises(ValueError, match="at least 2 samples in every class"):
        metrics.knn_accuracy(F, np.r_[np.zeros(39, int), 1])
    with pytest.raises(ValueError, match="form must be one of"):
        metrics.correct_for_label_entropy(-1.0, 1.0, form="ratio")


def test_evaluation_rejects_mismatched_or_non_finite_inputs():
    with pytest.raises(ValueError, match="3 candidates but truth has 2"):
        evaluation.spearman([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="finite"):
        evaluation.pearson([1, np.nan, 3], [1, 2, 3])
    with pytest.raises(ValueError, match="at least two candidates"):
        evaluation.kendall([1], [1])
    with pytest.raises(ValueError, match="baseline accuracy must be in"):
        evaluation.relative_accuracy(0.9, 1.0)
