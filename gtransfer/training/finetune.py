"""Fine-tuning in one place: any encoder with ``embed(inputs)``, any loader, one training loop.

Graphs (PyG batches) and images ((x, y) tensors) share this loop through a ``batch_to(batch, device)
-> (inputs, targets)`` adapter (:mod:`gtransfer.training.batching`). Two modes:

* ``"full"``: encoder and a linear head trained together;
* ``"linear"`` (linear probing): the encoder frozen in eval mode; its embeddings are computed once
  and a linear head is trained on them.

Early stopping keeps the weights of the best validation epoch (patience in epochs;
:class:`~gtransfer.training.early_stopping.EarlyStopping`); the test metric is measured with those weights.
Each epoch ends with the evaluation step the packed loop uses too
(:func:`~gtransfer.training.evaluation_step.evaluation_step`); a run whose training loss, weights or
validation predictions turn non-finite stops with :class:`~gtransfer.training.evaluation_step.TrainingDiverged`.
Metrics follow the OGB evaluators (:mod:`gtransfer.training.task_metrics`).
With a fixed ``seed`` CPU results are bit-for-bit repeatable; CUDA is used when available (``device=None``),
optionally with bfloat16 autocast (``amp=True``, GPU only).
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gtransfer.training.batching import pyg_batch_to, resolve_device
from gtransfer.training.early_stopping import EarlyStopping
from gtransfer.training.evaluation_step import TrainingDiverged, evaluation_step, score_outputs
from gtransfer.training.losses import member_losses
from gtransfer.training.task_metrics import HIGHER_IS_BETTER, METRIC_FUNCTIONS, METRIC_OF_KIND

__all__ = ["TaskSpec", "FinetuneResult", "EncoderWithHead", "finetune", "task_loss"]


@dataclass(frozen=True)
class TaskSpec:
    """What the head predicts.

    Args:
        kind: ``"multilabel"`` (binary tasks, NaN = missing label; ROC-AUC), ``"multiclass"``
            (integer labels; accuracy) or ``"regression"`` (RMSE).
        num_outputs: tasks (multilabel, regression) or classes (multiclass).
        metric_name: the measure, when not the kind's default (``"average_precision"`` for MUV, ``"mae"``);
            one of :data:`gtransfer.training.task_metrics.METRIC_FUNCTIONS`.
        class_weights: the loss's class weights (:func:`gtransfer.training.losses.balanced_class_weights`);
            None: unweighted.
    """

    kind: str
    num_outputs: int
    metric_name: str | None = None
    class_weights: tuple | None = None

    def __post_init__(self) -> None:
        if self.kind not in METRIC_OF_KIND:
            raise ValueError(f"TaskSpec: kind must be one of {sorted(METRIC_OF_KIND)}, got {self.kind!r}")
        if not isinstance(self.num_outputs, int) or self.num_outputs < 1:
            raise ValueError(f"TaskSpec: num_outputs must be a positive int, got {self.num_outputs!r}")
        if self.kind == "multiclass" and self.num_outputs < 2:
            raise ValueError("TaskSpec: multiclass needs num_outputs >= 2 classes")
        if self.metric_name is not None and self.metric_name not in METRIC_FUNCTIONS:
            raise ValueError(
                f"TaskSpec: metric_name must be one of {sorted(METRIC_FUNCTIONS)}, got {self.metric_name!r}"
            )

    @property
    def metric(self) -> str:
        """The measure of predictions: ``metric_name``, else the kind's default (ROC-AUC, accuracy, RMSE)."""
        return self.metric_name or METRIC_OF_KIND[self.kind][0]


@dataclass
class FinetuneResult:
    """Outcome of one fine-tuning run (``to_dict()`` is JSON-serialisable)."""

    metric: str
    valid_metric: float
    test_metric: float
    best_epoch: int
    epochs_run: int
    mode: str
    seed: int
    history: list[dict[str, float]] = field(default_factory=list)
    model: nn.Module | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("model")
        return out


