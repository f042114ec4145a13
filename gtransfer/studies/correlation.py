"""How well a metric's scores rank candidates: correlations with bootstrap intervals over candidates.

The correlation and selection functions come from ``gtransfer.evaluation`` (the project's one
definition); until that module is importable the same quantities are taken from ``scipy.stats``
(Pearson, Spearman, Kendall tau-b, weighted Kendall tau with hyperbolic weights) and defined below
(top-1 relative accuracy = truth of the top-scored candidate / best truth; regret = best truth - truth
of the top-scored candidate).
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np

__all__ = ["selection_measures", "bootstrap_interval", "MEASURES"]

MEASURES = ("pearson", "spearman", "kendall", "weighted_kendall", "top1_relative_accuracy", "regret")

Measure = Callable[[np.ndarray, np.ndarray], float]


def _scipy_measures() -> dict[str, Measure]:
    from scipy import stats

    def top1(scores: np.ndarray, truth: np.ndarray) -> float:
        return float(truth[int(np.argmax(scores))] / np.max(truth))

    def regret(scores: np.ndarray, truth: np.ndarray) -> float:
        return float(np.max(truth) - truth[int(np.argmax(scores))])

    return {
        "pearson": lambda s, t: float(stats.pearsonr(s, t)[0]),
        "spearman": lambda s, t: float(stats.spearmanr(s, t)[0]),
        "kendall": lambda s, t: float(stats.kendalltau(s, t)[0]),
        "weighted_kendall": lambda s, t: float(stats.weightedtau(s, t)[0]),
        "top1_relative_accuracy": top1,
        "regret": regret,
    }


def selection_measures() -> dict[str, Measure]:
    """Measure name -> ``fn(scores, truth) -> float`` (``gtransfer.evaluation`` where available)."""
    try:
        from gtransfer import evaluation
    except ImportError:
        return _scipy_measures()
    fallback = _scipy_measures()
    return {name: getattr(evaluation, name, fallback[name]) for name in MEASURES}


def _quiet(fn: Measure, scores: np.ndarray, truth: np.ndarray) -> float:
    # constant resamples make correlations undefined; they are counted, not warned about one by one
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            try:
                return float(fn(scores, truth))
            except (ValueError, ZeroDivisionError, FloatingPointError):
                return float("nan")


def bootstrap_interval(
    fn: Measure, scores, truth, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """``(estimate, low, high)``: ``fn`` on the data and a percentile bootstrap interval over candidates.

    Resamples of candidates with replacement in which ``fn`` is undefined (constant scores or truth)
    are left out of the percentiles; the interval is NaN when more than half of them are.
    """
    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if scores.shape != truth.shape or scores.ndim != 1:
        raise ValueError(f"scores and truth must be 1-D of one length, got {scores.shape} and {truth.shape}")
    if scores.size < 2:
        raise ValueError("need at least 2 candidates to correlate scores with truth")
    estimate = _quiet(fn, scores, truth)
    rng = np.random.default_rng(seed)
    samples = np.empty(n_boot)
    for b in range(n_boot):
        index = rng.integers(0, scores.size, scores.size)
        samples[b] = _quiet(fn, scores[index], truth[index])
    valid = samples[np.isfinite(samples)]
    if valid.size < n_boot / 2:
        return estimate, float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(valid, [tail, 100.0 - tail])
    return estimate, float(low), float(high)
