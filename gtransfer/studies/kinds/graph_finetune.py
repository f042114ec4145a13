"""The ``graph_finetune`` trial kind: a thin adapter from a spec's params to
:func:`gtransfer.selection.finetuning.finetune_pack`, which fine-tunes an encoder with a linear head on a
graph target, in packs.

Alone a trial is a pack of one; in a sweep, pending trials that can share a pack -- the same target,
subsample, batch size, epochs, data-order seed, device and precision -- run as one unit
(:mod:`gtransfer.studies.packing`), split further by encoder architecture. A member's result does not
depend on its pack (tested to 1e-6 in float64).

Params: ``encoder``, ``target``, ``seed`` (head initialisation and dropout masks); optional ``mode``
(``"full"``), ``epochs`` (20), ``lr`` (1e-3), ``weight_decay`` (0), ``patience`` (5), ``batch_size`` (64),
``order_seed`` (0: the shuffle order, shared by a pack), ``max_samples``/``sample_seed`` (subsample),
``device`` (CUDA when available), ``dtype`` (``"float32"`` or ``"float64"``), ``data_root``; ``head``
(``"task"`` or ``"softmax"``: :data:`gtransfer.selection.finetuning.HEADS`); ``class_weight`` (unset, or
``"balanced"``: the loss weighted by the training split's classes, :mod:`gtransfer.training.losses`; a new param,
so the keys of trials that do not set it are unchanged).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from gtransfer.studies.kinds.graph import COMMON_PARAMS, check_graph_trial
from gtransfer.studies.registry import register_pack_runner, register_trial_kind

if TYPE_CHECKING:
    from gtransfer.selection.finetuning import FinetuneMember, FinetuneSetup

__all__ = ["graph_finetune_trial", "graph_finetune_pack", "pack_group", "MEMBER_PARAMS", "DEFAULTS"]

#: params in which the members of one pack may differ
MEMBER_PARAMS = frozenset({"encoder", "seed", "mode", "lr", "weight_decay", "patience"})
DEFAULTS: dict[str, Any] = {"mode": "full", "epochs": 20, "lr": 1e-3, "weight_decay": 0.0, "patience": 5,
                            "batch_size": 64, "order_seed": 0, "sample_seed": 0, "dtype": "float32", "head": "task"}


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


def setup_of(params: dict) -> FinetuneSetup:
    """The :class:`~gtransfer.selection.finetuning.FinetuneSetup` of a trial's params (what its pack shares)."""
    from gtransfer.selection.finetuning import FinetuneSetup

    return FinetuneSetup(target=params["target"], epochs=int(_get(params, "epochs")),
                         batch_size=int(_get(params, "batch_size")), order_seed=int(_get(params, "order_seed")),
                         max_samples=params.get("max_samples"), sample_seed=int(_get(params, "sample_seed")),
                         device=params.get("device"), dtype=str(_get(params, "dtype")), head=str(_get(params, "head")),
                         data_root=params.get("data_root"), class_weight=params.get("class_weight"))


def member_of(params: dict) -> FinetuneMember:
    """The :class:`~gtransfer.selection.finetuning.FinetuneMember` of a trial's params."""
    from gtransfer.selection.finetuning import FinetuneMember

    return FinetuneMember(encoder=params["encoder"], seed=int(params.get("seed", 0)), mode=str(_get(params, "mode")),
                          lr=float(_get(params, "lr")), weight_decay=float(_get(params, "weight_decay")),
                          patience=int(_get(params, "patience")))


def check_finetune_trial(params: dict) -> None:
    """:func:`~gtransfer.studies.kinds.graph.check_graph_trial`, and a known ``head``."""
    check_graph_trial(params)
    setup = setup_of(params)
    setup.checked_head()
    setup.checked_class_weight()


def graph_finetune_pack(members: list[dict], *, progress: bool = False) -> list[dict | Exception]:
    """Trials that share a :func:`pack_group`, run by :func:`gtransfer.selection.finetuning.finetune_pack`;
    per trial a result or its error."""
    from gtransfer.selection.finetuning import finetune_pack

    if len({pack_group(p) for p in members}) != 1:
        raise ValueError("graph_finetune_pack: the trials do not share one pack group")
    return finetune_pack(setup_of(members[0]), [member_of(p) for p in members], progress=progress)


def default_pack_size(group: str) -> int:
    """Members per pack when the sweep is not told: 64 on a GPU (launch-bound), 8 on the CPU (compute-bound)."""
    return 64 if json.loads(group)["device"].startswith("cuda") else 8


register_pack_runner("graph_finetune", pack_group, graph_finetune_pack, max_members=default_pack_size)


@register_trial_kind("graph_finetune", check=check_finetune_trial,
                     params=(*COMMON_PARAMS, *sorted(MEMBER_PARAMS - {"encoder", "seed"}),
                             *sorted(set(DEFAULTS) - MEMBER_PARAMS), "device", "class_weight"))
def graph_finetune_trial(params: dict) -> dict:
    """Fine-tune ``encoder`` with a linear head on ``target`` (a pack of one; see the module docstring).

    Returns:
        what :func:`gtransfer.selection.finetuning.finetune_pack` returns for a member: ``metric``,
        ``test_metric``/``valid_metric`` (also as ``test_roc_auc``, ``test_average_precision``, ``test_rmse``
        or ``test_accuracy``), ``majority_accuracy`` for multi-class targets, ``best_epoch``, ``epochs_run``,
        ``train_loss`` and ``valid_curve`` per epoch.
    """
    (outcome,) = graph_finetune_pack([params])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome
