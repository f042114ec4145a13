"""The ``graph_finetune`` trial kind: fine-tune an encoder with a linear head on a graph target, in packs.

Every ``graph_finetune`` trial runs through the packed engine (:mod:`gtransfer.training.packed`): alone it is
a pack of one; in a sweep, pending trials that can share a pack -- the same target, subsample, batch size,
epochs, data-order seed, device and precision -- run as one unit (:mod:`gtransfer.studies.packing`), split
further by encoder architecture. A member's result does not depend on its pack (tested to 1e-6 in float64).

Params: ``encoder``, ``target``, ``seed`` (head initialisation and dropout masks); optional ``mode``
(``"full"``), ``epochs`` (20), ``lr`` (1e-3), ``weight_decay`` (0), ``patience`` (5), ``batch_size`` (64),
``order_seed`` (0: the shuffle order, shared by a pack), ``max_samples``/``sample_seed`` (subsample),
``device`` (CUDA when available), ``dtype`` (``"float32"`` or ``"float64"``), ``data_root``; ``head``
(``"task"``: the target's own head -- a sigmoid per binary task judged by ROC-AUC, a softmax over
classes judged by accuracy; ``"softmax"``: a softmax over the classes for a binary target too, judged by
accuracy with ``majority_accuracy`` reported, as the source zoo trains binary TU tasks -- what a study
ranking binary and multi-class targets together by accuracy needs).
"""

from __future__ import annotations

import json
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import numpy as np

from gtransfer.studies.kinds.graph import COMMON_PARAMS, check_graph_trial
from gtransfer.studies.registry import register_pack_runner, register_trial_kind

if TYPE_CHECKING:
    from gtransfer.data.targets import GraphTarget
    from gtransfer.training.finetune import FinetuneResult, TaskSpec
    from gtransfer.training.packed import DeviceGraphs

__all__ = ["graph_finetune_trial", "graph_finetune_pack", "pack_group", "MEMBER_PARAMS", "DEFAULTS"]

#: params in which the members of one pack may differ
MEMBER_PARAMS = frozenset({"encoder", "seed", "mode", "lr", "weight_decay", "patience"})
DEFAULTS: dict[str, Any] = {"mode": "full", "epochs": 20, "lr": 1e-3, "weight_decay": 0.0, "patience": 5, "batch_size": 64,
                            "order_seed": 0, "sample_seed": 0, "dtype": "float32", "head": "task"}
_DTYPES = ("float32", "float64")
#: ``head`` values (see the module docstring)
HEADS = ("task", "softmax")
#: collated targets kept between packs of one process (a sweep runs many packs on few targets)
_COLLATED: OrderedDict[str, tuple] = OrderedDict()
_COLLATED_SIZE = 2
#: result key of each measure: test_roc_auc, test_average_precision, test_accuracy, test_rmse, test_mae
_RESULT_NAMES = {"rocauc": "roc_auc"}


def _get(params: dict, name: str) -> Any:
    return params.get(name, DEFAULTS.get(name))


def pack_group(params: dict) -> str:
    """The pack a trial can join: everything but its member params, as canonical JSON (device resolved)."""
    from gtransfer.training.batching import resolve_device

    shared = {k: v for k, v in params.items() if k not in MEMBER_PARAMS}
    for name in ("epochs", "batch_size", "order_seed", "sample_seed", "dtype", "head"):
        shared.setdefault(name, DEFAULTS[name])
    shared["device"] = str(resolve_device(params.get("device")))
    return json.dumps(shared, sort_keys=True, default=str)


def _task_and_labels(target: GraphTarget) -> tuple[TaskSpec, Any]:
    """The head's task (:func:`gtransfer.training.tasks.task_spec_of`, judged by OGB's measure of the dataset:
    :func:`gtransfer.training.task_metrics.metric_of_target`) and one label row per target sample."""
    from dataclasses import replace

    from gtransfer.training.task_metrics import metric_of_target
    from gtransfer.training.tasks import graph_labels, task_spec_of

    task = replace(task_spec_of(target), metric_name=metric_of_target(target))
    return task, graph_labels(target, np.arange(target.indices.size))


