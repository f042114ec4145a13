"""Baselines in the metric API: cross-validated k-NN accuracy and linear-probe accuracy."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._backend import Array
from ._validation import check_features, check_labels

if TYPE_CHECKING:
    from sklearn.base import BaseEstimator
    from sklearn.model_selection import StratifiedKFold

__all__ = ["knn_accuracy", "linear_probe_accuracy", "cross_validation_refusal"]


def _folds(labels: np.ndarray, folds: int, seed: int) -> StratifiedKFold:
    from sklearn.model_selection import StratifiedKFold

    refusal = cross_validation_refusal(np.bincount(labels))
    if refusal is not None:
        raise ValueError(refusal)
    return StratifiedKFold(n_splits=min(folds, int(np.bincount(labels).min())), shuffle=True, random_state=seed)


def cross_validation_refusal(class_counts: np.ndarray) -> str | None:
    """Why the cross-validated baselines refuse labels with these class counts (None: they score them).

    Examples:
        >>> cross_validation_refusal(np.array([5, 1]))
        'cross-validated baselines need at least 2 samples in every class (the smallest class has 1)'
    """
    smallest = int(np.min(class_counts))
    if smallest < 2:
        return f"cross-validated baselines need at least 2 samples in every class (the smallest class has {smallest})"
    return None


def _cross_validated_accuracy(model: BaseEstimator, features: Array, labels: Array, folds: int, seed: int) -> float:
    from sklearn.model_selection import cross_val_score

    checked = check_features(features)
    labels = check_labels(labels, checked.shape[0])
    x = checked.backend.to_numpy(checked.features).astype(np.float64, copy=False)
    return float(cross_val_score(model, x, labels, cv=_folds(labels, folds, seed)).mean())


def knn_accuracy(features: Array, labels: Array, *, k: int = 5, folds: int = 5, seed: int = 0) -> float:
    """Mean stratified k-fold accuracy of a k-nearest-neighbour classifier (Euclidean) on the features.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(knn_accuracy(features, labels), 2)
        0.82
        >>> round(knn_accuracy(rng.standard_normal((60, 3)), labels), 2)
        0.17
    """
    from sklearn.neighbors import KNeighborsClassifier

    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return _cross_validated_accuracy(KNeighborsClassifier(n_neighbors=k), features, labels, folds, seed)


def linear_probe_accuracy(
    features: Array, labels: Array, *, regularization: float = 1.0, folds: int = 5, seed: int = 0, max_iter: int = 1000
) -> float:
    """Mean stratified k-fold accuracy of a standardised, L2-regularised logistic regression.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(linear_probe_accuracy(features, labels), 2)
        0.83
        >>> round(linear_probe_accuracy(rng.standard_normal((60, 3)), labels), 2)
        0.33
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(C=regularization, max_iter=max_iter))
    return _cross_validated_accuracy(model, features, labels, folds, seed)