def task_loss(task: TaskSpec, outputs: Tensor, targets: Tensor) -> Tensor | None:
    """Training loss of one model's (B, T) outputs (:func:`gtransfer.training.losses.member_losses`);
    NaN labels are masked out. ``None`` when a batch has no usable label."""
    losses = member_losses(task.kind, outputs.unsqueeze(0), targets, class_weights=task.class_weights)
    return None if losses is None else losses[0]


class EncoderWithHead(nn.Module):
    """An encoder and a linear head: ``forward(inputs) = head(encoder.embed(inputs))``."""

    def __init__(self, encoder: nn.Module, head: nn.Module) -> None:
        super().__init__()
        self.encoder, self.head = encoder, head

    def forward(self, inputs: object) -> Tensor:
        return self.head(self.encoder.embed(inputs))


def _embedding_dim(encoder: nn.Module) -> int:
    dim = getattr(encoder, "embedding_dim", None)
    if not isinstance(dim, int) or dim < 1:
        raise ValueError(f"{type(encoder).__name__} needs an int attribute embedding_dim")
    return dim


@torch.no_grad()
def _collect(
    model: Callable, loader: Iterable[object], batch_to: Callable, device: torch.device, amp: bool
) -> tuple[Tensor, Tensor]:
    outs, ys = [], []
    for batch in loader:
        inputs, y = batch_to(batch, device)
        with _autocast(device, amp):
            outs.append(model(inputs).float().cpu())
        ys.append(y.cpu())
    if not outs:
        raise ValueError("an evaluation loader yielded no batches")
    return torch.cat(outs), torch.cat(ys)


def _autocast(device: torch.device, amp: bool) -> torch.autocast:
    if amp and device.type == "cuda":
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return torch.autocast(device_type=device.type, enabled=False)


def _weights_finite(model: nn.Module) -> bool:
    """Whether every floating parameter and buffer of ``model`` is finite."""
    tensors = [*model.parameters(), *model.buffers()]
    return all(bool(torch.isfinite(t).all()) for t in tensors if t.is_floating_point())


