"""Trial kinds on graph targets: metric scores and a linear probe (fine-tuning: :mod:`gtransfer.studies.kinds.graph_finetune`).

Params shared by all: ``encoder`` (an encoder string, :mod:`gtransfer.models.specs`), ``target``
(a target string, :mod:`gtransfer.data.targets`), ``seed``; optional ``max_samples`` and
``sample_seed`` (subsample), ``cache`` (embedding cache folder, relative to the spec), ``data_root``.
Scores are computed on the training split, the ground truth is measured on the test split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from gtransfer.studies.registry import register_trial_kind

if TYPE_CHECKING:
    from torch import nn
    from torch_geometric.data import Data
    from torch_geometric.loader import DataLoader

    from gtransfer.data.targets import GraphTarget
    from gtransfer.embeddings.targets import TargetEmbeddings
    from gtransfer.training.finetune import TaskSpec

__all__ = ["graph_score_trial", "graph_metric_timing_trial", "graph_probe_trial", "graph_finetune_inputs"]


def _embeddings(params: dict) -> TargetEmbeddings:
    from gtransfer.embeddings.targets import target_embeddings

    return target_embeddings(
        params["encoder"], params["target"], max_samples=params.get("max_samples"),
        sample_seed=int(params.get("sample_seed", 0)), cache=params.get("cache"), root=params.get("data_root"),
        device=params.get("device"),
    )


def _scored_embeddings(params: dict) -> TargetEmbeddings:
    """The target's embeddings with the training split cut to ``train_samples`` (when given), what the
    metrics see in ``graph_score`` and ``graph_metric_timing``."""
    train_samples = params.get("train_samples")
    return _embeddings(params).with_training_samples(None if train_samples is None else int(train_samples),
                                                     seed=int(params.get("sample_seed", 0)))


#: parameters every graph kind reads
COMMON_PARAMS = ("encoder", "target", "seed", "max_samples", "sample_seed", "cache", "data_root")


def check_graph_trial(params: dict) -> None:
    """Before any trial runs: the target parses and its dataset exists, the encoder resolves (no weights loaded).

    Raises:
        ValueError: a bad target or encoder string, an unknown dataset (the message lists those present).
        FileNotFoundError: an encoder checkpoint or a published encoder that is not there.
    """
    from gtransfer.data.loading import available_datasets, dataset_kind
    from gtransfer.data.targets import parse_target
    from gtransfer.models.specs import resolve_encoder

    for field in ("encoder", "target"):
        if field not in params:
            raise ValueError(f"graph trials need {field!r} (give '{field}s:' in the spec)")
    dataset = parse_target(params["target"])[0]
    kind = dataset_kind(dataset)
    present = available_datasets(params.get("data_root"))
    if kind != "molecule" and dataset.lower() not in {name.lower() for name in present}:
        raise ValueError(f"target {params['target']!r}: no dataset {dataset!r} in the data roots; present: "
                         f"{', '.join(sorted(present, key=str.lower)) or 'none'}")
    spec = resolve_encoder(params["encoder"], params.get("data_root"))
    if spec.kind != "file":  # a checkpoint's input is read from the file: left to the trial
        problem = spec.fit_problem(dataset, kind)
        if problem is not None:
            raise ValueError(problem)


@register_trial_kind("graph_score", params=(*COMMON_PARAMS, "metrics", "source", "source_clusters", "device", "train_samples"),
                     check=check_graph_trial)
def graph_score_trial(params: dict) -> dict:
    """Every metric of ``score_all`` on the training split's embeddings; NCE/LEEP from a named source.

    Optional params: ``metrics`` (names); ``source`` of NCE/LEEP's source probabilities (``"head"``,
    the encoder's source head, default; ``"kmeans-stand-in"``, k-means of the target's embeddings,
    not a source model; :mod:`gtransfer.selection.source_probs`); ``source_clusters`` (Z of the
    stand-in, 32; 0 leaves NCE/LEEP out whatever the source). Sources are read only when ``metrics``
    asks for NCE/LEEP (or is not given). ``train_samples``: score from this many training samples
    only (class shares kept, at least 2 per class, drawn by ``sample_seed``;
    :meth:`TargetEmbeddings.with_training_samples`), the embeddings and every other split unchanged,
    so a study can ask how a metric ranks from n = 50, 100, ... samples against the same truth.

    Returns:
        the scores, ``n``, ``d``, ``num_classes``, ``imbalance_ratio`` (largest / smallest class of the
        training split, :class:`gtransfer.data.class_subsets.TaskInfo`) and ``nce_leep_source`` (what NCE/LEEP were computed
        from; NaN NCE/LEEP with ``"none: ..."`` for an encoder without a source head).
    """
    from gtransfer.metrics.registry import DEFAULT_SOURCE_METRICS, SOURCE_METRICS
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.source_probs import source_probabilities
    from gtransfer.selection.task_scores import score_target

    embeddings = _scored_embeddings(params)
    features, labels = embeddings.part("train")
    features = features.astype(np.float64)
    clusters = int(params.get("source_clusters", 32))
    metrics = params.get("metrics")
    extra: dict = {}
    source_probs = None
    if clusters and embeddings.task_kind != "regression" and (metrics is None or any(m in SOURCE_METRICS for m in metrics)):
        spec = resolve_encoder(params["encoder"], params.get("data_root"))
        options = {"source": params.get("source", "head"), "num_clusters": clusters, "seed": int(params.get("seed", 0))}
        source = source_probabilities(spec, features, embeddings.dataset_name, embeddings.node_input, **options)
        extra["nce_leep_source"] = source.source
        if source.probs is None:  # no source head: NCE/LEEP are undefined, not silently replaced
            wanted = DEFAULT_SOURCE_METRICS if metrics is None else [m for m in metrics if m in SOURCE_METRICS]
            extra.update({name: float("nan") for name in wanted})
            metrics = None if metrics is None else [m for m in metrics if m not in SOURCE_METRICS]
        else:  # a multi-task target scores each task on its labelled rows: the source maps those rows
            def source_probs(rows: np.ndarray) -> np.ndarray:
                return source_probabilities(spec, rows, embeddings.dataset_name, embeddings.node_input, **options).probs
    from gtransfer.training.batching import resolve_device

    device = resolve_device(params.get("device"))  # CUDA when available: the metric core runs there too
    scores = score_target(features, labels, embeddings.task_kind, metrics=metrics, source_probs=source_probs,
                          device=str(device) if device.type == "cuda" else None) if metrics != [] else {}
    out = {**scores, **extra, "n": int(features.shape[0]), "d": int(features.shape[1])}
    if embeddings.task_kind in ("binary", "multiclass"):
        from gtransfer.data.class_subsets import describe_labels

        out["num_classes"] = int(np.unique(labels).size)
        out["imbalance_ratio"] = float(describe_labels(labels).imbalance_ratio)
    return out


@register_trial_kind("graph_metric_timing", params=(*COMMON_PARAMS, "metrics", "train_samples", "repeats"), check=check_graph_trial)
def graph_metric_timing_trial(params: dict) -> dict:
    """Wall time of each metric alone on a target's real (cached) training embeddings, best of ``repeats``.

    Params: ``metrics`` (names; default the feature metrics and, when the encoder has a source head,
    NCE and LEEP on the head's probabilities, computed once and not timed: the metric is timed, not
    the source model's forward pass), ``train_samples`` (as for ``graph_score``), ``repeats`` (3).
    Each metric runs alone through :func:`gtransfer.metrics.score_all`, so a metric that shares
    statistics with others in a full scoring pays for them here. Float64 features, the CPU.

    Returns:
        ``seconds_<metric>`` for each metric, ``n``, ``d``, ``num_classes``; a metric that refuses the
        input (N-LEEP on too few samples) gets NaN seconds and its reason under ``skipped_<metric>``.
    """
    from gtransfer.metrics import score_all
    from gtransfer.metrics.registry import DEFAULT_SOURCE_METRICS, FEATURE_METRICS, SOURCE_METRICS
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.source_probs import source_probabilities
    from gtransfer.studies.kinds.arrays import best_of

    embeddings = _scored_embeddings(params)
    if embeddings.task_kind not in ("binary", "multiclass"):
        raise ValueError(f"graph_metric_timing needs class labels; {params['target']} is a {embeddings.task_kind} target")
    features, labels = embeddings.part("train")
    features = features.astype(np.float64)
    spec = resolve_encoder(params["encoder"], params.get("data_root"))
    probs = None
    if spec.source_head is not None:
        probs = source_probabilities(spec, features, embeddings.dataset_name, embeddings.node_input).probs
    metrics = params.get("metrics") or [*FEATURE_METRICS, *(DEFAULT_SOURCE_METRICS if probs is not None else ())]
    out: dict = {"n": int(features.shape[0]), "d": int(features.shape[1]), "num_classes": int(np.unique(labels).size)}
    for name in metrics:
        if name in SOURCE_METRICS and probs is None:
            raise ValueError(f"graph_metric_timing: {name} needs a source head, and {params['encoder']} has none; "
                             "leave it out of metrics")
        try:
            seconds, _ = best_of(lambda name=name: score_all(features, labels, source_probs=probs, metrics=[name])[name],
                                 int(params.get("repeats", 3)))
        except ValueError as exc:  # e.g. N-LEEP's mixture on too few samples: recorded, not timed
            out[f"seconds_{name}"], out[f"skipped_{name}"] = float("nan"), str(exc)
            continue
        out[f"seconds_{name}"] = seconds
    return out


@register_trial_kind("graph_probe", params=(*COMMON_PARAMS, "l2", "max_iter", "device"), check=check_graph_trial)
def graph_probe_trial(params: dict) -> dict:
    """Logistic regression on frozen, standardised embeddings: train split -> test split; ridge
    regression for a regression target (``test_rmse``, ``test_mae``: lower is better).

    Optional params: ``l2`` (inverse regularisation C, 1.0; ridge's alpha = 1 / C), ``max_iter`` (500).
    """
    from gtransfer.training.probe import fit_logistic_probe, fit_ridge_probe
    from gtransfer.training.task_metrics import classification_metrics, mae, rmse

    embeddings = _embeddings(params)
    x_train, y_train = embeddings.part("train")
    x_test, y_test = embeddings.part("test")
    if embeddings.task_kind == "regression":
        predictions = fit_ridge_probe(x_train, y_train, C=float(params.get("l2", 1.0))).predict(x_test)
        return {"test_rmse": rmse(y_test, predictions), "test_mae": mae(y_test, predictions),
                "n_train": int(len(y_train)), "n_test": int(len(y_test))}
    if embeddings.task_kind not in ("binary", "multiclass"):
        raise ValueError(f"graph_probe needs class labels or a regression target; {params['target']} is a "
                         f"{embeddings.task_kind} target (probe one task, e.g. {params['target']}:0, or use graph_finetune)")
    model = fit_logistic_probe(x_train, y_train, C=float(params.get("l2", 1.0)), max_iter=int(params.get("max_iter", 500)))
    probs = model.predict_proba(x_test)
    full = np.zeros((len(y_test), int(max(y_train.max(), y_test.max())) + 1))
    full[:, model.classes_] = probs
    scores = full[:, 1] if full.shape[1] == 2 else full
    return {**classification_metrics(y_test, full.argmax(axis=1), scores, y_train), "n_train": int(len(y_train)), "n_test": int(len(y_test))}


def graph_finetune_inputs(params: dict, batch_size: int) -> tuple[nn.Module, dict[str, DataLoader], TaskSpec, GraphTarget]:
    """``(encoder, loaders, task, target)`` of a graph-level target: train/valid/test PyG loaders whose
    graphs carry the task's labels as ``y`` (:func:`gtransfer.training.tasks.graph_labels`), the encoder
    built for the target's input, and its task (:func:`gtransfer.training.tasks.task_spec_of`: binary,
    multi-task, multi-class and regression targets alike). The measure to judge the model by is
    :func:`gtransfer.training.task_metrics.metric_of_target` (average precision for MUV)."""
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.data.targets import subsample_target
    from gtransfer.embeddings.targets import target_for_encoder
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.training.tasks import graph_labels, task_spec_of

    target_text = params["target"]
    sample_seed = int(params.get("sample_seed", 0))
    spec = resolve_encoder(params["encoder"], params.get("data_root"))
    target, node_input = target_for_encoder(spec, target_text, root=params.get("data_root"), seed=sample_seed)
    encoder = spec.load(node_features=node_input)
    if target.level != "graph":
        raise ValueError(f"graph_finetune needs a graph-level target; {target_text} is node-level (use graph_probe)")
    target = subsample_target(target, params.get("max_samples"), seed=sample_seed)
    task = task_spec_of(target)

    def graphs(positions: np.ndarray) -> list[Data]:
        rows = graph_labels(target, positions)
        out = []
        for row, position in enumerate(positions):
            data = target.dataset[int(target.indices[position])].clone()
            data.y = rows[row:row + 1]  # (1, T) float for multilabel/regression, (1,) long for multiclass
            out.append(data)
        return out

    generator = torch.Generator().manual_seed(int(params.get("seed", 0)))
    loaders = {
        split: DataLoader(graphs(positions), batch_size=batch_size, shuffle=(split == "train"), generator=generator if split == "train" else None)
        for split, positions in target.splits.items()
    }
    return encoder, loaders, task, target
