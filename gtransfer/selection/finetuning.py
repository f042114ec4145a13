"""Fine-tuning encoders on a graph target, as one pack: the ground truth a transferability metric is judged by.

:func:`finetune_pack` trains every :class:`FinetuneMember` (an encoder with its seed, mode, learning rate,
weight decay and patience) on the target that a :class:`FinetuneSetup` names, through the packed engine
(:mod:`gtransfer.training.packed`: K graph-encoder members trained together, split by architecture; a
member's result does not depend on its pack, tested to 1e-6 in float64). An encoder that is not a
:class:`~gtransfer.models.encoder.GNNEncoder` (a DGL encoder) trains alone in the one-model loop
(:func:`gtransfer.training.finetune.finetune`).

``gtransfer finetune``, the ``graph_finetune`` trial kind (a thin adapter from a spec's params) and the
experiment scripts all call it.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import os

    from torch import nn
    from torch_geometric.loader import DataLoader

    from gtransfer.data.targets import GraphTarget
    from gtransfer.models.specs import EncoderSpec
    from gtransfer.training.finetune import FinetuneResult, TaskSpec
    from gtransfer.training.packed import DeviceGraphs

__all__ = ["FinetuneSetup", "FinetuneMember", "finetune_pack", "finetune_inputs", "graph_loaders", "HEADS", "DTYPES"]

#: ``head`` values: ``"task"``, the target's own head (a sigmoid per binary task judged by ROC-AUC, a softmax
#: over classes judged by accuracy); ``"softmax"``, a softmax over the classes for a binary target too, judged
#: by accuracy with ``majority_accuracy`` reported, as the source zoo trains binary TU tasks
HEADS = ("task", "softmax")
#: ``dtype`` values
DTYPES = ("float32", "float64")
#: collated targets kept between packs of one process (a sweep runs many packs on few targets)
_COLLATED: OrderedDict[str, tuple] = OrderedDict()
_COLLATED_SIZE = 2
#: result key of each measure: test_roc_auc, test_average_precision, test_accuracy, test_rmse, test_mae
_RESULT_NAMES = {"rocauc": "roc_auc"}


@dataclass(frozen=True)
class FinetuneSetup:
    """What the members of a pack share: the target (a target string), its subsample (``max_samples``
    drawn by ``sample_seed``, which also seeds the split of non-molecule targets), ``epochs``,
    ``batch_size``, ``order_seed`` (the shuffle order), ``device`` (default CUDA when available),
    ``dtype`` (:data:`DTYPES`), ``head`` (:data:`HEADS`), ``class_weight`` (None, or ``"balanced"``:
    :func:`gtransfer.training.losses.balanced_class_weights` from the training split) and the data root."""

    target: str
    epochs: int = 20
    batch_size: int = 64
    order_seed: int = 0
    max_samples: int | None = None
    sample_seed: int = 0
    device: str | None = None
    dtype: str = "float32"
    head: str = "task"
    data_root: str | os.PathLike | None = None
    class_weight: str | None = None

    def checked_head(self) -> str:
        """``head``, or a ValueError naming the known heads."""
        if self.head not in HEADS:
            raise ValueError(f"graph_finetune: head must be one of {HEADS}, got {self.head!r}")
        return self.head

    def checked_class_weight(self) -> str | None:
        """``class_weight``, or a ValueError naming the known values."""
        from gtransfer.training.losses import CLASS_WEIGHTS

        if self.class_weight is not None and self.class_weight not in CLASS_WEIGHTS:
            raise ValueError(
                f"graph_finetune: class_weight must be one of {CLASS_WEIGHTS} or unset, got {self.class_weight!r}"
            )
        return self.class_weight


@dataclass(frozen=True)
class FinetuneMember:
    """One member of a pack: an encoder string and its own ``seed`` (head initialisation, dropout masks),
    ``mode`` (``"full"`` or ``"linear"``), ``lr``, ``weight_decay`` and early-stopping ``patience``."""

    encoder: str
    seed: int = 0
    mode: str = "full"
    lr: float = 1e-3
    weight_decay: float = 0.0
    patience: int = 5


def graph_loaders(target: GraphTarget, *, batch_size: int, seed: int = 0) -> dict[str, DataLoader]:
    """Train/valid/test PyG loaders of a graph-level target whose graphs carry the task's labels as ``y``
    (:func:`gtransfer.training.tasks.graph_labels`); the training loader shuffles with a generator seeded by
    ``seed``."""
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.training.tasks import graph_labels

    def graphs(positions: np.ndarray) -> list:
        rows = graph_labels(target, positions)
        out = []
        for row, position in enumerate(positions):
            data = target.dataset[int(target.indices[position])].clone()
            data.y = rows[row:row + 1]  # (1, T) float for multilabel/regression, (1,) long for multiclass
            out.append(data)
        return out

    generator = torch.Generator().manual_seed(seed)
    return {
        split: DataLoader(graphs(positions), batch_size=batch_size, shuffle=(split == "train"),
                          generator=generator if split == "train" else None)
        for split, positions in target.splits.items()
    }


def finetune_inputs(
    encoder: str | EncoderSpec,
    target: str,
    *,
    batch_size: int,
    seed: int = 0,
    max_samples: int | None = None,
    sample_seed: int = 0,
    data_root: str | os.PathLike | None = None,
) -> tuple[nn.Module, dict[str, DataLoader], TaskSpec, GraphTarget]:
    """``(encoder, loaders, task, target)`` of a graph-level target for the one-model loop: the encoder built
    for the target's input, :func:`graph_loaders`, and the task (:func:`gtransfer.training.tasks.task_spec_of`:
    binary, multi-task, multi-class and regression targets alike). The measure to judge the model by is
    :func:`gtransfer.training.task_metrics.metric_of_target` (average precision for MUV).

    Raises:
        ValueError: a node-level target.
    """
    from gtransfer.data.targets import subsample_target
    from gtransfer.embeddings.targets import target_for_encoder
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.training.tasks import task_spec_of

    spec = resolve_encoder(encoder, root=data_root)
    loaded, node_input = target_for_encoder(spec, target, root=data_root, seed=sample_seed)
    model = spec.load(node_features=node_input)
    if loaded.level != "graph":
        raise ValueError(f"graph_finetune needs a graph-level target; {target} is node-level (use graph_probe)")
    loaded = subsample_target(loaded, max_samples, seed=sample_seed)
    return model, graph_loaders(loaded, batch_size=batch_size, seed=seed), task_spec_of(loaded), loaded


def _task_and_labels(target: GraphTarget, class_weight: str | None = None) -> tuple[TaskSpec, Any]:
    """The head's task (:func:`gtransfer.training.tasks.task_spec_of`, judged by OGB's measure of the dataset:
    :func:`gtransfer.training.task_metrics.metric_of_target`; with ``class_weight="balanced"`` its loss weighted by
    the training split's classes) and one label row per target sample."""
    from dataclasses import replace

    from gtransfer.training.losses import balanced_class_weights
    from gtransfer.training.task_metrics import metric_of_target
    from gtransfer.training.tasks import graph_labels, task_spec_of

    task = replace(task_spec_of(target), metric_name=metric_of_target(target))
    labels = graph_labels(target, np.arange(target.indices.size))
    if class_weight == "balanced":
        weights = balanced_class_weights(task.kind, labels[np.asarray(target.splits["train"])].numpy())
        task = replace(task, class_weights=weights)
    return task, labels


