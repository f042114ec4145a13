"""Packed fine-tuning: K trials of one encoder architecture trained together, one process, one device.

Every member sees the same mini-batches (the pack's data order, drawn from ``order_seed``) and is
otherwise its own trial: its own initial weights (a checkpoint or a seed), head initialisation
and dropout masks (its ``seed``), learning rate, weight decay, mode (``"full"`` fine-tuning or
``"linear"`` probing with a frozen encoder) and patience. Each member keeps the weights of its
best validation epoch; a member whose patience runs out is dropped from the pack (its rows are
removed from every stacked tensor), and the pack ends when none is left or after ``epochs``. Early
stopping and the per-epoch evaluation are the one-model loop's own
(:class:`~gtransfer.training.early_stopping.EarlyStopping`,
:func:`~gtransfer.training.evaluation_step.evaluation_step`).

A member whose mean training loss, weights or validation predictions turn non-finite in an epoch (a
learning rate of 1e30, a checkpoint holding NaN) leaves the pack after that epoch the same way; its
result is a :class:`~gtransfer.training.evaluation_step.TrainingDiverged` naming the epoch and what
turned non-finite, and the other members' results are those of the pack without it (tested on the CPU: bit
for bit in float32; to 1e-12 in float64, where a pack's size alone moves the last bit).

A member's result is the result of the same trial trained alone (a pack of one) with the same data
order and seeds, up to floating-point rounding (tested in float64 to 1e-6 for every architecture and
task kind): members never interact, because the loss is a sum of per-member losses and every stacked
operation is independent per member.

The data is a :class:`~gtransfer.training.packed.device_graphs.DeviceGraphs`, collated once on the
device; a step gathers its batch by index there. Metrics follow :mod:`gtransfer.training.task_metrics`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from gtransfer.training.early_stopping import EarlyStopping
from gtransfer.training.evaluation_step import TrainingDiverged, evaluation_step, score_outputs
from gtransfer.training.finetune import EncoderWithHead, FinetuneResult, TaskSpec
from gtransfer.training.losses import member_losses
from gtransfer.training.packed.device_graphs import DeviceGraphs
from gtransfer.training.packed.flat import FlatParameters, StackedAdam
from gtransfer.training.packed.stacked_encoder import stack_members
from gtransfer.training.task_metrics import HIGHER_IS_BETTER

__all__ = ["PackMember", "train_pack", "MODES", "TrainingDiverged"]

MODES = ("full", "linear")
_M31 = 0x7FFFFFFF


@dataclass(frozen=True)
class PackMember:
    """One trial of a pack.

    Args:
        encoder: its initial encoder (a :class:`~gtransfer.models.encoder.GNNEncoder`; left untouched).
        seed: seeds the head initialisation (as ``torch.manual_seed(seed)`` then ``nn.Linear``) and the dropout masks.
        lr, weight_decay: Adam's learning rate and L2 weight decay.
        mode: ``"full"`` (encoder and head trained) or ``"linear"`` (encoder frozen in evaluation mode).
        patience: epochs without a validation improvement before the member stops.
    """

    encoder: nn.Module
    seed: int = 0
    lr: float = 1e-3
    weight_decay: float = 0.0
    mode: str = "full"
    patience: int = 10

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"PackMember: mode must be one of {MODES}, got {self.mode!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"PackMember: lr must be a positive number, got {self.lr!r}")
        if not (self.weight_decay >= 0 and math.isfinite(self.weight_decay)):
            raise ValueError(f"PackMember: weight_decay must be >= 0, got {self.weight_decay!r}")
        if not isinstance(self.patience, int) or self.patience < 1:
            raise ValueError(f"PackMember: patience must be an int >= 1, got {self.patience!r}")


def _initial_head(seed: int, in_dim: int, out_dim: int) -> nn.Linear:
    """The head a trial alone would start from: ``torch.manual_seed(seed)`` then ``nn.Linear`` (as in
    :func:`finetune`)."""
    torch.manual_seed(seed)
    return nn.Linear(in_dim, out_dim)


def _head(z: Tensor, params: dict[str, Tensor]) -> Tensor:
    return torch.baddbmm(params["head.bias"].unsqueeze(1), z, params["head.weight"].transpose(1, 2))


#: significant digits kept of the predictions before scoring, per training dtype (see
#: :func:`gtransfer.training.evaluation_step.rounded_predictions`)
_SIGNIFICANT = {torch.float64: 10, torch.float32: 5, torch.bfloat16: 2, torch.float16: 3}


class _Pack:
    """The mutable state of a pack while it trains: stacked weights, optimiser, who is still in."""

    def __init__(self, members: Sequence[PackMember], graphs: DeviceGraphs, task: TaskSpec, dtype: torch.dtype) -> None:
        device = graphs.device
        self.encoder, named = stack_members([m.encoder for m in members], dtype, device)
        self.encoder.check_inputs(graphs.x, graphs.edge_attr, "the target's graphs")
        heads = [_initial_head(m.seed, self.encoder.embedding_dim, task.num_outputs) for m in members]
        named["head.weight"] = torch.stack([h.weight.detach() for h in heads]).to(device=device, dtype=dtype)
        named["head.bias"] = torch.stack([h.bias.detach() for h in heads]).to(device=device, dtype=dtype)
        self.params = FlatParameters(named)
        self.optimizer = StackedAdam(self.params, torch.tensor([float(m.lr) for m in members]),
                                     torch.tensor([float(m.weight_decay) for m in members]))
        self.head_columns = self.params.columns("head.")
        self.ids = list(range(len(members)))  # row -> member index
        self.full = [m.mode == "full" for m in members]
        self.keys = torch.tensor([m.seed & _M31 for m in members], dtype=torch.int64, device=device)
        self.device = device
        self._refresh()
        # each member's best-validation weights, one row per member (never compacted)
        self.best_flat = self.params.flat.clone()
        self.best_buffers = {name: t.clone() for name, t in self.encoder.buffers.items()}

    def _refresh(self) -> None:
        rows_full = [self.full[i] for i in self.ids]
        # None: every column of every member steps (the in-place fast path of the optimiser)
        self.update = (
            None
            if all(rows_full)
            else self.head_columns.unsqueeze(0) | torch.tensor(rows_full, device=self.device).unsqueeze(1)
        )
        self.training = [self.full[i] for i in self.ids]
        if not any(rows_full):  # only linear probes: no gradient flows into the frozen encoders at all
            for name, leaf in self.params.views().items():
                if not name.startswith("head."):
                    leaf.requires_grad_(False)

    def keep_best(self, rows: list[int]) -> None:
        if not rows:
            return
        index = torch.tensor(rows, device=self.device)
        target = torch.tensor([self.ids[r] for r in rows], device=self.device)
        self.best_flat.index_copy_(0, target, self.params.flat.index_select(0, index))
        for name, t in self.encoder.buffers.items():
            self.best_buffers[name].index_copy_(0, target, t.index_select(0, index))

    def drop(self, rows: list[int]) -> None:
        leaving = set(rows)
        keep = [r for r in range(len(self.ids)) if r not in leaving]
        index = torch.tensor(keep, dtype=torch.long, device=self.device)
        self.params.select(index)
        self.optimizer.select(index)
        self.encoder.set_buffers({name: t.index_select(0, index) for name, t in self.encoder.buffers.items()})
        self.keys = self.keys.index_select(0, index)
        self.ids = [self.ids[r] for r in keep]
        self._refresh()

    def weights_finite(self) -> list[bool]:
        """Per row: whether the member's parameters and floating buffers are all finite (one device sync)."""
        finite = torch.isfinite(self.params.flat).all(dim=1)
        for t in self.encoder.buffers.values():
            if t.is_floating_point():
                finite &= torch.isfinite(t.reshape(t.size(0), -1)).all(dim=1)
        return finite.tolist()

    def use_best(self) -> None:
        self.params.load(self.best_flat)
        self.encoder.set_buffers(self.best_buffers)
        self.ids = list(range(self.best_flat.size(0)))
        self.keys = None


