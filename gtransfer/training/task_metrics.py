"""Evaluation metrics of fine-tuned predictions, with the OGB evaluators' conventions.

* multilabel (molecule tasks): ROC-AUC per task over the rows whose label is not NaN, averaged over
  the tasks that have both a positive and a negative label (``ogb.graphproppred.Evaluator`` rocauc);
  average precision the same way where OGB scores a dataset by it (MUV, PCBA: ``ap``);
  :func:`per_task_scores` gives each task's value (what a multi-task fine-tune reports per task);
* multiclass (TU, Planetoid): accuracy, and :func:`balanced_accuracy` beside it (the mean recall over classes,
  which a model that predicts the majority class cannot inflate);
* regression: RMSE (OGB's measure for ESOL, FreeSolv, Lipophilicity) and MAE over non-NaN targets
  (lower is better for both: :data:`HIGHER_IS_BETTER`).

:func:`metric_of_target` names the measure of a :class:`gtransfer.data.targets.GraphTarget` and
:data:`METRIC_FUNCTIONS` computes any of them from ``(y_true, outputs)``.

:func:`classification_metrics` gathers what a classification trial reports about its test split.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

__all__ = [
    "rocauc_multilabel",
    "average_precision_multilabel",
    "per_task_scores",
    "accuracy",
    "balanced_accuracy",
    "rmse",
    "mae",
    "classification_metrics",
    "METRIC_OF_KIND",
    "METRIC_FUNCTIONS",
    "HIGHER_IS_BETTER",
    "metric_of_target",
]


def rocauc_multilabel(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean ROC-AUC over tasks with both classes present; NaN labels ignored.

    Args:
        y_true: (n, T) in {0, 1} with NaN for missing labels.
        y_score: (n, T) scores (logits or probabilities).
    """
    return _mean_over_tasks(roc_auc_score, "ROC-AUC", y_true, y_score)


def average_precision_multilabel(y_true: np.ndarray, y_score: np.ndarray) -> float:
    r"""Mean average precision over tasks with both classes present; NaN labels ignored (OGB's ``ap``,
    used for ogbg-molmuv and ogbg-molpcba, whose positives are rare).

    Per task, :math:`AP = \sum_k (R_k - R_{k-1}) P_k` over the score thresholds in decreasing order
    (``sklearn.metrics.average_precision_score``). Shapes as :func:`rocauc_multilabel`.
    """
    from sklearn.metrics import average_precision_score

    return _mean_over_tasks(average_precision_score, "average precision", y_true, y_score)


def _mean_over_tasks(score: object, name: str, y_true: np.ndarray, y_score: np.ndarray) -> float:
    scores = np.asarray(_per_task(score, y_true, y_score))
    if np.isnan(scores).all():
        raise ValueError(f"no task has both a positive and a negative label: {name} is undefined")
    return float(np.mean(scores[~np.isnan(scores)]))


def _per_task(score: object, y_true: np.ndarray, y_score: np.ndarray) -> list[float]:
    y_true, y_score = np.asarray(y_true, dtype=np.float64), np.asarray(y_score, dtype=np.float64)
    if y_true.ndim == 1:
        y_true, y_score = y_true[:, None], y_score.reshape(-1, 1)
    if y_true.shape != y_score.shape:
        raise ValueError(f"y_true {y_true.shape} and y_score {y_score.shape} differ in shape")
    if not np.isfinite(y_score).all():
        raise ValueError("y_score contains NaN or inf")
    out = []
    for t in range(y_true.shape[1]):
        valid = ~np.isnan(y_true[:, t])
        labels = y_true[valid, t]
        both = labels.size and labels.min() == 0 and labels.max() == 1
        out.append(float(score(labels, y_score[valid, t])) if both else float("nan"))  # type: ignore[operator]
    return out


def per_task_scores(metric: str, y_true: np.ndarray, y_score: np.ndarray) -> list[float]:
    """Per task, ROC-AUC (``metric="rocauc"``) or average precision (``"average_precision"``) over the rows whose
    label is not NaN; NaN for a task without both a positive and a negative label. Their mean over the non-NaN
    entries is :func:`rocauc_multilabel` (resp. :func:`average_precision_multilabel`). Shapes as
    :func:`rocauc_multilabel`.

    Examples:
        >>> labels = np.array([[0, 1], [1, 1], [0, np.nan]])
        >>> per_task_scores("rocauc", labels, np.array([[0.1, 0.0], [0.9, 0.5], [0.2, 0.3]]))
        [1.0, nan]
    """
    from sklearn.metrics import average_precision_score

    functions = {"rocauc": roc_auc_score, "average_precision": average_precision_score}
    if metric not in functions:
        raise ValueError(f"per_task_scores: metric must be one of {sorted(functions)}, got {metric!r}")
    return _per_task(functions[metric], y_true, y_score)


def accuracy(y_true: np.ndarray, logits: np.ndarray) -> float:
    """Fraction of rows whose argmax logit is the label. y_true (n,), logits (n, C)."""
    y_true, predicted = _predicted_classes(y_true, logits, "accuracy")
    return float(np.mean(predicted == y_true))


