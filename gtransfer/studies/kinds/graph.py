"""Trial kinds on graph targets: metric scores, metric timing and a linear probe (fine-tuning:
:mod:`gtransfer.studies.kinds.graph_finetune`).

Thin adapters from a spec's params to :mod:`gtransfer.selection.scoring`, which does the work. Params shared
by all: ``encoder`` (an encoder string, :mod:`gtransfer.models.specs`), ``target`` (a target string,
:mod:`gtransfer.data.targets`), ``seed``; optional ``max_samples`` and ``sample_seed`` (subsample),
``cache`` (embedding cache folder, relative to the spec), ``data_root``. Scores are computed on the
training split, the ground truth is measured on the test split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gtransfer.studies.registry import register_trial_kind

if TYPE_CHECKING:
    from torch import nn
    from torch_geometric.loader import DataLoader

    from gtransfer.data.targets import GraphTarget
    from gtransfer.training.finetune import TaskSpec

__all__ = ["graph_score_trial", "graph_metric_timing_trial", "graph_probe_trial", "graph_finetune_inputs"]

#: parameters every graph kind reads
COMMON_PARAMS = ("encoder", "target", "seed", "max_samples", "sample_seed", "cache", "data_root")


def _data_options(params: dict) -> dict:
    """The keyword options of every :mod:`gtransfer.selection.scoring` call, from the common params."""
    return {"max_samples": params.get("max_samples"), "sample_seed": int(params.get("sample_seed", 0)),
            "cache": params.get("cache"), "data_root": params.get("data_root"), "device": params.get("device")}


def _train_samples(params: dict) -> int | None:
    return None if params.get("train_samples") is None else int(params["train_samples"])


def check_graph_trial(params: dict) -> None:
    """Before any trial runs: :func:`gtransfer.selection.scoring.check_encoder_on_target` (no weights loaded).

    Raises:
        ValueError: no encoder or target; a bad target or encoder string, an unknown dataset.
        FileNotFoundError: an encoder checkpoint or a published encoder that is not there.
    """
    from gtransfer.selection.scoring import check_encoder_on_target

    for field in ("encoder", "target"):
        if field not in params:
            raise ValueError(f"graph trials need {field!r} (give '{field}s:' in the spec)")
    check_encoder_on_target(params["encoder"], params["target"], data_root=params.get("data_root"))


@register_trial_kind("graph_score", check=check_graph_trial,
                     params=(*COMMON_PARAMS, "metrics", "source", "source_clusters", "device", "train_samples"))
def graph_score_trial(params: dict) -> dict:
    """:func:`gtransfer.selection.scoring.score_encoder`: every metric on the training split's embeddings.

    Optional params: ``metrics`` (names); ``source`` (``"head"``, default, or ``"kmeans-stand-in"``),
    ``source_clusters`` (32; 0 leaves NCE/LEEP out), ``train_samples`` (score from this many training
    samples, drawn by ``sample_seed``), ``device``. Returns what ``score_encoder`` returns.
    """
    from gtransfer.selection.scoring import score_encoder

    return score_encoder(params["encoder"], params["target"], metrics=params.get("metrics"),
                         source=params.get("source", "head"), source_clusters=int(params.get("source_clusters", 32)),
                         seed=int(params.get("seed", 0)), train_samples=_train_samples(params), **_data_options(params))


@register_trial_kind("graph_metric_timing", params=(*COMMON_PARAMS, "metrics", "train_samples", "repeats"),
                     check=check_graph_trial)
def graph_metric_timing_trial(params: dict) -> dict:
    """:func:`gtransfer.selection.scoring.time_metrics`: each metric alone on real embeddings, best of ``repeats`` (3).

    Params: ``metrics`` (names; default the feature metrics and NCE/LEEP when the encoder has a source
    head), ``train_samples`` (as for ``graph_score``), ``repeats``.
    """
    from gtransfer.selection.scoring import time_metrics

    return time_metrics(params["encoder"], params["target"], metrics=params.get("metrics"),
                        train_samples=_train_samples(params), repeats=int(params.get("repeats", 3)),
                        **_data_options(params))


@register_trial_kind("graph_probe", params=(*COMMON_PARAMS, "l2", "max_iter", "device"), check=check_graph_trial)
def graph_probe_trial(params: dict) -> dict:
    """:func:`gtransfer.selection.scoring.probe_encoder`: logistic regression on frozen embeddings (ridge for
    a regression target). Optional params: ``l2`` (inverse regularisation C, 1.0), ``max_iter`` (500).
    """
    from gtransfer.selection.scoring import probe_encoder

    return probe_encoder(params["encoder"], params["target"], l2=float(params.get("l2", 1.0)),
                         max_iter=int(params.get("max_iter", 500)), **_data_options(params))


def graph_finetune_inputs(params: dict,
                          batch_size: int) -> tuple[nn.Module, dict[str, DataLoader], TaskSpec, GraphTarget]:
    """``(encoder, loaders, task, target)`` of a ``graph_finetune`` trial's params for the one-model loop:
    :func:`gtransfer.selection.finetuning.finetune_inputs`."""
    from gtransfer.selection.finetuning import finetune_inputs

    return finetune_inputs(params["encoder"], params["target"], batch_size=batch_size, seed=int(params.get("seed", 0)),
                           max_samples=params.get("max_samples"), sample_seed=int(params.get("sample_seed", 0)),
                           data_root=params.get("data_root"))
