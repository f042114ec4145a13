"""An encoder on a graph target, frozen: its metric scores, each metric's time, and a linear probe.

The service behind ``gtransfer rank`` and the ``graph_score``, ``graph_metric_timing`` and ``graph_probe``
trial kinds (thin adapters from a spec's params to these calls). Each function resolves the encoder string
once (:func:`gtransfer.models.specs.resolve_encoder`), embeds the target through the one embedding cache
(:func:`gtransfer.embeddings.targets.target_embeddings`) and computes on the training split; the probe's
ground truth is measured on the test split.

Common options: ``max_samples`` and ``sample_seed`` (subsample the target, every split and class alike;
the seed also seeds the stratified split of non-molecule targets), ``cache`` (embedding cache folder;
None computes without caching), ``data_root``, ``device`` (where the encoder runs; default CUDA when available).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from gtransfer.metrics import score_all

if TYPE_CHECKING:
    import os

    from gtransfer.embeddings.targets import TargetEmbeddings
    from gtransfer.models.specs import EncoderSpec

__all__ = ["EncoderTargetProblems", "check_encoder_on_target", "score_encoder", "time_metrics", "probe_encoder",
           "source_probs_for", "best_of", "POOL_COLUMN_SEPARATOR", "pool_component_columns"]

SourceProbs = Callable[[np.ndarray], np.ndarray]

#: a pool metric's per-model component is stored as ``<metric><separator><component>`` (``ncti__seli``)
POOL_COLUMN_SEPARATOR = "__"


def pool_component_columns(features: np.ndarray, labels: np.ndarray, names: Sequence[str], *,
                           device: str | None = None) -> dict[str, float | str]:
    """The per-model components of each pool-relative metric in ``names`` (``POOL_METRIC_SPECS[name].components``)
    as columns ``<name>__<component>``: what a study stores per (encoder, target), to be combined over the
    encoders of each target by the report (:func:`gtransfer.studies.report.tables.combine_pool_metrics`).

    A metric whose components refuse these data (a ``ValueError`` of its own) gets NaN components and its reason
    under ``refused_<name>``, so the other metrics of the trial are kept.
    """
    from gtransfer.metrics.registry import POOL_METRIC_SPECS

    out: dict[str, float | str] = {}
    for name in names:
        spec = POOL_METRIC_SPECS[name]
        try:
            parts = spec.components(features, labels, device=device)
        except ValueError as exc:
            out.update({f"{name}{POOL_COLUMN_SEPARATOR}{part}": float("nan") for part in spec.weights})
            out[f"refused_{name}"] = str(exc)
            continue
        out.update({f"{name}{POOL_COLUMN_SEPARATOR}{part}": float(value) for part, value in parts.items()})
    return out


class EncoderTargetProblems(ValueError):
    """Both a bad target and a bad encoder: ``problems`` holds each one's message (the spec check lists each once)."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


def check_encoder_on_target(encoder: str, target: str, *, data_root: str | os.PathLike | None = None) -> None:
    """Before any work: the target parses and its dataset exists, the encoder resolves (no weights loaded)
    and, unless it is a checkpoint whose input is read from the file, can read the target's nodes.

    The target and the encoder are checked each on its own, so a bad target does not hide a typo in the encoder.

    Raises:
        ValueError: a bad target or encoder string, an unknown dataset (the message lists those present),
            an encoder that cannot read the target; :class:`EncoderTargetProblems` when both are bad.
        FileNotFoundError: an encoder checkpoint or a published encoder that is not there.
    """
    from gtransfer.data.loading import available_datasets, dataset_kind
    from gtransfer.data.targets import parse_target
    from gtransfer.models.specs import resolve_encoder

    target_problem: ValueError | None = None
    try:
        dataset = parse_target(target)[0]
        kind = dataset_kind(dataset)
        present = available_datasets(data_root)
        if kind != "molecule" and dataset.lower() not in {name.lower() for name in present}:
            raise ValueError(f"target {target!r}: no dataset {dataset!r} in the data roots; present: "
                             f"{', '.join(sorted(present, key=str.lower)) or 'none'}")
    except ValueError as exc:
        target_problem = exc
    try:
        spec = resolve_encoder(encoder, root=data_root)
    except (ValueError, FileNotFoundError) as exc:
        if target_problem is None:
            raise
        raise EncoderTargetProblems([str(target_problem), str(exc)]) from None
    if target_problem is not None:
        raise target_problem
    if spec.kind != "file":  # a checkpoint's input is read from the file: left to the work itself
        problem = spec.fit_problem(dataset, kind)
        if problem is not None:
            raise ValueError(problem)