def _predicted_classes(y_true: np.ndarray, logits: np.ndarray, what: str) -> tuple[np.ndarray, np.ndarray]:
    """``(labels (n,), argmax class of each row)``, or a ValueError naming ``what`` needed them."""
    y_true = np.asarray(y_true).reshape(-1)
    logits = np.asarray(logits)
    if logits.ndim != 2 or logits.shape[0] != y_true.shape[0]:
        raise ValueError(f"logits must be (n, C) with n = {y_true.shape[0]}, got {logits.shape}")
    if y_true.size == 0:
        raise ValueError(f"{what} of an empty split is undefined")
    return y_true, logits.argmax(axis=1)


def balanced_accuracy(y_true: np.ndarray, logits: np.ndarray) -> float:
    r"""Mean over the classes present in ``y_true`` of the recall of each: :math:`\frac{1}{|C|}\sum_{c\in C}
    \frac{|\{i: y_i = c, \hat y_i = c\}|}{|\{i: y_i = c\}|}` with :math:`\hat y_i = \arg\max_j` ``logits[i, j]``
    (``sklearn.metrics.balanced_accuracy_score``). Unlike accuracy it does not reward predicting the majority class:
    that scores 1/|C|. y_true (n,), logits (n, C).

    Examples:
        >>> balanced_accuracy(np.array([0, 0, 0, 1]), np.array([[1.0, 0.0]] * 4))  # accuracy 0.75
        0.5
    """
    y_true, predicted = _predicted_classes(y_true, logits, "balanced accuracy")
    return float(np.mean([np.mean(predicted[y_true == c] == c) for c in np.unique(y_true)]))


def rmse(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Root mean squared error over non-NaN targets."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(np.shape(y_pred))
    valid = ~np.isnan(y_true)
    if not valid.any():
        raise ValueError("no non-NaN regression targets")
    return float(np.sqrt(np.mean((y_true[valid] - np.asarray(y_pred, dtype=np.float64)[valid]) ** 2)))


def mae(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Mean absolute error over non-NaN targets."""
    y_true = np.asarray(y_true, dtype=np.float64).reshape(np.shape(y_pred))
    valid = ~np.isnan(y_true)
    if not valid.any():
        raise ValueError("no non-NaN regression targets")
    return float(np.mean(np.abs(y_true[valid] - np.asarray(y_pred, dtype=np.float64)[valid])))


def classification_metrics(
    labels: np.ndarray, predictions: np.ndarray, scores: np.ndarray, train_labels: np.ndarray
) -> dict:
    """Accuracy, balanced accuracy, ROC-AUC (binary; macro one-vs-rest otherwise) and the majority baseline.

    ``scores``: (n,) positive-class scores for two classes, (n, C) class probabilities otherwise.
    ``majority_accuracy`` is the accuracy of always predicting the most frequent training class
    (:func:`gtransfer.evaluation.majority_accuracy`). ROC-AUC is NaN when the test split has one class.
    """
    from sklearn.metrics import balanced_accuracy_score

    from gtransfer.evaluation import majority_accuracy

    out = {
        "test_accuracy": float(np.mean(predictions == labels)),
        "balanced_test_accuracy": float(balanced_accuracy_score(labels, predictions)),
        "majority_accuracy": majority_accuracy(labels, train_labels=train_labels),
    }
    try:
        if scores.ndim == 1:
            out["test_roc_auc"] = float(roc_auc_score(labels, scores))
        else:
            out["test_roc_auc"] = float(
                roc_auc_score(labels, scores, multi_class="ovr", labels=np.arange(scores.shape[1]))
            )
    except ValueError:  # a test split with a single class
        out["test_roc_auc"] = float("nan")
    return out


METRIC_OF_KIND = {"multilabel": ("rocauc", rocauc_multilabel), "multiclass": ("accuracy", accuracy),
                  "regression": ("rmse", rmse)}
#: every evaluation measure by name: ``fn(y_true, outputs) -> float``
METRIC_FUNCTIONS = {
    "rocauc": rocauc_multilabel,
    "average_precision": average_precision_multilabel,
    "accuracy": accuracy,
    "rmse": rmse,
    "mae": mae,
}
HIGHER_IS_BETTER = {"rocauc": True, "average_precision": True, "accuracy": True, "rmse": False, "mae": False}
#: OGB's ``eval_metric`` names -> ours
_OGB_NAMES = {
    "rocauc": "rocauc",
    "ap": "average_precision",
    "rmse": "rmse",
    "mae": "mae",
    "acc": "accuracy",
    "accuracy": "accuracy",
}


def metric_of_target(target: object) -> str:
    """The measure a fine-tuned model is judged by on ``target`` (a :class:`gtransfer.data.targets.GraphTarget`):
    OGB's for molecule datasets (``average_precision`` for MUV and PCBA, ``rmse`` for regression,
    ``rocauc`` otherwise), ``accuracy`` for multi-class targets."""
    kind = getattr(target, "task_kind", "binary")
    if kind == "multiclass":
        return "accuracy"
    name = _OGB_NAMES.get(str(getattr(target, "eval_metric", "") or ""), "")
    if kind == "regression":
        return name if name in ("rmse", "mae") else "rmse"
    return name if name in ("rocauc", "average_precision") else "rocauc"