def _collated(setup: FinetuneSetup, spec: EncoderSpec, device: Any,
              dtype: Any) -> tuple[GraphTarget, Any, DeviceGraphs]:
    """(target, node input, the target's graphs on ``device``), reused across the packs of a process."""
    from dataclasses import replace

    from gtransfer.data.targets import subsample_target
    from gtransfer.embeddings.targets import target_for_encoder
    from gtransfer.training.packed import DeviceGraphs

    head = setup.checked_head()
    key = json.dumps([setup.target, spec.featurizer, setup.max_samples, setup.sample_seed, setup.data_root, str(device),
                      str(dtype), head], default=str)
    if key in _COLLATED:
        _COLLATED.move_to_end(key)
        return _COLLATED[key]
    target, node_input = target_for_encoder(spec, setup.target, root=setup.data_root, seed=setup.sample_seed)
    if target.level != "graph":
        raise ValueError(f"graph_finetune needs a graph-level target; {setup.target} is node-level (use graph_probe)")
    target = subsample_target(target, setup.max_samples, seed=setup.sample_seed)
    if head == "softmax":
        if not target.is_classification:
            raise ValueError(f"graph_finetune: head 'softmax' needs class labels; {setup.target} is a "
                             f"{target.task_kind} target (name one task, e.g. ogbg-moltox21:0, or leave head at "
                             "'task')")
        target = replace(target, task_kind="multiclass", eval_metric="accuracy")
    _, labels = _task_and_labels(target)
    graphs = [target.dataset[int(i)] for i in target.indices]
    collated = (target, node_input, DeviceGraphs(graphs, labels, device=device, float_dtype=dtype))
    _COLLATED[key] = collated
    while len(_COLLATED) > _COLLATED_SIZE:
        _COLLATED.popitem(last=False)
    return collated


