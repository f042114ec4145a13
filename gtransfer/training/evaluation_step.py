"""The evaluation step of both training loops: score K models' validation predictions, spot divergence.

Every epoch, :func:`gtransfer.training.finetune.finetune` (one model) and
:func:`gtransfer.training.packed.train_pack` (K members) call :func:`evaluation_step` on their validation
predictions. Per model it returns the validation metric (:func:`score_outputs`, the OGB measures of
:mod:`gtransfer.training.task_metrics`) or, when the model's mean training loss, its weights or its
predictions are no longer finite, the one-line reason it diverged (:func:`divergence`). The packed loop
then drops a diverged member from the pack like one whose patience ran out, and reports it as a
:class:`TrainingDiverged` in its place among the results; the one-model loop raises it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from gtransfer.training.task_metrics import METRIC_FUNCTIONS


class TaskSpec(Protocol):
    """What the evaluation step reads of a :class:`gtransfer.training.finetune.TaskSpec` (which imports this module)."""

    @property
    def kind(self) -> str: ...

    @property
    def metric(self) -> str: ...

__all__ = ["TrainingDiverged", "rounded_predictions", "score_outputs", "divergence", "evaluation_step"]


class TrainingDiverged(ValueError):
    """A model whose training loss, weights or predictions turned non-finite (NaN or infinite)."""


def rounded_predictions(outputs: np.ndarray, digits: int) -> np.ndarray:
    """``outputs`` rounded to ``digits`` significant digits, so that predictions equal up to rounding are ties.

    Two identical graphs (MUTAG has many) get predictions that differ in the last bits depending on where
    they sit in a batch and on the pack's size; ROC-AUC would break that tie one way or the other and move
    by 1/(positives x negatives). Rounded, they are ties wherever they land, and a member's metric does not
    depend on its pack.

    Examples:
        >>> rounded_predictions(np.array([0.123456, -98765.4]), 3).tolist()
        [0.123, -98800.0]
    """
    magnitude = np.floor(np.log10(np.maximum(np.abs(outputs), 1e-300)))
    scale = 10.0 ** (digits - 1 - magnitude)
    return np.round(outputs * scale) / scale


def score_outputs(task: TaskSpec, outputs: np.ndarray, labels: np.ndarray, *, digits: int | None = None) -> float:
    """The task's metric of one model's (n, T) ``outputs`` against the split's ``labels``.

    Args:
        task: the head's task; its ``metric`` names the measure.
        outputs: (n, T) logits or predictions.
        labels: (n,) class ids (multiclass) or labels reshaped to ``outputs``' shape (NaN = missing).
        digits: round the outputs to this many significant digits first (:func:`rounded_predictions`; the
            packed loop does, so that a member's metric does not depend on its pack); None: as they are.
    """
    if digits is not None:
        outputs = rounded_predictions(outputs, digits)
    if task.kind != "multiclass":
        labels = np.asarray(labels).reshape(outputs.shape)
    return METRIC_FUNCTIONS[task.metric](labels, outputs)


def divergence(epoch: int, *, train_loss: float, weights_finite: bool, outputs_finite: bool) -> str | None:
    """The one-line reason a model diverged in ``epoch``, or None when its loss, weights and predictions are finite.

    Examples:
        >>> divergence(3, train_loss=float("nan"), weights_finite=False, outputs_finite=False)
        'training diverged at epoch 3: the training loss (nan), the weights and the validation predictions \
turned non-finite (lower the learning rate, or check the initial weights)'
        >>> divergence(3, train_loss=0.5, weights_finite=True, outputs_finite=True) is None
        True
    """
    what = []
    if not math.isfinite(train_loss):
        what.append(f"the training loss ({train_loss})")
    if not weights_finite:
        what.append("the weights")
    if not outputs_finite:
        what.append("the validation predictions")
    if not what:
        return None
    listed = what[0] if len(what) == 1 else ", ".join(what[:-1]) + " and " + what[-1]
    return (f"training diverged at epoch {epoch}: {listed} turned non-finite "
            "(lower the learning rate, or check the initial weights)")


def evaluation_step(task: TaskSpec, outputs: np.ndarray, labels: np.ndarray, *, epoch: int,
                    train_losses: Sequence[float], weights_finite: Sequence[bool],
                    digits: int | None = None) -> tuple[list[float], dict[int, str]]:
    """Validation metrics of K models after ``epoch``, and which of them diverged.

    Args:
        task: the head's task.
        outputs: (K, n, T) validation outputs of the K models.
        labels: the validation split's labels (see :func:`score_outputs`).
        epoch: the epoch just trained (named in a divergence's reason).
        train_losses: (K,) mean training loss of each model in the epoch.
        weights_finite: (K,) whether each model's weights (parameters and buffers) are all finite.
        digits: see :func:`score_outputs`.

    Returns:
        ``(metrics, diverged)``: per model its validation metric (NaN for a diverged one), and
        row -> the reason of each model that diverged (:func:`divergence`).
    """
    metrics: list[float] = []
    diverged: dict[int, str] = {}
    for row in range(len(outputs)):
        reason = divergence(epoch, train_loss=float(train_losses[row]), weights_finite=bool(weights_finite[row]),
                            outputs_finite=bool(np.isfinite(outputs[row]).all()))
        if reason is not None:
            diverged[row] = reason
            metrics.append(math.nan)
        else:
            metrics.append(score_outputs(task, outputs[row], labels, digits=digits))
    return metrics, diverged
