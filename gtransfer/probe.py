"""Linear probe of frozen embeddings on multi-task binary labels (the published-encoder sanity check).

For each task: standardise features on the training rows, fit an L2 logistic regression on the
training rows whose label is not NaN, score the test rows; the result is the OGB-style mean ROC-AUC
over the tasks that have both classes in the test split (:func:`gtransfer.task_metrics.rocauc_multilabel`).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from gtransfer.task_metrics import rocauc_multilabel

__all__ = ["probe_rocauc"]


def probe_rocauc(features: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray,
                 C: float = 0.1, max_iter: int = 500) -> float:
    """Test ROC-AUC of per-task logistic-regression probes.

    Args:
        features: (n, d) frozen embeddings.
        labels: (n, T) in {0, 1}, NaN for missing.
        train, test: row indices.
        C: inverse L2 strength of the logistic regression.
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.float64).reshape(len(features), -1)
    if not np.isfinite(features).all():
        raise ValueError("features contain NaN or inf")
    scaler = StandardScaler().fit(features[train])
    x_train, x_test = scaler.transform(features[train]), scaler.transform(features[test])
    scores = np.zeros((len(test), labels.shape[1]))
    for t in range(labels.shape[1]):
        known = ~np.isnan(labels[train, t])
        y = labels[train, t][known]
        if y.size == 0 or y.min() == y.max():
            scores[:, t] = 0.0  # a task with one training class cannot be probed; constant score = AUC 0.5
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = LogisticRegression(C=C, max_iter=max_iter).fit(x_train[known], y)
        scores[:, t] = clf.decision_function(x_test)
    return rocauc_multilabel(labels[test], scores)
