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
    metric: str = "shrinkage_h_score",
    data_root: str | os.PathLike | None = None,
    max_samples: int | None = None,
    cache: str | os.PathLike | None = None,
    progress: bool = True,
    source: str = "head",
) -> pd.DataFrame:
    """Score each encoder on the target's training split and rank them, best first.

    Args:
        source: for NCE/LEEP and their corrections, where the source probabilities come from:
            ``"head"`` (the encoder's source head; NaN for an encoder without one) or
            ``"kmeans-stand-in"`` (:mod:`gtransfer.selection.source_probs`).

    Returns:
        a frame with ``rank``, ``encoder``, ``metric`` value, ``n``, ``d`` and, for NCE/LEEP,
        ``source`` (what each value was computed from). Encoders with a NaN value rank last.

    Raises:
        ValueError: unknown metric (names the known ones) or no encoders.
        FileNotFoundError: an encoder file or the target's data is missing.
    """
    from tqdm.auto import tqdm

    from gtransfer.embeddings.targets import target_embeddings
    from gtransfer.metrics import METRICS
    from gtransfer.metrics.registry import SOURCE_METRICS
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.source_probs import SOURCES, source_probabilities

    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRICS)}")
    if not encoders:
        raise ValueError("give at least one encoder")
    if source not in SOURCES:
        raise ValueError(f"unknown NCE/LEEP source {source!r}; choose one of {', '.join(SOURCES)}")
    specs = [resolve_encoder(encoder, data_root) for encoder in encoders]  # fail before any slow work
    rows = []
    for spec in tqdm(specs, desc=f"rank on {target}", unit="encoder", disable=not progress):
        embeddings = target_embeddings(spec, target, max_samples=max_samples, cache=cache, root=data_root)
        features, labels = embeddings.part("train")
        features = features.astype(np.float64)
        row = {"encoder": spec.name}
        if metric in SOURCE_METRICS:
            probs = source_probabilities(spec, features, embeddings.dataset_name, embeddings.node_input, source=source)
            value = float("nan") if probs.probs is None else METRICS[metric](probs.probs, labels)
            row["source"] = probs.source
        else:
            value = METRICS[metric](features, labels)
        rows.append({**row, metric: float(value), "n": features.shape[0], "d": features.shape[1]})
    frame = pd.DataFrame(rows).sort_values(metric, ascending=False, kind="stable", na_position="last").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame
