"""Rank encoders for one target by a transferability metric (``gtransfer rank``)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["rank_encoders"]


def rank_encoders(
    target: str,
    encoders: Sequence[str],
    metric: str | None = None,
    data_root: str | os.PathLike | None = None,
    max_samples: int | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Score each encoder on the target's training split and rank them, best first.

    ``metric`` defaults to ``shrinkage_h_score``, and to ``logme`` (its regression form) on a regression
    target. On a multi-task target (``ogbg-moltox21``) every task is scored on its labelled molecules and
    the mean over tasks ranks the encoders (:func:`gtransfer.selection.task_scores.score_target`).

    Returns:
        a frame with ``rank``, ``encoder``, ``metric`` value, ``n``, ``d`` (and ``tasks_scored`` for a
        multi-task target).

    Raises:
        ValueError: unknown metric (names the known ones), a metric that does not apply to the target
            (one line: a classification metric on a regression target), or no encoders.
        FileNotFoundError: an encoder file or the target's data is missing.
    """
    from tqdm.auto import tqdm

    from gtransfer.embeddings.targets import target_embeddings
    from gtransfer.metrics import METRICS
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.source_probs import cluster_source_probs
    from gtransfer.selection.task_scores import metric_applies, score_target

    if metric is not None and metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRICS)}")
    if not encoders:
        raise ValueError("give at least one encoder")
    specs = [resolve_encoder(encoder, data_root) for encoder in encoders]  # fail before any slow work
    rows = []
    for spec in tqdm(specs, desc=f"rank on {target}", unit="encoder", disable=not progress):
        embeddings = target_embeddings(spec, target, max_samples=max_samples, cache=cache, root=data_root)
        if metric is None:
            metric = "logme" if embeddings.task_kind == "regression" else "shrinkage_h_score"
        reason = metric_applies(metric, embeddings.task_kind)
        if reason is not None:
            raise ValueError(f"target {target}: {reason}")
        features, labels = embeddings.part("train")
        features = features.astype(np.float64)
        needs_source = metric in ("nce", "leep", "nce_normalized", "leep_normalized")
        scores = score_target(features, labels, embeddings.task_kind, metrics=[metric],
                              source_probs=cluster_source_probs if needs_source else None)
        row = {"encoder": spec.name, metric: float(scores[metric]), "n": features.shape[0], "d": features.shape[1]}
        if "tasks_scored" in scores:
            row["tasks_scored"] = int(scores["tasks_scored"])
        rows.append(row)
    frame = pd.DataFrame(rows).sort_values(metric, ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame
