"""Linear probes of frozen embeddings: a standardised logistic regression, the cheap ground truth.

:func:`fit_logistic_probe` is the one probe every caller uses (the ``probe`` and ``graph_probe``
trial kinds, the published-encoder sanity check): features standardised on the training rows, an
L2 logistic regression fitted on them, its iteration cap treated as a budget (no convergence warning).
:func:`probe_rocauc` probes each task of a multi-task binary target and reports the OGB-style mean
ROC-AUC over the tasks that have both classes in the test split
(:func:`gtransfer.training.task_metrics.rocauc_multilabel`). :func:`fit_ridge_probe` is the
regression counterpart (ESOL, FreeSolv, Lipophilicity), on the same standardised features.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from gtransfer.training.task_metrics import rocauc_multilabel

__all__ = ["fit_logistic_probe", "fit_ridge_probe", "probe_rocauc"]


def fit_logistic_probe(x_train: np.ndarray, y_train: np.ndarray, *, C: float = 1.0, max_iter: int = 500,
                       standardize: bool = True) -> Pipeline:
    """A fitted ``StandardScaler -> LogisticRegression(C)`` pipeline (``predict``, ``predict_proba``,
    ``decision_function``, ``classes_``).

    Args:
        x_train: (n, d) features.
        y_train: (n,) labels.
        C: inverse L2 strength of the logistic regression.
        max_iter: iteration cap, a deliberate budget: hitting it is not warned about.
        standardize: False for features the caller has standardised already.
    """
    steps = [StandardScaler()] if standardize else []
    model = make_pipeline(*steps, LogisticRegression(C=C, max_iter=max_iter))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    return model


def fit_ridge_probe(x_train: np.ndarray, y_train: np.ndarray, *, C: float = 1.0) -> Pipeline:
    """A fitted ``StandardScaler -> Ridge`` pipeline: w = argmin ||y - Xw - b||^2 + (1 / C) ||w||^2.

    ``C`` is the inverse L2 strength, as for :func:`fit_logistic_probe`, so one ``l2`` grid serves
    both probes (ridge's alpha = 1 / C).
    """
    if C <= 0:
        raise ValueError(f"fit_ridge_probe: C (inverse L2 strength) must be positive, got {C}")
    return make_pipeline(StandardScaler(), Ridge(alpha=1.0 / C)).fit(x_train, y_train)


def probe_rocauc(features: np.ndarray, labels: np.ndarray, train: np.ndarray, test: np.ndarray,
                 *, C: float = 0.1, max_iter: int = 500) -> float:
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
        # standardised once on all training rows, labelled for this task or not
        clf = fit_logistic_probe(x_train[known], y, C=C, max_iter=max_iter, standardize=False)
        scores[:, t] = clf.decision_function(x_test)
    return rocauc_multilabel(labels[test], scores)