def finetune(
    encoder: nn.Module,
    train_loader: Iterable[object],
    valid_loader: Iterable[object],
    test_loader: Iterable[object],
    task: TaskSpec,
    *,
    mode: str = "full",
    epochs: int = 100,
    lr: float = 1e-3,
    patience: int = 10,
    seed: int = 0,
    device: torch.device | str | None = None,
    batch_to: Callable = pyg_batch_to,
    weight_decay: float = 0.0,
    amp: bool = False,
    progress: bool = False,
    return_model: bool = False,
) -> FinetuneResult:
    """Fine-tune ``encoder`` (a deep copy; the argument is left untouched) with a linear head.

    Args:
        encoder: any ``nn.Module`` with ``embedding_dim`` and ``embed(inputs) -> (B, embedding_dim)``.
        train_loader, valid_loader, test_loader: iterables of batches that ``batch_to`` understands.
        task: the head's output and metric.
        mode: ``"full"`` or ``"linear"`` (frozen encoder, linear probe).
        epochs: maximum epochs; patience: epochs without validation improvement before stopping.
        lr, weight_decay: Adam settings.
        seed: seeds the head initialisation, dropout and shuffling (CPU runs are repeatable).
        device: default CUDA when available. amp: bfloat16 autocast on CUDA (ignored on CPU, warned).
        return_model: keep the best model (encoder + head) in ``result.model``.

    Returns:
        :class:`FinetuneResult` with the validation metric at the best epoch, the test metric with
        those weights, and a per-epoch history (train loss, validation metric).

    Raises:
        TrainingDiverged: (a ValueError) the mean training loss, the weights or the validation predictions
            turned non-finite; the message names the epoch.
    """
    if mode not in ("full", "linear"):
        raise ValueError(f"mode must be 'full' or 'linear', got {mode!r}")
    if epochs < 1 or patience < 1:
        raise ValueError(f"epochs and patience must be >= 1, got {epochs}, {patience}")
    if not (lr > 0 and math.isfinite(lr)):
        raise ValueError(f"lr must be a positive number, got {lr}")
    device = resolve_device(device)
    if amp and device.type != "cuda":
        warnings.warn("amp=True needs a CUDA device; training in float32", stacklevel=2)
        amp = False
    torch.manual_seed(seed)
    encoder = copy.deepcopy(encoder).to(device)
    head = nn.Linear(_embedding_dim(encoder), task.num_outputs).to(device)

    if mode == "full":
        model: nn.Module = EncoderWithHead(encoder, head)
        train_iter = lambda: train_loader  # noqa: E731
        train_batch_to, eval_model = batch_to, model
        eval_loaders = (valid_loader, test_loader)
        eval_batch_to = batch_to
    else:
        encoder.eval()  # frozen: dropout off, BatchNorm running statistics neither used-from-batch nor updated
        for p in encoder.parameters():
            p.requires_grad_(False)
        feats = [
            _collect(encoder.embed, loader, batch_to, device, amp)
            for loader in (train_loader, valid_loader, test_loader)
        ]
        model = head
        batch_size = getattr(train_loader, "batch_size", None) or 256
        train_x, train_y = feats[0]
        generator = torch.Generator().manual_seed(seed)

        def train_iter() -> list[tuple[Tensor, Tensor]]:
            order = torch.randperm(train_x.size(0), generator=generator)
            return [(train_x[idx], train_y[idx]) for idx in order.split(batch_size)]

        train_batch_to = eval_batch_to = lambda b, dev: (b[0].to(dev), b[1].to(dev))
        eval_model = head
        eval_loaders = ([feats[1]], [feats[2]])

    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr, weight_decay=weight_decay)
    tracker = EarlyStopping([patience], higher_is_better=HIGHER_IS_BETTER[task.metric])
    best_state = None
    bar = tqdm(range(1, epochs + 1), desc=f"finetune ({mode})", disable=None if progress else True, leave=False)
    for epoch in bar:
        model.train()
        if mode == "linear":
            encoder.eval()
        losses = []
        for batch in train_iter():
            inputs, y = train_batch_to(batch, device)
            with _autocast(device, amp):
                out = model(inputs)
            loss = task_loss(task, out.float(), y)
            if loss is None:
                continue
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        if not losses:
            raise ValueError("no training batch had a usable label")
        model.eval()
        outputs, labels = _collect(eval_model, eval_loaders[0], eval_batch_to, device, amp)
        train_loss = float(np.mean(losses))
        (valid_metric,), diverged = evaluation_step(task, outputs.numpy()[None], labels.numpy(), epoch=epoch,
                                                    train_losses=[train_loss], weights_finite=[_weights_finite(model)])
        improved, stopping = tracker.record(epoch, [0], [train_loss], [valid_metric], diverged=diverged)
        if diverged:
            raise TrainingDiverged(diverged[0])
        if improved:
            best_state = copy.deepcopy(model.state_dict())
        bar.set_postfix(loss=train_loss, valid=valid_metric)
        if stopping:
            break
    model.load_state_dict(best_state)
    model.eval()
    test_outputs, test_labels = _collect(eval_model, eval_loaders[1], eval_batch_to, device, amp)
    test_metric = score_outputs(task, test_outputs.numpy(), test_labels.numpy())
    kept = None
    if return_model:
        kept = model if mode == "full" else EncoderWithHead(encoder, head)
    return FinetuneResult(metric=task.metric, valid_metric=float(tracker.best[0]), test_metric=float(test_metric),
                          best_epoch=tracker.best_epoch[0], epochs_run=len(tracker.history[0]), mode=mode, seed=seed,
                          history=tracker.history[0], model=kept)
