"""Evaluation metrics of fine-tuned predictions, with the OGB evaluators' conventions.

* multilabel (molecule tasks): ROC-AUC per task over the rows whose label is not NaN, averaged over
  the tasks that have both a positive and a negative label (``ogb.graphproppred.Evaluator`` rocauc);
* multiclass (TU, Planetoid): accuracy;
* regression: RMSE over non-NaN targets (lower is better).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

__all__ = ["rocauc_multilabel", "accuracy", "rmse", "METRIC_OF_KIND", "HIGHER_IS_BETTER"]


def rocauc_multilabel(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean ROC-AUC over tasks with both classes present; NaN labels ignored.

    Args:
        y_true: (n, T) in {0, 1} with NaN for missing labels.
        y_score: (n, T) scores (logits or probabilities).
    """
    y_true, y_score = np.asarray(y_true, dtype=np.float64), np.asarray(y_score, dtype=np.float64)
    if y_true.ndim == 1:
        y_true, y_score = y_true[:, None], y_score.reshape(-1, 1)
    if y_true.shape != y_score.shape:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} differ in shape")
    if not np.isfinite(y_score).all():
        raise ValueError("y_score contains NaN or inf")
    aucs = []
    for t in range(y_true.shape[1]):
        valid = ~np.isnan(y_true[:, t])
        labels = y_true[valid, t]
        if labels.size and labels.min() == 0 and labels.max() == 1:
            aucs.append(roc_auc_score(labels, y_score[valid, t]))
    if not aucs:
        raise ValueError("no task has both a positive and a negative label: ROC-AUC is undefined")
    return float(np.mean(aucs))


def accuracy(y_true: np.ndarray, logits: np.ndarray) -> float:
    """Fraction of rows whose argmax logit is the label. y_true (n,), logits (n, C)."""
    y_true = np.asarray(y_true).reshape(-1)
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[0] != y_true.shape[0]:
        raise ValueError(f"logits must be (n, C) with n = {y_true.shape[0]}, got {logits.shape}")
    if y_true.size == 0:
        raise ValueError("accuracy of an empty split is undefined")
    return float(np.mean(logits.argmax(axis=1) == y_true))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error over non-NaN targets."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(np.shape(y_pred))
    valid = ~np.isnan(y_true)
    if not valid.any():
        raise ValueError("no non-NaN regression targets")
    return float(np.sqrt(np.mean((y_true[valid] - np.asarray(y_pred, dtype=np.float64)[valid]) ** 2)))


METRIC_OF_KIND = {"multilabel": ("rocauc", rocauc_multilabel), "multiclass": ("accuracy", accuracy),
                  "regression": ("rmse", rmse)}
HIGHER_IS_BETTER = {"rocauc": True, "accuracy": True, "rmse": False}
