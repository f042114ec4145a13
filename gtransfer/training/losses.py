r"""Training losses of the three task kinds, for one model or K stacked ones at once.

For member k with outputs :math:`o_k` (B, T) and labels y (B, T), over the set V of labelled entries
(NaN marks a missing label; multi-class labels are never missing):

* ``multilabel``: :math:`\frac{1}{|V|}\sum_{(i,t)\in V} \mathrm{BCE}(\sigma(o_{k,it}), y_{it})` (binary cross-entropy on
logits);
* ``multiclass``: :math:`\frac{1}{B}\sum_i -\log \mathrm{softmax}(o_{k,i})_{y_i}`;
* ``regression``: :math:`\frac{1}{|V|}\sum_{(i,t)\in V} (o_{k,it} - y_{it})^2` (MSE; lower is better, never negated).

Class weights (``class_weight: balanced`` of a ``graph_finetune`` trial; :func:`balanced_class_weights`) turn both
classification losses into weighted means, :math:`\sum_{(i,t)\in V} w_{t,y_{it}} \ell_{k,it} / \sum_{(i,t)\in V}
w_{t,y_{it}}` (PyTorch's convention for ``cross_entropy(weight=...)``), with scikit-learn's ``balanced`` weights
:math:`w_{t,c} = n_t / (C\, n_{t,c})` from the training split: a rare class counts as much as a common one, so a
model cannot lower its loss by predicting the majority class alone.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["member_losses", "balanced_class_weights", "CLASS_WEIGHTS"]

#: ``class_weight`` values of a ``graph_finetune`` trial (None: unweighted)
CLASS_WEIGHTS = ("balanced",)


def balanced_class_weights(kind: str, train_labels: np.ndarray) -> tuple:
    r"""scikit-learn's ``balanced`` class weights :math:`w_c = n / (C\, n_c)` from the training split's labels.

    Args:
        kind: ``"multiclass"`` (labels (n,) in 0..C-1) or ``"multilabel"`` (labels (n, T) in {0, 1}, NaN missing).

    Returns:
        multiclass: ``(w_0, ..., w_{C-1})`` (a class absent from training gets weight 0: no row carries it);
        multilabel: ``((w_neg per task), (w_pos per task))``, each task over its labelled rows with C = 2.

    Raises:
        ValueError: a regression task, or a multilabel task whose training rows lack a class.

    Examples:
        >>> balanced_class_weights("multiclass", np.array([0, 0, 0, 1]))
        (0.6666666666666666, 2.0)
    """
    labels = np.asarray(train_labels)
    if kind == "multiclass":
        counts = np.bincount(labels.reshape(-1).astype(np.int64))
        present = int(np.count_nonzero(counts))
        return tuple(float(labels.size / (present * c)) if c else 0.0 for c in counts)
    if kind != "multilabel":
        raise ValueError(f"class_weight 'balanced' needs class labels; a {kind} task has none")
    labels = labels.reshape(labels.shape[0], -1).astype(np.float64)
    negatives, positives = np.sum(labels == 0, axis=0), np.sum(labels == 1, axis=0)
    if (negatives == 0).any() or (positives == 0).any():
        missing = [t for t in range(labels.shape[1]) if negatives[t] == 0 or positives[t] == 0]
        raise ValueError(f"class_weight 'balanced': tasks {missing} have one class only in the training split; "
                         "leave class_weight unset for this target")
    n = negatives + positives
    return tuple(float(v) for v in n / (2 * negatives)), tuple(float(v) for v in n / (2 * positives))


def member_losses(
    kind: str, outputs: Tensor, targets: Tensor, *, check_labels: bool = True, class_weights: tuple | None = None
) -> Tensor | None:
    """(K,) loss of each of K stacked models on one batch; ``None`` when no entry has a label.

    Args:
        kind: the task kind (``TaskSpec.kind``): ``"multilabel"``, ``"multiclass"`` or ``"regression"``.
        outputs: (K, B, T) logits or predictions.
        targets: (B,) class ids (multiclass) or (B, T) / (B,) labels with NaN for missing ones.
        check_labels: look at the labels for "none usable" (a device sync); callers that know
            every batch has a label pass ``False``.
        class_weights: :func:`balanced_class_weights` of the task (None: unweighted).
    """
    k, b, t = outputs.shape
    if kind == "multiclass":
        labels = targets.reshape(-1).long()
        losses = F.cross_entropy(outputs.reshape(k * b, t), labels.repeat(k), reduction="none").view(k, b)
        if class_weights is None:
            return losses.mean(dim=1)
        weights = torch.as_tensor(class_weights, dtype=outputs.dtype, device=outputs.device)[labels]
        return (losses * weights).sum(dim=1) / weights.sum()
    labels = targets.reshape(1, b, t).to(outputs.dtype)
    valid = ~torch.isnan(labels)
    if check_labels and not bool(valid.any()):
        return None
    filled = torch.where(valid, labels, torch.zeros_like(labels))
    if kind == "multilabel":
        elementwise = F.binary_cross_entropy_with_logits(outputs, filled.expand_as(outputs), reduction="none")
    else:
        elementwise = (outputs - filled) ** 2
    if class_weights is not None:
        if kind != "multilabel":
            raise ValueError(f"class weights apply to class labels; a {kind} task has none")
        negative, positive = (torch.as_tensor(w, dtype=outputs.dtype, device=outputs.device) for w in class_weights)
        weights = torch.where(valid, torch.where(filled > 0.5, positive, negative), torch.zeros_like(filled))
        return (elementwise * weights).sum(dim=(1, 2)) / weights.sum()
    elementwise = torch.where(valid, elementwise, torch.zeros_like(elementwise))
    return elementwise.sum(dim=(1, 2)) / valid.sum().to(outputs.dtype)