#: significant digits kept of test predictions before they are scored per task (as the packed engine rounds)
_DIGITS = {"float32": 5, "float64": 10}


def _test_outputs(model: nn.Module, target: GraphTarget, device: Any, dtype: Any, batch_size: int = 256) -> np.ndarray:
    """(n_test, T) outputs of a fine-tuned ``model`` (encoder + head, eval mode) on the target's test graphs."""
    import torch
    from torch_geometric.loader import DataLoader

    graphs = []
    for position in target.splits["test"]:
        data = target.dataset[int(target.indices[position])]
        data = data.clone()
        if data.x is not None and data.x.is_floating_point():
            data.x = data.x.to(dtype)
        if getattr(data, "edge_attr", None) is not None and data.edge_attr.is_floating_point():
            data.edge_attr = data.edge_attr.to(dtype)
        graphs.append(data)
    model = model.to(device=device).eval()
    with torch.no_grad():
        outs = [model(batch.to(device)).double().cpu() for batch in DataLoader(graphs, batch_size=batch_size)]
    return torch.cat(outs).numpy()


def _test_details(outputs: np.ndarray, task: TaskSpec, target: GraphTarget, digits: int) -> dict:
    """What the pack's mean test metric hides: each task's value and test positives (multi-label heads), or the
    balanced accuracy (multi-class heads)."""
    from gtransfer.training.evaluation_step import rounded_predictions
    from gtransfer.training.task_metrics import balanced_accuracy, per_task_scores
    from gtransfer.training.tasks import graph_labels

    labels = graph_labels(target, np.asarray(target.splits["test"])).numpy()
    outputs = rounded_predictions(outputs, digits)
    if task.kind == "multiclass":
        return {"test_balanced_accuracy": balanced_accuracy(labels, outputs)}
    if task.kind != "multilabel" or task.metric not in ("rocauc", "average_precision"):
        return {}
    labels = labels.reshape(outputs.shape)
    scores = per_task_scores(task.metric, labels, outputs)
    name = _RESULT_NAMES.get(task.metric, task.metric)
    return {f"test_{name}_tasks": [None if np.isnan(v) else v for v in scores],
            "test_positives_tasks": [int(v) for v in np.nansum(labels, axis=0)],
            "tasks": list(target.task_names) or [str(t) for t in range(outputs.shape[1])]}


def _member_result(result: FinetuneResult, task: TaskSpec, target: GraphTarget, details: dict | None = None) -> dict:
    out = {
        "metric": result.metric,
        "test_metric": float(result.test_metric),
        "valid_metric": float(result.valid_metric),
        "best_epoch": int(result.best_epoch),
        "epochs_run": int(result.epochs_run),
        "train_loss": [round(float(h["train_loss"]), 6) for h in result.history],
        "valid_curve": [round(float(h["valid_metric"]), 6) for h in result.history],
    }
    out[f"test_{_RESULT_NAMES.get(result.metric, result.metric)}"] = out["test_metric"]
    if task.kind == "multiclass":
        from gtransfer.evaluation import majority_accuracy

        labels, splits = target.labels, target.splits
        out["majority_accuracy"] = majority_accuracy(labels[splits["test"]], train_labels=labels[splits["train"]])
    out.update(details or {})
    return out


def _one_model(setup: FinetuneSetup, member: FinetuneMember, encoder: nn.Module, target: GraphTarget,
               device: Any) -> dict:
    """A member whose encoder is not a :class:`GNNEncoder` (a DGL encoder): the one-model loop, alone, on the
    encoder and target the pack already loaded (each file read once)."""
    from gtransfer.training.finetune import finetune

    if setup.checked_head() != "task":
        raise ValueError(f"graph_finetune: head {setup.head!r} runs in the packed engine only; {member.encoder} "
                         "is not a GNNEncoder")
    loaders = graph_loaders(target, batch_size=setup.batch_size, seed=member.seed)
    task, _ = _task_and_labels(target, setup.checked_class_weight())
    result = finetune(encoder, loaders["train"], loaders["valid"], loaders["test"], task=task, mode=member.mode,
                      epochs=setup.epochs, lr=member.lr, patience=member.patience, seed=member.seed, device=device,
                      weight_decay=member.weight_decay)
    return _member_result(result, task, target)


