"""Deciding a paper's claims from study reports: differences with intervals, and a verdict rule.

The reports (:mod:`gtransfer.studies.report`) give each metric's correlation with the ground truth
per group (a target in source selection, a family of targets in target selection). A claim compares
two such numbers, so everything here is paired: per group the difference of two metrics' Spearman
correlations, its mean over groups and a 95% percentile-bootstrap interval over groups
(:func:`mean_interval`). A metric that gives every candidate the same score (H-score saturating at
C - 1 when n <= d) ranks nothing: the report leaves its correlation NaN, and a claim counts it as 0,
the expected correlation of a ranking that carries no information (``nan_as_zero``).

Verdict rule (:func:`verdict`): a claim "the difference is above ``margin``" is *reproduced* when
the whole interval is above the margin, *contradicted* when the whole interval is below it, and
*inconclusive* otherwise -- so no claim is called reproduced on an interval that includes the opposite.

Target selection has few families, so its intervals resample the targets *within* each family
(:func:`within_family_spearman`): each resample keeps every family and its size, draws its targets
with replacement, and averages the families' Spearman correlations.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["Interval", "mean_interval", "paired_differences", "verdict", "within_family_spearman", "geometric_mean_interval"]


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% bootstrap interval, over ``count`` units (groups, targets, pairs)."""

    estimate: float
    low: float
    high: float
    count: int

    def __str__(self) -> str:
        return f"{self.estimate:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"

    def plain(self, digits: int = 2) -> str:
        """Unsigned, ``digits`` decimals: ``3.10 [2.80, 3.40]``."""
        return f"{self.estimate:.{digits}f} [{self.low:.{digits}f}, {self.high:.{digits}f}]"


def mean_interval(values: npt.ArrayLike, n_boot: int = 10000, seed: int = 0, level: float = 0.95) -> Interval:
    """Mean of the finite ``values`` and its percentile-bootstrap interval (resampling the values).

    Raises:
        ValueError: no finite value.
    """
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ValueError("mean_interval: no finite value to average")
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, values.size, (n_boot, values.size))].mean(axis=1)
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(means, [tail, 100.0 - tail])
    return Interval(float(values.mean()), float(low), float(high), int(values.size))


def geometric_mean_interval(ratios: npt.ArrayLike, n_boot: int = 10000, seed: int = 0) -> Interval:
    """Geometric mean of positive ``ratios`` (a speed-up) with its interval: :func:`mean_interval` of the logs."""
    ratios = np.asarray(ratios, dtype=np.float64)
    ratios = ratios[np.isfinite(ratios)]
    if np.any(ratios <= 0):
        raise ValueError(f"geometric_mean_interval: ratios must be positive, got min {ratios.min()}")
    logs = mean_interval(np.log(ratios), n_boot=n_boot, seed=seed)
    return Interval(float(np.exp(logs.estimate)), float(np.exp(logs.low)), float(np.exp(logs.high)), logs.count)


def paired_differences(per_group: pd.DataFrame, metric_a: str, metric_b: str, truth: str, measure: str = "spearman",
                       nan_as_zero: bool = True) -> pd.Series:
    """Per group: ``measure`` of ``metric_a`` minus that of ``metric_b``, against ``truth``.

    ``per_group`` is a report's ``correlations_per_group.csv`` (columns group, metric, truth, measure).
    Groups where either metric is missing are left out; NaN correlations count as 0 with ``nan_as_zero``.

    Raises:
        ValueError: a metric or the truth is not in the table (the message lists what is).
    """
    rows = per_group[per_group["truth"] == truth]
    for name in (metric_a, metric_b):
        if name not in set(rows["metric"]):
            raise ValueError(f"paired_differences: no {name!r} against {truth!r}; metrics present: {sorted(set(rows['metric']))}, "
                             f"truths: {sorted(set(per_group['truth']))}")
    both = set(rows.loc[rows["metric"] == metric_a, "group"]) & set(rows.loc[rows["metric"] == metric_b, "group"])
    table = rows[rows["group"].isin(both)].pivot_table(index="group", columns="metric", values=measure, dropna=False)
    pair = table[[metric_a, metric_b]]
    if nan_as_zero:
        pair = pair.fillna(0.0)
    return (pair[metric_a] - pair[metric_b]).dropna()


def verdict(interval: Interval, margin: float = 0.0) -> str:
    """``reproduced`` (the interval lies above ``margin``), ``contradicted`` (below it) or ``inconclusive``."""
    if interval.low > margin:
        return "reproduced"
    if interval.high < margin:
        return "contradicted"
    return "inconclusive"


def _row_spearman(ranks: np.ndarray, a: int, b: int) -> np.ndarray:
    """Spearman of columns ``a`` and ``b`` in each row of ``ranks`` (rows, m, columns); NaN where one is constant."""
    x = ranks[..., a] - ranks[..., a].mean(axis=-1, keepdims=True)
    y = ranks[..., b] - ranks[..., b].mean(axis=-1, keepdims=True)
    denominator = np.sqrt((x * x).sum(-1) * (y * y).sum(-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, (x * y).sum(-1) / denominator, np.nan)


def within_family_spearman(frame: pd.DataFrame, score: str, truth: str, family: str = "family", n_boot: int = 2000,
                           seed: int = 0, minus: str | None = None, minus_truth: str | None = None) -> Interval:
    """Mean over families of Spearman(``score``, ``truth``) within each family, with an interval that
    resamples targets within families; with ``minus`` (and ``minus_truth``, default ``truth``), the
    paired difference Spearman(score, truth) - Spearman(minus, minus_truth) on the same resamples.

    Families with fewer than 3 targets, or a constant column, are left out of a resample's mean.
    """
    columns = [score, truth] + ([minus, minus_truth or truth] if minus else [])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"within_family_spearman: columns {missing} are not in the table; it has {list(frame.columns)}")
    groups = [part[columns].to_numpy(dtype=np.float64) for _, part in frame.groupby(family)]
    groups = [g[np.isfinite(g).all(axis=1)] for g in groups]
    groups = [g for g in groups if len(g) >= 3]
    if not groups:
        raise ValueError(f"within_family_spearman: no family with 3 or more targets scored by {score!r} and {truth!r}")

    from scipy.stats import rankdata

    def statistic(samples: list[np.ndarray]) -> np.ndarray:
        """Per resample (rows of each (rows, m, columns) family sample): the mean over families."""
        values = []
        for sample in samples:
            ranks = rankdata(sample, axis=1)  # average ranks for ties, within each resample
            value = _row_spearman(ranks, 0, 1)
            if minus:
                value = value - _row_spearman(ranks, 2, 3)
            values.append(value)
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a resample where every family is constant: NaN, dropped
            return np.nanmean(np.stack(values), axis=0)

    rng = np.random.default_rng(seed)
    estimate = float(statistic([g[None] for g in groups])[0])
    draws = statistic([g[rng.integers(0, len(g), (n_boot, len(g)))] for g in groups])
    draws = draws[np.isfinite(draws)]
    low, high = np.percentile(draws, [2.5, 97.5])
    return Interval(estimate, float(low), float(high), int(sum(len(g) for g in groups)))
