r"""Training losses of the three task kinds, for one model or K stacked ones at once.

For member k with outputs :math:`o_k` (B, T) and labels y (B, T), over the set V of labelled entries
(NaN marks a missing label; multi-class labels are never missing):

* ``multilabel``: :math:`\frac{1}{|V|}\sum_{(i,t)\in V} \mathrm{BCE}(\sigma(o_{k,it}), y_{it})` (binary cross-entropy on
logits);
* ``multiclass``: :math:`\frac{1}{B}\sum_i -\log \mathrm{softmax}(o_{k,i})_{y_i}`;
* ``regression``: :math:`\frac{1}{|V|}\sum_{(i,t)\in V} (o_{k,it} - y_{it})^2` (MSE; lower is better, never negated).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["member_losses"]


def member_losses(kind: str, outputs: Tensor, targets: Tensor, *, check_labels: bool = True) -> Tensor | None:
    """(K,) loss of each of K stacked models on one batch; ``None`` when no entry has a label.

    Args:
        kind: the task kind (``TaskSpec.kind``): ``"multilabel"``, ``"multiclass"`` or ``"regression"``.
        outputs: (K, B, T) logits or predictions.
        targets: (B,) class ids (multiclass) or (B, T) / (B,) labels with NaN for missing ones.
        check_labels: look at the labels for "none usable" (a device sync); callers that know
            every batch has a label pass ``False``.
    """
    k, b, t = outputs.shape
    if kind == "multiclass":
        labels = targets.reshape(-1).long()
        losses = F.cross_entropy(outputs.reshape(k * b, t), labels.repeat(k), reduction="none")
        return losses.view(k, b).mean(dim=1)
    labels = targets.reshape(1, b, t).to(outputs.dtype)
    valid = ~torch.isnan(labels)
    if check_labels and not bool(valid.any()):
        return None
    filled = torch.where(valid, labels, torch.zeros_like(labels))
    if kind == "multilabel":
        elementwise = F.binary_cross_entropy_with_logits(outputs, filled.expand_as(outputs), reduction="none")
    else:
        elementwise = (outputs - filled) ** 2
    elementwise = torch.where(valid, elementwise, torch.zeros_like(elementwise))
    return elementwise.sum(dim=(1, 2)) / valid.sum().to(outputs.dtype)
