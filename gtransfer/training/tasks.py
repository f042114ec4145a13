"""What a fine-tuned head predicts for a graph target, and the label rows it is trained on.

:func:`task_spec_of` maps a :class:`gtransfer.data.targets.GraphTarget` to the
:class:`gtransfer.training.finetune.TaskSpec` of its head, :func:`graph_labels` gives the label rows
of some of its samples in the form :func:`gtransfer.training.finetune.task_loss` expects:

| target ``task_kind`` | TaskSpec | labels |
| --- | --- | --- |
| ``binary`` | ``multilabel``, 1 output | (n, 1) float in {0, 1} |
| ``multitask`` | ``multilabel``, T outputs | (n, T) float in {0, 1}, NaN = missing (masked out of loss and metric) |
| ``multiclass`` | ``multiclass``, C outputs | (n,) long in 0..C-1 |
| ``regression`` | ``regression``, T outputs | (n, T) float, NaN = missing |
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

    from gtransfer.data.targets import GraphTarget
    from gtransfer.training.finetune import TaskSpec

__all__ = ["task_spec_of", "graph_labels"]


def task_spec_of(target: GraphTarget) -> TaskSpec:
    """The head (kind, outputs) fine-tuning trains for ``target``."""
    from gtransfer.training.finetune import TaskSpec

    kind = target.task_kind
    if kind == "binary":
        return TaskSpec("multilabel", 1)
    if kind == "multitask":
        return TaskSpec("multilabel", target.num_tasks)
    if kind == "regression":
        return TaskSpec("regression", target.num_tasks)
    if kind == "multiclass":
        return TaskSpec("multiclass", int(np.max(target.labels)) + 1)
    raise ValueError(f"target {target.name!r}: no fine-tuning task for task_kind {kind!r}")


def graph_labels(target: GraphTarget, positions: np.ndarray) -> torch.Tensor:
    """Label rows of the samples at ``positions`` (into ``target.indices``/``labels``), shaped per the table above."""
    import torch

    positions = np.asarray(positions, dtype=np.int64)
    labels = target.labels[positions]
    if target.task_kind == "multiclass":
        return torch.as_tensor(labels, dtype=torch.long).view(-1)
    values = torch.as_tensor(np.asarray(labels, dtype=np.float64), dtype=torch.float32)
    return values.view(len(positions), -1)
