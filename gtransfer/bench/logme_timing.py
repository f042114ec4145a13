"""Claim (c)'s two comparators: H_alpha against the project's LogME and against LogME as published.

    python -m gtransfer.bench claims-timing [--d 256 512 1024 2048] [--n-multiple 2] [--classes 10] [--repeat 2]

Ibrahim et al. (ECML-PKDD 2022) report H_alpha 3-10x faster than LogME. gtransfer's LogME
(:func:`gtransfer.metrics.logme`) never forms the eigenvectors (a tridiagonal reduction projects only the label
columns), so against it the ratio is small; the published algorithm (:func:`gtransfer.metrics.textbook.textbook_logme`)
forms the (d, d) eigenvectors and the (n, d) left singular vectors and runs each class's fixed point on its own.
Each case times all three on the same float64 features, n = ``n_multiple`` x d, best of ``repeat`` calls, BLAS on
one thread for all three (as the studies' timing kinds), and prints each LogME's time over H_alpha's from the same run.
"""

from __future__ import annotations

import numpy as np

from gtransfer import metrics
from gtransfer.bench.metrics import best_time, make_features
from gtransfer.metrics.textbook import textbook_logme

__all__ = ["run_claims_timing", "print_claims_timing"]

DIMENSIONS = (256, 512, 1024, 2048)


def run_claims_timing(*, dimensions: tuple[int, ...] = DIMENSIONS, n_multiple: float = 2.0, classes: int = 10,
                      repeat: int = 2, seed: int = 0, progress: bool = True) -> list[dict]:
    """One row per d: seconds of H_alpha, the project's LogME and the published-algorithm LogME, and the ratios."""
    from threadpoolctl import threadpool_limits

    if n_multiple <= 0 or classes < 2 or repeat < 1:
        raise ValueError(
            f"claims-timing: need n_multiple > 0, classes >= 2, repeat >= 1; got {n_multiple}, {classes}, {repeat}"
        )
    rows = []
    with threadpool_limits(1):
        made = make_features(64, 16, classes, seed=seed)  # first calls pay imports and caches: not timed
        for fn in (metrics.shrinkage_h_score, metrics.logme, textbook_logme):
            fn(np.asarray(made[0]), np.asarray(made[1]))
        for d in dimensions:
            n = int(round(n_multiple * d))
            made = make_features(n, d, classes, seed=seed)
            features, labels = np.asarray(made[0]), np.asarray(made[1])  # numpy on the CPU
            h_alpha, logme, published = (best_time(lambda fn=fn: fn(features, labels), repeat)  # noqa: B023 (called at once)
                                         for fn in (metrics.shrinkage_h_score, metrics.logme, textbook_logme))
            row = {"n": n, "d": d, "classes": classes, "h_alpha_seconds": h_alpha, "logme_seconds": logme,
                   "published_logme_seconds": published, "logme_over_h_alpha": logme / h_alpha,
                   "published_logme_over_h_alpha": published / h_alpha}
            rows.append(row)
            if progress:
                print(_line(row), flush=True)
    return rows


def _line(row: dict) -> str:
    return (
        f"n={row['n']:6d} d={row['d']:5d} C={row['classes']:3d}  H_alpha {row['h_alpha_seconds']:8.3f} s  "
        f"LogME (gtransfer) {row['logme_seconds']:8.3f} s = {row['logme_over_h_alpha']:5.2f}x  "
        f"LogME (published algorithm) {row['published_logme_seconds']:8.3f} s = "
        f"{row['published_logme_over_h_alpha']:5.2f}x"
    )


def print_claims_timing(rows: list[dict]) -> None:
    """The rows as one table: seconds and each LogME's time over H_alpha's (same run)."""
    print("claim (c): time over H_alpha's, same features, same run, BLAS on one thread")
    print(f"  {'n':>6s} {'d':>5s} {'H_alpha s':>10s} {'LogME s':>9s} {'ratio':>6s} {'published s':>12s} {'ratio':>6s}")
    for row in rows:
        print(
            f"  {row['n']:6d} {row['d']:5d} {row['h_alpha_seconds']:10.3f} {row['logme_seconds']:9.3f} "
            f"{row['logme_over_h_alpha']:5.2f}x {row['published_logme_seconds']:12.3f} "
            f"{row['published_logme_over_h_alpha']:5.2f}x"
        )