def finetune_pack(setup: FinetuneSetup, members: Sequence[FinetuneMember], *,
                  progress: bool = False) -> list[dict | Exception]:
    """Fine-tune every member on ``setup.target`` with a linear head; per member its result or its error.

    Members train as packs, one per encoder architecture. A failure of the whole pack (data that cannot
    load, a device error) is returned as every member's error; a member whose encoder cannot be resolved
    or loaded fails alone. Each encoder string is resolved once and the target loaded once (and kept for
    the next packs of the process).

    Returns:
        per member, ``metric`` and ``test_metric``/``valid_metric`` in the measure OGB uses for the dataset
        (ROC-AUC for binary and multi-task molecule targets, mean over tasks; average precision for MUV;
        RMSE for regression, lower is better; accuracy for multi-class), also as ``test_roc_auc``,
        ``test_average_precision``, ``test_rmse`` or ``test_accuracy``; ``majority_accuracy`` of the test
        split for multi-class targets (and binary ones with ``head="softmax"``, judged by accuracy);
        ``best_epoch``, ``epochs_run``; per epoch ``train_loss`` and ``valid_curve``. Members of the packed
        engine also report, for a multi-label head, ``test_roc_auc_tasks`` (or ``test_average_precision_tasks``:
        each task's test value, None for a task without both classes in test; their mean is ``test_metric``),
        ``test_positives_tasks`` and ``tasks`` (the task names), and for a multi-class head
        ``test_balanced_accuracy`` (:func:`gtransfer.training.task_metrics.balanced_accuracy`; chance is 1/C).

    Raises:
        ValueError: an unknown ``dtype``, or a device torch cannot use (before any data loads).
    """
    import torch

    from gtransfer.models.encoder import GNNEncoder
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.training.batching import resolve_device
    from gtransfer.training.packed import PackMember, train_pack

    device = resolve_device(setup.device)
    if setup.dtype not in DTYPES:
        raise ValueError(f"graph_finetune: dtype must be one of {DTYPES}, got {setup.dtype!r}")
    dtype = getattr(torch, setup.dtype)
    outcomes: list[dict | Exception | None] = [None] * len(members)
    specs: dict[int, Any] = {}
    for i, member in enumerate(members):
        try:
            specs[i] = resolve_encoder(member.encoder, root=setup.data_root)
        except Exception as exc:  # noqa: BLE001 - a member's own failure is its own
            outcomes[i] = exc
    if not specs:
        return outcomes  # type: ignore[return-value]
    try:
        target, node_input, graphs = _collated(setup, next(iter(specs.values())), device, dtype)
        task, _ = _task_and_labels(target, setup.checked_class_weight())
    except Exception as exc:  # noqa: BLE001 - the target is every member's
        return [exc if outcome is None else outcome for outcome in outcomes]
    loaded: dict[str, list[tuple[int, PackMember]]] = {}
    for i, spec in specs.items():
        member = members[i]
        try:
            torch.manual_seed(member.seed)
            encoder = spec.load(node_features=node_input)
            if not isinstance(encoder, GNNEncoder):
                outcomes[i] = _one_model(setup, member, encoder, target, device)
                continue
            packed = PackMember(encoder, seed=member.seed, lr=member.lr, weight_decay=member.weight_decay,
                                mode=member.mode, patience=member.patience)
            loaded.setdefault(json.dumps(encoder.config, sort_keys=True, default=str), []).append((i, packed))
        except Exception as exc:  # noqa: BLE001 - one member's failure is its own
            outcomes[i] = exc
    for group in loaded.values():
        positions = [i for i, _ in group]
        try:
            results = train_pack([m for _, m in group], graphs, target.splits, task, epochs=setup.epochs,
                                 batch_size=setup.batch_size, order_seed=setup.order_seed, dtype=dtype,
                                 progress=progress, description=f"pack of {len(group)}", return_models=True)
            for i, result in zip(positions, results):
                if isinstance(result, Exception):
                    outcomes[i] = result
                    continue
                assert result.model is not None  # return_models=True above
                outputs = _test_outputs(result.model, target, device, dtype)
                outcomes[i] = _member_result(
                    result, task, target, _test_details(outputs, task, target, _DIGITS[setup.dtype])
                )
        except Exception as exc:  # noqa: BLE001 - a pack's failure is each member's
            for i in positions:
                outcomes[i] = exc
    return outcomes  # type: ignore[return-value]