def _forward(pack: _Pack, params: dict[str, Tensor], batch: object, level: str, rows: Tensor | None,
             training: list[bool] | None, step: int) -> Tensor:
    z = pack.encoder.embed(params, batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs,
                           training=training, dropout_keys=pack.keys, step=step, level=level)
    if rows is not None:
        z = z[:, rows]
    return _head(z, params)


@torch.no_grad()
def _predict(pack: _Pack, graphs: DeviceGraphs, positions: np.ndarray, level: str, batch_size: int) -> np.ndarray:
    """(K, n, T) float64 outputs of every member in evaluation mode."""
    params = pack.params.views()
    if level == "node":
        batch = graphs.plan([0], 1).batch(0)
        out = _forward(pack, params, batch, level, torch.as_tensor(positions, device=graphs.device), None, 0)
        return out.double().cpu().numpy()
    outs = [_forward(pack, params, batch, level, None, None, 0) for batch in graphs.plan(positions, batch_size)]
    return torch.cat(outs, dim=1).double().cpu().numpy()


def train_pack(
    members: Sequence[PackMember],
    graphs: DeviceGraphs,
    splits: Mapping[str, np.ndarray],
    task: TaskSpec,
    *,
    epochs: int = 100,
    batch_size: int = 32,
    order_seed: int = 0,
    level: str = "graph",
    node_labels: Tensor | np.ndarray | None = None,
    eval_batch_size: int = 256,
    dtype: torch.dtype = torch.float32,
    progress: bool = False,
    description: str = "pack",
    return_models: bool = False,
) -> list[FinetuneResult | TrainingDiverged]:
    """Train every member of a pack; one :class:`FinetuneResult` (or :class:`TrainingDiverged`) per member, in order.

    Args:
        members: the trials (same encoder architecture; see :class:`PackMember`).
        graphs: the target's graphs on the training device (graph-level: one label row per graph).
        splits: ``train``/``valid``/``test`` positions (graphs, or nodes for ``level="node"``).
        task: the head's output and metric.
        epochs: the most epochs any member trains.
        batch_size: graphs per training step (graph level); node level trains on the whole graph once per epoch.
        order_seed: seeds the shuffle order, shared by the whole pack (a CPU generator: the same on every device).
        level: ``"graph"`` (pooled graph embeddings) or ``"node"`` (one graph; ``node_labels`` (N, ...) required).
        eval_batch_size: graphs per evaluation step (evaluation is in eval mode: no effect on the values).
        dtype: floating dtype of weights and activations (float64 for exactness checks).
        progress: a bar over epochs with its ETA, the members still training and the best validation metric.
        return_models: put each member's best encoder + head in ``result.model`` (an :class:`EncoderWithHead`).

    Returns:
        per member: the validation metric at its best epoch, the test metric with those weights, the
        epochs it ran and its per-epoch history (mean training loss, validation metric); for a member that
        diverged, in its place, a :class:`~gtransfer.training.evaluation_step.TrainingDiverged` (not raised)
        whose message names the epoch and what turned non-finite.

    Raises:
        ValueError: members of different architectures, an empty split, inputs outside the encoder's
            vocabulary, a training split with no usable label, a metric that is undefined on a split.
    """
    if not members:
        raise ValueError("train_pack needs at least one member")
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if level not in ("graph", "node"):
        raise ValueError(f"level must be 'graph' or 'node', got {level!r}")
    for split in ("train", "valid", "test"):
        if split not in splits or len(splits[split]) == 0:
            raise ValueError(f"train_pack: the {split!r} split is missing or empty")
    if level == "node":
        if len(graphs) != 1 or node_labels is None:
            raise ValueError("node-level packs train on one graph and need node_labels (one row per node)")
        labels = torch.as_tensor(node_labels).to(graphs.device)
        labels = labels.to(dtype) if labels.is_floating_point() else labels.long()
    else:
        labels = graphs.y
    labels_host = labels.cpu().numpy()
    pack = _Pack(members, graphs, task, dtype)
    tracker = EarlyStopping([m.patience for m in members], higher_is_better=HIGHER_IS_BETTER[task.metric])
    order = torch.Generator().manual_seed(int(order_seed))
    train = np.asarray(splits["train"], dtype=np.int64)
    valid_positions = np.asarray(splits["valid"], dtype=np.int64)
    valid_labels = labels_host[valid_positions]
    masked_labels = task.kind != "multiclass"
    digits = _SIGNIFICANT.get(dtype, 5)
    step = 0
    bar = tqdm(
        range(1, epochs + 1), desc=description, unit="epoch", disable=not progress, leave=False, dynamic_ncols=True
    )
    for epoch in bar:
        losses_sum = torch.zeros(len(pack.ids), dtype=dtype, device=graphs.device)
        steps_taken = 0
        if level == "node":
            steps = [
                (
                    graphs.plan([0], 1).batch(0),
                    torch.as_tensor(train, device=graphs.device),
                    labels[torch.as_tensor(train, device=graphs.device)],
                    train,
                )
            ]
        else:
            visit = train[torch.randperm(train.size, generator=order).numpy()]
            plan = graphs.plan(visit, batch_size)
            steps = ((plan.batch(i), None, None, visit[i * batch_size:(i + 1) * batch_size]) for i in range(len(plan)))
        for batch, rows, row_labels, host_positions in steps:
            if masked_labels and np.isnan(labels_host[host_positions]).all():
                continue  # no usable label in this batch: a trial alone skips the step too
            params = pack.params.views()
            out = _forward(pack, params, batch, level, rows, pack.training, step)
            losses = member_losses(task.kind, out, batch.y if row_labels is None else row_labels, check_labels=False,
                                   class_weights=task.class_weights)
            with warnings.catch_warnings():  # the gradients are strided views of one flat buffer, on purpose
                warnings.filterwarnings("ignore", message="grad and param do not obey the gradient layout contract")
                losses.sum().backward()
            pack.optimizer.step(pack.update)
            losses_sum += losses.detach()
            steps_taken += 1
            step += 1
        if steps_taken == 0:
            raise ValueError("no training batch had a usable label")
        mean_losses = (losses_sum / steps_taken).tolist()
        valid_out = _predict(pack, graphs, valid_positions, level, eval_batch_size)
        metrics, diverged = evaluation_step(task, valid_out, valid_labels, epoch=epoch, train_losses=mean_losses,
                                            weights_finite=pack.weights_finite(), digits=digits)
        improved, stopped = tracker.record(epoch, pack.ids, mean_losses, metrics, diverged=diverged)
        pack.keep_best(improved)
        bar.set_postfix(training=len(pack.ids) - len(stopped), best_valid=f"{tracker.best_so_far():.4f}", refresh=False)
        if len(stopped) == len(pack.ids):
            break
        if stopped:
            pack.drop(stopped)
    bar.close()
    pack.use_best()
    test_positions = np.asarray(splits["test"], dtype=np.int64)
    test_out = _predict(pack, graphs, test_positions, level, eval_batch_size)
    test_labels = labels_host[test_positions]
    params = pack.params.views()
    results: list[FinetuneResult | TrainingDiverged] = []
    for member, spec in enumerate(members):
        failure = tracker.failures[member]
        if failure is not None:
            results.append(TrainingDiverged(failure))
            continue
        model = None
        if return_models:
            encoder = pack.encoder.member_encoder(params, pack.encoder.buffers, member)
            head = nn.Linear(pack.encoder.embedding_dim, task.num_outputs).to(device=graphs.device, dtype=dtype)
            head.weight.data.copy_(params["head.weight"][member])
            head.bias.data.copy_(params["head.bias"][member])
            model = EncoderWithHead(encoder, head).eval()
        results.append(FinetuneResult(
            metric=task.metric, valid_metric=float(tracker.best[member]),
            test_metric=score_outputs(task, test_out[member], test_labels, digits=digits),
            best_epoch=tracker.best_epoch[member], epochs_run=tracker.epochs_run[member], mode=spec.mode,
            seed=spec.seed,
            history=tracker.history[member], model=model,
        ))
    return results