def _collated(params: dict, spec: Any, device: Any, dtype: Any) -> tuple[GraphTarget, Any, DeviceGraphs]:
    """(target, node input, the target's graphs on ``device``), reused across the packs of a process."""
    from dataclasses import replace

    from gtransfer.data.targets import subsample_target
    from gtransfer.embeddings.targets import target_for_encoder
    from gtransfer.training.packed import DeviceGraphs

    sample_seed = int(_get(params, "sample_seed"))
    head = _head(params)
    key = json.dumps([params["target"], spec.featurizer, params.get("max_samples"), sample_seed, params.get("data_root"), str(device), str(dtype),
                      head], default=str)
    if key in _COLLATED:
        _COLLATED.move_to_end(key)
        return _COLLATED[key]
    target, node_input = target_for_encoder(spec, params["target"], root=params.get("data_root"), seed=sample_seed)
    if target.level != "graph":
        raise ValueError(f"graph_finetune needs a graph-level target; {params['target']} is node-level (use graph_probe)")
    target = subsample_target(target, params.get("max_samples"), seed=sample_seed)
    if head == "softmax":
        if not target.is_classification:
            raise ValueError(f"graph_finetune: head 'softmax' needs class labels; {params['target']} is a {target.task_kind} target "
                             "(name one task, e.g. ogbg-moltox21:0, or leave head at 'task')")
        target = replace(target, task_kind="multiclass", eval_metric="accuracy")
    _, labels = _task_and_labels(target)
    graphs = [target.dataset[int(i)] for i in target.indices]
    collated = (target, node_input, DeviceGraphs(graphs, labels, device=device, float_dtype=dtype))
    _COLLATED[key] = collated
    while len(_COLLATED) > _COLLATED_SIZE:
        _COLLATED.popitem(last=False)
    return collated


def _head(params: dict) -> str:
    head = str(_get(params, "head"))
    if head not in HEADS:
        raise ValueError(f"graph_finetune: head must be one of {HEADS}, got {head!r}")
    return head


def check_finetune_trial(params: dict) -> None:
    """:func:`~gtransfer.studies.kinds.graph.check_graph_trial`, and a known ``head``."""
    check_graph_trial(params)
    _head(params)


def _trial_result(result: FinetuneResult, task: TaskSpec, target: GraphTarget) -> dict:
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

        out["majority_accuracy"] = majority_accuracy(target.labels[target.splits["test"]], target.labels[target.splits["train"]])
    return out


def _classic_trial(params: dict, device: Any) -> dict:
    """A trial whose encoder is not a :class:`GNNEncoder` (a DGL encoder): the one-model loop, alone."""
    import torch

    from gtransfer.studies.kinds.graph import graph_finetune_inputs
    from gtransfer.training.finetune import finetune

    if _head(params) != "task":
        raise ValueError(f"graph_finetune: head {_head(params)!r} runs in the packed engine only; {params['encoder']} is not a GNNEncoder")
    torch.manual_seed(int(params.get("seed", 0)))
    encoder, loaders, _, target = graph_finetune_inputs(params, int(_get(params, "batch_size")))
    task, _ = _task_and_labels(target)
    result = finetune(encoder, loaders["train"], loaders["valid"], loaders["test"], task=task, mode=str(_get(params, "mode")),
                      epochs=int(_get(params, "epochs")), lr=float(_get(params, "lr")), patience=int(_get(params, "patience")),
                      seed=int(params.get("seed", 0)), device=device, weight_decay=float(_get(params, "weight_decay")))
    return _trial_result(result, task, target)