def source_probs_for(
    spec: EncoderSpec, features: np.ndarray, embeddings: TargetEmbeddings, *, source: str = "head",
    num_clusters: int = 32, seed: int = 0,
) -> tuple[str, SourceProbs | None]:
    """``(what NCE/LEEP read, theta of any rows)`` of an encoder on a target's embeddings.

    The first element is :attr:`gtransfer.selection.source_probs.SourceProbabilities.source` for the
    training ``features``; the second maps rows of features to theta (n, Z) -- a multi-task target scores
    each task on its labelled rows, so the source must map those rows -- or is None when the encoder has no
    source of that kind (NCE/LEEP are then NaN, not silently replaced).

    Raises:
        ValueError: an unknown ``source``; a source head trained on other inputs than the target's.
    """
    from gtransfer.selection.source_probs import source_probabilities

    def of(rows: np.ndarray) -> np.ndarray | None:
        return source_probabilities(spec, rows, embeddings.dataset_name, embeddings.node_input, source=source,
                                    num_clusters=num_clusters, seed=seed).probs

    found = source_probabilities(spec, features, embeddings.dataset_name, embeddings.node_input, source=source,
                                 num_clusters=num_clusters, seed=seed)
    if found.probs is None:
        return found.source, None

    def probs(rows: np.ndarray) -> np.ndarray:
        theta = of(rows)
        assert theta is not None  # the source exists: found above
        return theta

    return found.source, probs


def _embeddings(spec: EncoderSpec, target: str, *, max_samples: int | None, sample_seed: int,
                cache: str | os.PathLike | None, data_root: str | os.PathLike | None, device: str | None,
                train_samples: int | None = None) -> TargetEmbeddings:
    """The target's embeddings, the training split cut to ``train_samples`` when given."""
    from gtransfer.embeddings.targets import target_embeddings

    embeddings = target_embeddings(spec, target, max_samples=max_samples, sample_seed=sample_seed, cache=cache,
                                   root=data_root, device=device)
    return embeddings.with_training_samples(None if train_samples is None else int(train_samples), seed=sample_seed)


