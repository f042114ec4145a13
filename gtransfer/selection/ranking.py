"""Rank encoders for one target by transferability metrics (``gtransfer rank``)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["rank_encoders"]


def rank_encoders(
    target: str,
    encoders: Sequence[str],
    *,
    metrics: Sequence[str] | str | None = None,
    data_root: str | os.PathLike | None = None,
    max_samples: int | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
    source: str = "head",
    device: str | None = None,
) -> pd.DataFrame:
    """Score each encoder on the target's training split and rank them by the first metric, best first.

    Each encoder's target is embedded once and every metric computed from that embedding
    (:func:`gtransfer.metrics.score_all`, sharing their statistics). With ``shrinkage_h_score`` among
    the metrics, the frame also shows its Ledoit-Wolf ``alpha`` and the plain ``h_score``, so a
    small H_alpha can be read: alpha near 1 shrinks the between-class term away.

    An encoder that cannot read the target's nodes (a molecule encoder on MUTAG's float features) is
    left out with a warning naming the reason; ``frame.attrs["skipped"]`` maps it to the reason. A metric
    that cannot score an encoder's embeddings (N-LEEP on too few samples) is NaN in its row, and
    ``frame.attrs["refused"]`` maps the encoder to ``{metric: reason}``.

    Args:
        source: for NCE/LEEP and their corrections, where the source probabilities come from:
            ``"head"`` (the encoder's source head; NaN for an encoder without one) or
            ``"kmeans-stand-in"`` (:mod:`gtransfer.selection.source_probs`).
        device: torch device the metrics are computed on (e.g. ``"cuda"``; default: the CPU).

    ``metric`` defaults to ``shrinkage_h_score``, and to ``logme`` (its regression form) on a regression
    target. On a multi-task target (``ogbg-moltox21``) every task is scored on its labelled molecules and
    the mean over tasks ranks the encoders (:func:`gtransfer.selection.task_scores.score_target`).

    ``device`` (e.g. "cuda") computes the covariance-based metrics there (see ``score_all``).

    Pool-relative metrics (``ncti``, ``etran``: :data:`gtransfer.metrics.POOL_METRICS`) are computed from the
    embeddings each encoder already has: their per-encoder components in the loop, combined over every
    encoder ranked (min-max over this pool, per task then the mean over tasks) once all are in. Their values
    change when the set of encoders changes; they need at least two encoders and the same target rows.

    Returns:
        a frame with ``rank``, ``encoder``, one column per metric (``alpha`` and ``h_score`` after
        ``shrinkage_h_score`` on a classification target), ``n``, ``d``, ``tasks_scored`` for a
        multi-task target (each task scored, the mean reported) and, with NCE/LEEP among the metrics,
        ``source`` (what their values were computed from). Encoders with a NaN value of the first
        metric rank last. Default metrics: ``shrinkage_h_score``, or ``logme`` (its regression form)
        on a regression target.

    Raises:
        ValueError: unknown metric (names the known ones), a metric that does not apply to the target
            (one line: a classification metric on a regression target), no encoders, or no encoder
            fits the target.
        FileNotFoundError: an encoder file or the target's data is missing.
    """
    from tqdm.auto import tqdm

    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.targets import parse_target
    from gtransfer.embeddings.targets import target_embeddings
    from gtransfer.metrics import METRICS, ledoit_wolf_shrinkage
    from gtransfer.metrics.registry import POOL_METRIC_SPECS, SOURCE_METRICS
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.scoring import source_probs_for
    from gtransfer.selection.source_probs import SOURCES
    from gtransfer.selection.task_scores import metric_applies, score_target

    if isinstance(metrics, str):
        metrics = [metrics]
    unknown = [m for m in metrics or () if m not in METRICS and m not in POOL_METRIC_SPECS]
    if unknown or (metrics is not None and not metrics):
        raise ValueError(
            f"unknown metric(s) {unknown or metrics}; choose from "
            f"{', '.join(sorted(METRICS) + sorted(POOL_METRIC_SPECS))}"
        )
    if not encoders:
        raise ValueError("give at least one encoder")
    if source not in SOURCES:
        raise ValueError(f"unknown NCE/LEEP source {source!r}; choose one of {', '.join(SOURCES)}")
    kind = dataset_kind(parse_target(target)[0])  # a bad target string fails here, before any slow work
    specs = [resolve_encoder(encoder, root=data_root) for encoder in encoders]
    rows, skipped, refused = [], {}, {}
    pool_parts: dict[str, dict] = {}  # pool-relative metrics: per-encoder components, combined once all are in
    for spec in tqdm(specs, desc=f"rank on {target}", unit="encoder", disable=not progress, dynamic_ncols=True):
        problem = spec.fit_problem(target, kind)
        if problem is not None:
            skipped[spec.name] = problem
            continue
        try:
            embeddings = target_embeddings(spec, target, max_samples=max_samples, cache=cache, root=data_root)
        except (ValueError, RuntimeError) as exc:  # e.g. a float-feature encoder of another width
            skipped[spec.name] = f"{spec.name} cannot embed {target}: {type(exc).__name__}: {exc}"
            continue
        if metrics is None:
            metrics = ["logme" if embeddings.task_kind == "regression" else "shrinkage_h_score"]
        for metric in metrics:
            reason = metric_applies(metric, embeddings.task_kind)
            if reason is not None:
                raise ValueError(f"target {target}: {reason}")
        features, labels = embeddings.part("train")
        features = features.astype(np.float64)
        row = {"encoder": spec.name}
        head_probs = None
        if any(m in SOURCE_METRICS for m in metrics):
            row["source"], head_probs = source_probs_for(spec, features, embeddings, source=source)
        computable = [
            m for m in metrics if (head_probs is not None or m not in SOURCE_METRICS) and m not in POOL_METRIC_SPECS
        ]
        if any(m in POOL_METRIC_SPECS for m in metrics):
            pool_parts[spec.name] = _pool_components(
                features, labels, embeddings.task_kind, metrics, device, pool_parts
            )
        scores = score_target(features, labels, embeddings.task_kind, metrics=computable, source_probs=head_probs,
                              device=device) if computable else {}
        if getattr(scores, "refused", None):  # a metric that cannot score these data: NaN, its reason kept
            refused[spec.name] = dict(scores.refused)
        scores = {**{m: float("nan") for m in metrics}, **scores}  # NCE/LEEP without a source head: NaN
        for metric in metrics:
            row[metric] = float(scores[metric])
            if metric == "shrinkage_h_score" and embeddings.task_kind in ("binary", "multiclass"):
                row["alpha"] = float(ledoit_wolf_shrinkage(features))
                row["h_score"] = (
                    float(scores["h_score"]) if "h_score" in scores else float(METRICS["h_score"](features, labels))
                )
        tasks = {"tasks_scored": int(scores["tasks_scored"])} if "tasks_scored" in scores else {}
        rows.append({**row, "n": features.shape[0], "d": features.shape[1], **tasks})
    for name, reason in skipped.items():
        warnings.warn(f"skipped encoder {name}: {reason}", stacklevel=2)
    if not rows:
        reasons = sorted(set(skipped.values()))
        raise ValueError(f"no encoder can be ranked on {target}:\n" + "\n".join(f"  {reason}" for reason in reasons))
    if pool_parts:
        _fill_pool_scores(rows, pool_parts, target)
    frame = (
        pd.DataFrame(rows)
        .sort_values(metrics[0], ascending=False, kind="stable", na_position="last")
        .reset_index(drop=True)
    )
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    frame.attrs["skipped"] = skipped
    frame.attrs["refused"] = refused
    return frame


def _pool_components(
    features: np.ndarray, labels: np.ndarray, task_kind: str, metrics: Sequence[str], device: str | None, earlier: dict
) -> dict:
    """{"labels": the rows' labels, metric: {task: per-model components}} of one encoder, for the pool-relative
    metrics among ``metrics`` (task None for class labels; each task with both classes for a multi-task
    target, as :func:`gtransfer.selection.task_scores.score_target` scores them)."""
    from gtransfer.metrics.registry import POOL_METRIC_SPECS

    first = next(iter(earlier.values()), None)
    if first is not None and not np.array_equal(first["labels"], labels, equal_nan=True):
        raise ValueError(
            "pool-relative metrics compare encoders on the same samples, but the encoders' target rows differ; "
            "rank them without ncti/etran, or with the same --max-samples and data"
        )
    if task_kind == "multitask":
        tasks = {}
        for column in range(labels.shape[1]):
            rows = ~np.isnan(labels[:, column])
            y = labels[rows, column].astype(np.int64)
            if y.size and y.min() != y.max():
                tasks[column] = (features[rows], y)
    else:
        tasks = {None: (features, labels)}
    out: dict = {"labels": labels}
    for name in (m for m in metrics if m in POOL_METRIC_SPECS):
        out[name] = {task: POOL_METRIC_SPECS[name].components(x, y, device=device) for task, (x, y) in tasks.items()}
    return out


def _fill_pool_scores(rows: list[dict], pool_parts: dict, target: str) -> None:
    """Each pool-relative metric's value in ``rows``: its components combined over every ranked encoder (per task,
    then the mean over tasks)."""
    from gtransfer.metrics.registry import POOL_METRIC_SPECS

    if len(pool_parts) < 2:
        names = sorted(name for name in next(iter(pool_parts.values())) if name != "labels")
        raise ValueError(
            f"pool-relative metrics ({', '.join(names)}: each encoder is scored against the others) need at least "
            f"two encoders that can be ranked on {target}, got {len(pool_parts)}"
        )
    for name in (name for name in next(iter(pool_parts.values())) if name != "labels"):
        tasks = next(iter(pool_parts.values()))[name]
        per_task = [
            POOL_METRIC_SPECS[name].combine({encoder: parts[name][task] for encoder, parts in pool_parts.items()})
            for task in tasks
        ]
        for row in rows:
            row[name] = float(np.mean([scores[row["encoder"]] for scores in per_task]))