def graph_finetune_pack(members: list[dict], progress: bool = False) -> list[dict | Exception]:
    """Run trials that share a :func:`pack_group` as packs (one per encoder architecture); per trial a result or its error.

    A failure of a whole pack (data that cannot load, a device error) is returned as every member's
    error; a member whose encoder cannot be loaded fails alone. An encoder that is not a
    :class:`~gtransfer.models.encoder.GNNEncoder` (a DGL encoder) trains alone in the one-model loop.
    """
    import torch

    from gtransfer.models.encoder import GNNEncoder
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.training.batching import resolve_device
    from gtransfer.training.packed import PackMember, train_pack

    if len({pack_group(p) for p in members}) != 1:
        raise ValueError("graph_finetune_pack: the trials do not share one pack group")
    first = members[0]
    dtype_name = str(_get(first, "dtype"))
    if dtype_name not in _DTYPES:
        raise ValueError(f"graph_finetune: dtype must be one of {_DTYPES}, got {dtype_name!r}")
    dtype = getattr(torch, dtype_name)
    device = resolve_device(first.get("device"))
    outcomes: list[dict | Exception | None] = [None] * len(members)
    specs: dict[int, Any] = {}
    for i, params in enumerate(members):
        try:
            specs[i] = resolve_encoder(params["encoder"], params.get("data_root"))
        except Exception as exc:  # noqa: BLE001 - a member's own failure is its own
            outcomes[i] = exc
    if not specs:
        return outcomes
    try:
        target, node_input, graphs = _collated(first, next(iter(specs.values())), device, dtype)
        task, _ = _task_and_labels(target)
    except Exception as exc:  # noqa: BLE001 - the target is every member's
        return [exc if outcome is None else outcome for outcome in outcomes]
    loaded: dict[str, list[tuple[int, PackMember]]] = {}
    for i, spec in specs.items():
        params = members[i]
        try:
            torch.manual_seed(int(params.get("seed", 0)))
            encoder = spec.load(node_features=node_input)
            if not isinstance(encoder, GNNEncoder):
                outcomes[i] = _classic_trial(params, device)
                continue
            member = PackMember(encoder, seed=int(params.get("seed", 0)), lr=float(_get(params, "lr")),
                                weight_decay=float(_get(params, "weight_decay")), mode=str(_get(params, "mode")),
                                patience=int(_get(params, "patience")))
            loaded.setdefault(json.dumps(encoder.config, sort_keys=True, default=str), []).append((i, member))
        except Exception as exc:  # noqa: BLE001 - one member's failure is its own
            outcomes[i] = exc
    for group in loaded.values():
        positions = [i for i, _ in group]
        try:
            results = train_pack([m for _, m in group], graphs, target.splits, task, epochs=int(_get(first, "epochs")),
                                 batch_size=int(_get(first, "batch_size")), order_seed=int(_get(first, "order_seed")), dtype=dtype,
                                 progress=progress, description=f"pack of {len(group)}")
            for i, result in zip(positions, results):
                outcomes[i] = result if isinstance(result, Exception) else _trial_result(result, task, target)
        except Exception as exc:  # noqa: BLE001 - a pack's failure is each member's
            for i in positions:
                outcomes[i] = exc
    return outcomes


def default_pack_size(group: str) -> int:
    """Members per pack when the sweep is not told: 64 on a GPU (launch-bound), 8 on the CPU (compute-bound)."""
    return 64 if json.loads(group)["device"].startswith("cuda") else 8


register_pack_runner("graph_finetune", pack_group, graph_finetune_pack, default_pack_size)


@register_trial_kind("graph_finetune", params=(*COMMON_PARAMS, *sorted(MEMBER_PARAMS - {"encoder", "seed"}), *sorted(set(DEFAULTS) - MEMBER_PARAMS),
                                              "device"), check=check_finetune_trial)
def graph_finetune_trial(params: dict) -> dict:
    """Fine-tune ``encoder`` with a linear head on ``target`` (a pack of one; see the module docstring).

    Returns:
        ``metric`` and ``test_metric``/``valid_metric`` in the measure OGB uses for the dataset (ROC-AUC
        for binary and multi-task molecule targets, mean over tasks; average precision for MUV; RMSE for
        regression, lower is better; accuracy for multi-class), also as ``test_roc_auc``,
        ``test_average_precision``, ``test_rmse`` or ``test_accuracy``; ``majority_accuracy`` of the test
        split for multi-class targets (and binary ones with ``head: softmax``, judged by accuracy);
        ``best_epoch``, ``epochs_run``; per epoch ``train_loss`` and ``valid_curve``.
    """
    (outcome,) = graph_finetune_pack([params])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
