"""Textbook (dense, unoptimised) formulas, used as the baseline of the benchmark and as an
independent check in the tests. Not part of the public API."""

from __future__ import annotations

import numpy as np


def class_mean_matrix(features: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The n x d matrix whose row i is the mean of the class of sample i."""
    means = np.stack([features[labels == c].mean(0) for c in range(labels.max() + 1)])
    return means[labels]


def textbook_h_score(features: np.ndarray, labels: np.ndarray) -> float:
    """tr(pinv(cov f) cov(E[f|y])), both np.cov (ddof=1)."""
    cov_f = np.cov(features, rowvar=False)
    cov_g = np.cov(class_mean_matrix(features, labels), rowvar=False)
    return float(np.trace(np.linalg.pinv(cov_f, rcond=1e-15) @ cov_g))


def textbook_shrinkage_h_score(features: np.ndarray, labels: np.ndarray) -> float:
    """scikit-learn's LedoitWolf shrunk covariance, the class-mean matrix's covariance, pinv."""
    from sklearn.covariance import LedoitWolf

    features = features.astype(np.float64)
    centred = features - features.mean(0)
    estimator = LedoitWolf(assume_centered=False).fit(centred)
    alpha = estimator.shrinkage_
    cov_g = np.cov(class_mean_matrix(centred, labels), rowvar=False)
    return float(np.trace(np.linalg.pinv(estimator.covariance_, rcond=1e-15) @ ((1 - alpha) * cov_g)))