def score_encoder(
    encoder: str | EncoderSpec,
    target: str,
    *,
    metrics: Sequence[str] | None = None,
    source: str = "head",
    source_clusters: int = 32,
    seed: int = 0,
    train_samples: int | None = None,
    max_samples: int | None = None,
    sample_seed: int = 0,
    cache: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
    device: str | None = None,
) -> dict:
    """Every metric of ``score_all`` (or ``metrics``) on the target's training split; NCE/LEEP from a named source.

    Args:
        source: where NCE/LEEP's source probabilities come from (``"head"``, the encoder's source head;
            ``"kmeans-stand-in"``, k-means of the target's embeddings, not a source model;
            :mod:`gtransfer.selection.source_probs`), read only when ``metrics`` asks for NCE/LEEP (or is None).
        source_clusters: Z of the stand-in (0 leaves NCE/LEEP out whatever the source); ``seed`` seeds its k-means.
        train_samples: score from this many training samples only (class shares kept, at least 2 per class,
            drawn by ``sample_seed``; :meth:`TargetEmbeddings.with_training_samples`), the other splits unchanged.
        device: where the encoder and the metric core run (CUDA when available).

    Pool-relative metrics among ``metrics`` (``ncti``, ``etran``: a model's score depends on the other candidates)
    are stored as their per-model components, ``<name>__<component>`` (:func:`pool_component_columns`); a report
    combines them over the encoders of each target. They need class labels of one task.

    Returns:
        the scores, ``n``, ``d``, ``num_classes``, ``imbalance_ratio`` (largest / smallest class of the
        training split, :class:`gtransfer.data.class_subsets.TaskInfo`) and ``nce_leep_source`` (what NCE/LEEP
        were computed from; NaN NCE/LEEP with ``"none: ..."`` for an encoder without a source head).
    """
    from gtransfer.metrics.registry import DEFAULT_SOURCE_METRICS, POOL_METRIC_SPECS, SOURCE_METRICS
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.task_scores import score_target
    from gtransfer.training.batching import resolve_device

    spec = resolve_encoder(encoder, root=data_root)
    embeddings = _embeddings(spec, target, max_samples=max_samples, sample_seed=sample_seed, cache=cache,
                             data_root=data_root, device=device, train_samples=train_samples)
    features, labels = embeddings.part("train")
    features = features.astype(np.float64)
    wanted_metrics = None if metrics is None else [m for m in metrics if m not in POOL_METRIC_SPECS]
    pool = [m for m in metrics or () if m in POOL_METRIC_SPECS]
    if pool and embeddings.task_kind not in ("binary", "multiclass"):
        raise ValueError(f"target {target}: pool metrics {pool} are stored per (encoder, target) as components of one "
                         f"class-labelled task, and {target} is a {embeddings.task_kind} target; score one task "
                         f"(e.g. {target}:0) or leave {', '.join(pool)} out")
    extra: dict = {}
    source_probs = None
    if source_clusters and embeddings.task_kind != "regression" and (
            wanted_metrics is None or any(m in SOURCE_METRICS for m in wanted_metrics)):
        extra["nce_leep_source"], source_probs = source_probs_for(spec, features, embeddings, source=source,
                                                                  num_clusters=source_clusters, seed=seed)
        if source_probs is None:  # no source head: NCE/LEEP are undefined, not silently replaced
            named = (
                DEFAULT_SOURCE_METRICS if wanted_metrics is None else [m for m in wanted_metrics if m in SOURCE_METRICS]
            )
            extra.update({name: float("nan") for name in named})
            wanted_metrics = None if wanted_metrics is None else [m for m in wanted_metrics if m not in SOURCE_METRICS]
    resolved = resolve_device(device)  # CUDA when available: the metric core runs there too
    on = str(resolved) if resolved.type == "cuda" else None
    scores = score_target(features, labels, embeddings.task_kind, metrics=wanted_metrics, source_probs=source_probs,
                          device=on) if wanted_metrics != [] else {}
    if pool:
        extra.update(pool_component_columns(features, labels, pool, device=on))
    out = {**scores, **extra, "n": int(features.shape[0]), "d": int(features.shape[1])}
    if embeddings.task_kind in ("binary", "multiclass"):
        from gtransfer.data.class_subsets import describe_labels

        out["num_classes"] = int(np.unique(labels).size)
        out["imbalance_ratio"] = float(describe_labels(labels).imbalance_ratio)
    return out


def best_of(call: Callable[[], float], repeats: int) -> tuple[float, float]:
    """``(best wall seconds, value)`` of ``call`` over ``repeats`` runs (at least one): the minimum is
    the usual estimate of a function's cost, the others having waited on something else."""
    best, value = float("inf"), float("nan")
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        value = call()
        best = min(best, time.perf_counter() - start)
    return best, value


def _one_metric(features: np.ndarray, labels: np.ndarray, probs: np.ndarray | None, name: str) -> float:
    """One metric alone, what :func:`time_metrics` times (nothing else inside the timed call); a pool-relative
    metric's cost per model is its components (combining a pool's is a few min-max normalisations)."""
    from gtransfer.metrics.registry import POOL_METRIC_SPECS

    if name in POOL_METRIC_SPECS:
        return float(sum(POOL_METRIC_SPECS[name].components(features, labels).values()))
    return score_all(features, labels, source_probs=probs, metrics=[name])[name]


def time_metrics(
    encoder: str | EncoderSpec,
    target: str,
    *,
    metrics: Sequence[str] | None = None,
    train_samples: int | None = None,
    repeats: int = 3,
    max_samples: int | None = None,
    sample_seed: int = 0,
    cache: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
    device: str | None = None,
) -> dict:
    """Wall time of each metric alone on a target's real (cached) training embeddings, best of ``repeats``.

    ``metrics`` defaults to the feature metrics and, when the encoder has a source head, NCE and LEEP on
    the head's probabilities, computed once and not timed (the metric is timed, not the source model's
    forward pass). Each metric runs alone through :func:`gtransfer.metrics.score_all`, so a metric that
    shares statistics with others in a full scoring pays for them here. Float64 features, the CPU.

    Returns:
        ``seconds_<metric>`` for each metric, ``n``, ``d``, ``num_classes``; a metric that refuses the
        input (N-LEEP on too few samples) gets NaN seconds and its reason under ``skipped_<metric>``.

    Raises:
        ValueError: a target without class labels; NCE/LEEP asked of an encoder without a source head.
    """
    from gtransfer.metrics.registry import DEFAULT_SOURCE_METRICS, FEATURE_METRICS, SOURCE_METRICS
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.source_probs import source_probabilities

    spec = resolve_encoder(encoder, root=data_root)
    embeddings = _embeddings(spec, target, max_samples=max_samples, sample_seed=sample_seed, cache=cache,
                             data_root=data_root, device=device, train_samples=train_samples)
    if embeddings.task_kind not in ("binary", "multiclass"):
        raise ValueError(f"graph_metric_timing needs class labels; {target} is a {embeddings.task_kind} target")
    features, labels = embeddings.part("train")
    features = features.astype(np.float64)
    probs = None
    if spec.source_head is not None:
        probs = source_probabilities(spec, features, embeddings.dataset_name, embeddings.node_input).probs
    names = list(metrics or ()) or [*FEATURE_METRICS, *(DEFAULT_SOURCE_METRICS if probs is not None else ())]
    out: dict = {"n": int(features.shape[0]), "d": int(features.shape[1]), "num_classes": int(np.unique(labels).size)}
    for name in names:
        if name in SOURCE_METRICS and probs is None:
            raise ValueError(f"graph_metric_timing: {name} needs a source head, and {spec.text} has none; "
                             "leave it out of metrics")
        try:
            seconds, _ = best_of(partial(_one_metric, features, labels, probs, name), int(repeats))
        except ValueError as exc:  # e.g. N-LEEP's mixture on too few samples: recorded, not timed
            out[f"seconds_{name}"], out[f"skipped_{name}"] = float("nan"), str(exc)
            continue
        out[f"seconds_{name}"] = seconds
    return out


def probe_encoder(
    encoder: str | EncoderSpec,
    target: str,
    *,
    l2: float = 1.0,
    max_iter: int = 500,
    max_samples: int | None = None,
    sample_seed: int = 0,
    cache: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
    device: str | None = None,
) -> dict:
    """Logistic regression on frozen, standardised embeddings, train split -> test split; ridge regression
    for a regression target (``test_rmse``, ``test_mae``: lower is better).

    Args:
        l2: inverse regularisation C (ridge's alpha = 1 / C).
        max_iter: iterations of the logistic fit.

    Raises:
        ValueError: a multi-task target (probe one task, or fine-tune).
    """
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.training.probe import fit_logistic_probe, fit_ridge_probe
    from gtransfer.training.task_metrics import classification_metrics, mae, rmse

    spec = resolve_encoder(encoder, root=data_root)
    embeddings = _embeddings(spec, target, max_samples=max_samples, sample_seed=sample_seed, cache=cache,
                             data_root=data_root, device=device)
    x_train, y_train = embeddings.part("train")
    x_test, y_test = embeddings.part("test")
    if embeddings.task_kind == "regression":
        predictions = fit_ridge_probe(x_train, y_train, C=float(l2)).predict(x_test)
        return {"test_rmse": rmse(y_test, predictions), "test_mae": mae(y_test, predictions),
                "n_train": int(len(y_train)), "n_test": int(len(y_test))}
    if embeddings.task_kind not in ("binary", "multiclass"):
        raise ValueError(f"graph_probe needs class labels or a regression target; {target} is a "
                         f"{embeddings.task_kind} target (probe one task, e.g. {target}:0, or use graph_finetune)")
    model = fit_logistic_probe(x_train, y_train, C=float(l2), max_iter=int(max_iter))
    probs = model.predict_proba(x_test)
    full = np.zeros((len(y_test), int(max(y_train.max(), y_test.max())) + 1))
    full[:, model.classes_] = probs
    scores = full[:, 1] if full.shape[1] == 2 else full
    return {**classification_metrics(y_test, full.argmax(axis=1), scores, y_train), "n_train": int(len(y_train)),
            "n_test": int(len(y_test))}
