"""Transferability metrics of one target's embeddings, for every kind of target (``gtransfer rank``, the
``graph_score`` trials).

* binary and multi-class targets: :func:`gtransfer.metrics.score_all` on the class labels;
* regression targets (ESOL, FreeSolv, Lipophilicity): only metrics with a regression form apply --
  LogME (:func:`gtransfer.metrics.logme_regression`, on the raw target values); asking for another one
  is refused with a one-line reason (they need class labels: H-score and GBC class means, NCE/LEEP a
  joint distribution with the target classes, TransRate a coding rate per class);
* multi-task targets (Tox21, ToxCast, SIDER, MUV, ClinTox as a whole): every task scored on the
  molecules labelled for it, the value reported is the mean over the tasks that have both classes
  among them (``tasks_scored``; the others are counted in ``tasks_skipped``); LogME's is
  :func:`gtransfer.metrics.logme_multilabel`, the stated multi-label form (the same mean). A metric refused on
  some task (N-LEEP on a task with few labels) has no mean: it is left out, its reason in ``refused``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["score_target", "REGRESSION_METRICS", "metric_applies"]

#: metrics with a regression form, and the function computing it
REGRESSION_METRICS = ("logme",)


def metric_applies(metric: str, task_kind: str) -> str | None:
    """None when ``metric`` can score a target of ``task_kind``, else a one-line reason why not."""
    if task_kind == "regression" and metric not in REGRESSION_METRICS:
        return (f"{metric} does not apply to a regression target: it needs class labels; "
                f"metrics with a regression form: {', '.join(REGRESSION_METRICS)}")
    return None


def score_target(
    features: np.ndarray,
    labels: np.ndarray,
    task_kind: str,
    *,
    metrics: Sequence[str] | None = None,
    source_probs: Callable[[np.ndarray], np.ndarray] | None = None,
    device: str | None = None,
) -> dict[str, float]:
    """Metric values of one target's embeddings.

    Args:
        features: (n, d) embeddings. labels: as :class:`gtransfer.embeddings.targets.TargetEmbeddings` gives
            them for ``task_kind`` (int (n,); float (n, T) with NaN; float (n,) or (n, T)).
        metrics: names (default: every feature metric, plus the source metrics when ``source_probs`` is
            given; for regression every metric with a regression form).
        source_probs: maps the (rows of the) features to source probabilities (n, Z), for NCE and LEEP.
        device: torch device :func:`gtransfer.metrics.score_all` computes on (default: the CPU).

    Returns:
        {metric: value} plus ``label_entropy`` for class labels, ``tasks_scored`` and ``tasks_skipped`` for
        multi-task targets; for class labels a :class:`gtransfer.metrics.registry.Scores` whose ``refused``
        maps each metric that could not score (on any task) to the reason.

    Raises:
        ValueError: a metric that does not apply to the kind of target (one line naming it and what does);
            a multi-task target none of whose tasks has both classes.
    """
    from gtransfer.metrics import logme_regression, score_all
    from gtransfer.metrics.registry import DEFAULT_SOURCE_METRICS, FEATURE_METRICS

    features = np.asarray(features, dtype=np.float64)
    if task_kind == "regression":
        names = list(metrics) if metrics is not None else list(REGRESSION_METRICS)
        for name in names:
            reason = metric_applies(name, task_kind)
            if reason is not None:
                raise ValueError(reason)
        return {"logme": logme_regression(features, labels)}
    if task_kind in ("binary", "multiclass"):
        probs = source_probs(features) if source_probs is not None else None
        return score_all(features, labels, source_probs=probs, metrics=metrics, device=device)
    if task_kind != "multitask":
        raise ValueError(f"unknown task kind {task_kind!r}; one of binary, multiclass, multitask, regression")
    labels = np.asarray(labels, dtype=np.float64)
    if metrics is None:
        metrics = [*FEATURE_METRICS, *(DEFAULT_SOURCE_METRICS if source_probs is not None else ())]
    # LogME scores each task on its labelled rows, so its mean is logme_multilabel's stated form (tested equal)
    per_task: list[dict[str, float]] = []
    skipped = 0
    for column in range(labels.shape[1]):
        rows = ~np.isnan(labels[:, column])
        y = labels[rows, column].astype(np.int64)
        if y.size == 0 or y.min() == y.max():
            skipped += 1
            continue
        probs = source_probs(features[rows]) if source_probs is not None else None
        per_task.append(score_all(features[rows], y, source_probs=probs, metrics=metrics, device=device))
    if not per_task:
        raise ValueError(
            f"none of the {labels.shape[1]} tasks has both classes among its labelled samples; nothing to score"
        )
    from gtransfer.metrics.registry import Scores

    # a metric averages only where every task scored it; a refusal on any task is carried with its count
    common = [name for name in per_task[0] if all(name in scores for scores in per_task)]
    refused: dict[str, str] = {}
    for name in dict.fromkeys(name for scores in per_task for name in scores.refused):
        tasks = [k for k, scores in enumerate(per_task) if name in scores.refused]
        first = per_task[tasks[0]].refused[name]
        refused[name] = f"refused on {len(tasks)} of {len(per_task)} scored tasks (the first: {first})"
    means = {name: float(np.mean([scores[name] for scores in per_task])) for name in common}
    out = Scores(means, refused=refused)
    out.update(tasks_scored=len(per_task), tasks_skipped=skipped)
    return out
