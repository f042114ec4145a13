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
    device: str | None = None,
) -> pd.DataFrame:
    """Score each encoder on the target's training split and rank them, best first.

    ``device`` (e.g. "cuda") computes the covariance-based metrics there (see ``score_all``).

    Returns:
        a frame with ``rank``, ``encoder``, ``metric`` value, ``n``, ``d``.

    Raises:
        ValueError: unknown metric (names the known ones) or no encoders.
        FileNotFoundError: an encoder file or the target's data is missing.
    """
    from tqdm.auto import tqdm

    from gtransfer.embeddings.targets import target_embeddings
    from gtransfer.metrics import METRICS, score_all
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.selection.source_probs import cluster_source_probs

    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; choose one of {sorted(METRICS)}")
    if not encoders:
        raise ValueError("give at least one encoder")
    specs = [resolve_encoder(encoder, data_root) for encoder in encoders]  # fail before any slow work
    rows = []
    for spec in tqdm(specs, desc=f"rank on {target}", unit="encoder", disable=not progress):
        features, labels = target_embeddings(spec, target, max_samples=max_samples, cache=cache, root=data_root).part("train")
        features = features.astype(np.float64)
        if metric in ("nce", "leep", "nce_normalized", "leep_normalized"):
            value = METRICS[metric](cluster_source_probs(features), labels)
        else:
            value = score_all(features, labels, metrics=[metric], device=device)[metric]
        rows.append({"encoder": spec.name, metric: float(value), "n": features.shape[0], "d": features.shape[1]})
    frame = pd.DataFrame(rows).sort_values(metric, ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame
