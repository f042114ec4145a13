"""A hierarchical percentile bootstrap over the units an evaluation's groups come from.

Per-task values (a metric's Spearman with the truth on each target, or a paired difference of two
metrics) are not independent: 27 SIDER tasks share their molecules, and a task's truth may have several
seeds. :func:`hierarchical_bootstrap` resamples the units the way they were drawn: datasets with
replacement, then tasks with replacement within each drawn dataset (as many as it has), then seeds
within each drawn task where values are given per seed. Every interval is an :class:`Interval` that
names its units and their counts, so no table prints an interval without saying what was resampled.

**Few units.** A percentile interval never leaves the range of the values it resamples, so over n outer units
(datasets) it covers the mean at most 1 - 2^(1-n) of the time: 75% at 3 datasets, 87.5% at 4, whatever its nominal
level (measured on 2026-12-07: 79% at 3 datasets, 82% at 4, 88.5% at 6, 94.7% at 50 for a nominal 95%). The default
interval (``method="t"``, :func:`t_calibrated_interval`) is the bootstrap's standard error scaled by Student's t
quantile on n - 1 degrees of freedom and by sqrt(n / (n - 1)) (the bootstrap's variance is the plug-in one, short of
the unbiased one by (n - 1)/n), widened to contain the percentile interval: 95-98% coverage from 3 datasets to 50
(docs/evaluation.md). With one outer unit it is unbounded: one dataset says nothing about the next.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from scipy.stats import t as student_t

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["Interval", "hierarchical_bootstrap", "percentile_interval", "t_calibrated_interval", "INTERVAL_METHODS"]

#: how :func:`hierarchical_bootstrap` turns its resamples into an interval
INTERVAL_METHODS = ("t", "percentile")

#: values drawn per chunk of resamples (bounds memory: 4M float64 = 32 MiB per temporary)
_CHUNK_VALUES = 4_000_000


@dataclass(frozen=True)
class Interval:
    """An estimate with its bootstrap interval and what was resampled.

    ``counts`` lists each resampled level and its count, outermost first (``(("datasets", 6), ("tasks", 44))``);
    ``resamples`` is the number of bootstrap resamples; ``method`` how the interval was formed
    (:data:`INTERVAL_METHODS`: ``"t"``, the t-calibrated interval, or ``"percentile"``).

    Examples:
        >>> print(Interval(0.29, 0.2, 0.37, (("datasets", 6), ("tasks", 44)), 10_000))
        +0.29 [+0.20, +0.37] (6 datasets, 44 tasks, 10,000 resamples)
    """

    estimate: float
    low: float
    high: float
    counts: tuple[tuple[str, int], ...]
    resamples: int
    level: float = 0.95
    method: str = "t"

    def units(self) -> str:
        """``6 datasets, 44 tasks, 10,000 resamples``."""
        return ", ".join([f"{count:,} {name}" for name, count in self.counts] + [f"{self.resamples:,} resamples"])

    def format(self, *, digits: int = 2, signed: bool = True) -> str:
        """``+0.29 [+0.20, +0.37] (6 datasets, 44 tasks, 10,000 resamples)``."""
        sign = "+" if signed else ""
        return (f"{self.estimate:{sign}.{digits}f} [{self.low:{sign}.{digits}f}, {self.high:{sign}.{digits}f}] "
                f"({self.units()})")

    def __str__(self) -> str:
        return self.format()

    def count(self, name: str) -> int:
        """The count of one level (``"datasets"``); KeyError names the levels there are."""
        for level, count in self.counts:
            if level == name:
                return count
        raise KeyError(f"Interval has no level {name!r}; it has {[level for level, _ in self.counts]}")


def percentile_interval(draws: npt.ArrayLike, *, level: float = 0.95) -> tuple[float, float]:
    """The (low, high) percentiles of ``draws`` that hold the central ``level`` of them."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.percentile(np.asarray(draws, dtype=np.float64), [tail, 100.0 - tail])
    return float(low), float(high)


def t_calibrated_interval(draws: npt.ArrayLike, estimate: float, units: int, *,
                          level: float = 0.95) -> tuple[float, float]:
    r"""The interval ``estimate +- t_{n-1} sqrt(n / (n - 1)) SE``, widened to contain the percentile interval.

    .. math::
        \hat\theta \pm t_{n-1,\,(1+\ell)/2} \sqrt{\tfrac{n}{n-1}}\; \mathrm{sd}(\theta^*_1, \dots, \theta^*_B)

    with n the outer units resampled (datasets, or tasks when tasks are the unit) and :math:`\theta^*_b` the
    resampled statistics (``draws``). Student's quantile accounts for estimating the spread from n units, and
    sqrt(n / (n - 1)) for the bootstrap's plug-in variance (it divides by n). A percentile interval of n units stays
    within their range and covers at most 1 - 2^(1-n) of the time (module docstring); this one does not. Unbounded
    (-inf, inf) for n < 2: one unit gives no spread to generalise from.

    Examples:
        >>> draws = np.random.default_rng(0).normal(0.3, 0.05, 2000)
        >>> low, high = t_calibrated_interval(draws, 0.3, 3)
        >>> round(high - 0.3, 2)  # 4.30 x 1.22 x 0.05 (a percentile interval's half-width: 1.96 x 0.05 = 0.10)
        0.26
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    d = np.asarray(draws, dtype=np.float64)
    if units < 2:
        return float("-inf"), float("inf")
    spread = float(d.std(ddof=1)) if d.size >= 2 else 0.0
    half = float(student_t.ppf((1.0 + level) / 2.0, units - 1)) * np.sqrt(units / (units - 1)) * spread
    low, high = percentile_interval(d, level=level)
    return float(min(estimate - half, low)), float(max(estimate + half, high))


def _compact_seeds(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, S) values with each row's finite entries moved to the front, and each row's count of them."""
    finite = np.isfinite(values)
    counts = finite.sum(axis=1)
    order = np.argsort(~finite, axis=1, kind="stable")
    return np.take_along_axis(values, order, axis=1), counts


def hierarchical_bootstrap(
    values: npt.ArrayLike,
    *,
    datasets: Sequence[object] | None = None,
    unit: str = "dataset",
    balance: str = "task",
    n_boot: int = 10_000,
    level: float = 0.95,
    seed: int = 0,
    method: str = "t",
) -> Interval:
    r"""Mean of per-task values and its bootstrap interval, resampling datasets, tasks and seeds.

    With ``unit="dataset"`` each resample draws the datasets with replacement, then within each drawn
    dataset as many tasks as it has, with replacement, then within each drawn task as many seeds as it has,
    with replacement (when ``values`` is 2-D). ``unit="task"`` resamples the tasks as one pool (datasets
    ignored), then seeds. The statistic is

    .. math::
        \hat\theta = \frac{1}{T}\sum_t \bar v_t \;(\text{balance="task"}), \qquad
        \hat\theta = \frac{1}{D}\sum_d \frac{1}{T_d}\sum_{t \in d} \bar v_t \;(\text{balance="dataset"}),

    with :math:`\bar v_t` the mean over the task's seeds: ``"dataset"`` counts each dataset once (27 SIDER
    tasks weigh as much as one BBBP task), ``"task"`` counts each task once. Vectorised over resamples.

    Args:
        values: (T,) one value per task, or (T, S) one per task and seed (NaN where a task has fewer seeds).
        datasets: (T,) the dataset of each task; needed for ``unit="dataset"`` and ``balance="dataset"``.
        unit: ``"dataset"`` or ``"task"``: the outermost level resampled.
        balance: ``"task"`` or ``"dataset"``: the weighting of the statistic (see above).
        n_boot: resamples. level: the interval's coverage. seed: the generator's seed.
        method: ``"t"`` (default), :func:`t_calibrated_interval` over the outer units (datasets with
            ``unit="dataset"``, tasks with ``unit="task"``); ``"percentile"``, the percentiles of the resamples
            alone, which undercover with few units (module docstring).

    Returns:
        An :class:`Interval` whose counts name the levels resampled (datasets when ``unit="dataset"``, tasks, and
        seeds, the most any task has, for 2-D values).

    Raises:
        ValueError: a task with no finite value, ``datasets`` of another length, an unknown ``unit``/``balance``.

    Examples:
        >>> values = [0.1, 0.3, 0.2, 0.6, 0.5]
        >>> result = hierarchical_bootstrap(values, datasets=["a", "a", "a", "b", "b"], n_boot=2000)
        >>> round(result.estimate, 2), result.counts
        (0.34, (('datasets', 2), ('tasks', 5)))
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v[:, None]
    if v.ndim != 2 or v.shape[0] == 0:
        raise ValueError(
            f"hierarchical_bootstrap: values must be (tasks,) or (tasks, seeds) and non-empty, got shape {v.shape}"
        )
    if np.isinf(v).any():
        raise ValueError(
            "hierarchical_bootstrap: values hold inf; give finite values, NaN only for a seed a task lacks"
        )
    if unit not in ("dataset", "task"):
        raise ValueError(f"hierarchical_bootstrap: unit must be 'dataset' or 'task', got {unit!r}")
    if balance not in ("dataset", "task"):
        raise ValueError(f"hierarchical_bootstrap: balance must be 'dataset' or 'task', got {balance!r}")
    if n_boot < 1:
        raise ValueError(f"hierarchical_bootstrap: n_boot must be >= 1, got {n_boot}")
    if method not in INTERVAL_METHODS:
        raise ValueError(f"hierarchical_bootstrap: method must be one of {INTERVAL_METHODS}, got {method!r}")
    v, seed_counts = _compact_seeds(v)
    empty = np.flatnonzero(seed_counts == 0)
    if empty.size:
        raise ValueError(f"hierarchical_bootstrap: tasks at positions {empty[:10].tolist()} have no finite value "
                         f"({empty.size} in all); drop them first and report how many")
    n_tasks, max_seeds = v.shape
    if datasets is None:
        if unit == "dataset" or balance == "dataset":
            raise ValueError(
                "hierarchical_bootstrap: unit='dataset' or balance='dataset' needs datasets= (one label per task); "
                "pass unit='task', balance='task' to resample tasks alone"
            )
        codes = np.zeros(n_tasks, dtype=np.int64)
    else:
        labels = list(datasets)
        if len(labels) != n_tasks:
            raise ValueError(f"hierarchical_bootstrap: {len(labels)} dataset labels for {n_tasks} tasks")
        _, codes = np.unique(np.asarray([str(label) for label in labels]), return_inverse=True)
    n_datasets = int(codes.max()) + 1

    task_means = np.nanmean(v, axis=1)
    if balance == "dataset":
        estimate = float(np.mean([task_means[codes == d].mean() for d in range(n_datasets)]))
    else:
        estimate = float(task_means.mean())

    # the resampled structure: one "pool" of tasks per outer unit
    pools = [np.flatnonzero(codes == d) for d in range(n_datasets)] if unit == "dataset" else [np.arange(n_tasks)]
    pool_sizes = np.array([len(p) for p in pools])
    width = int(pool_sizes.max())
    pool_tasks = np.zeros((len(pools), width), dtype=np.int64)
    for i, p in enumerate(pools):
        pool_tasks[i, : len(p)] = p

    rng = np.random.default_rng(seed)
    n_pools = len(pools)
    per_resample = n_pools * width * max_seeds
    chunk = max(1, _CHUNK_VALUES // per_resample)
    draws = np.empty(n_boot)
    slots = np.arange(width)
    for start in range(0, n_boot, chunk):
        c = min(chunk, n_boot - start)
        drawn = rng.integers(0, n_pools, (c, n_pools)) if unit == "dataset" else np.zeros((c, 1), dtype=np.int64)
        sizes = pool_sizes[drawn]  # (c, P)
        position = np.floor(rng.random((c, n_pools, width)) * sizes[..., None]).astype(np.int64)
        valid = slots < sizes[..., None]  # (c, P, W)
        tasks = pool_tasks[drawn[..., None], position]  # (c, P, W)
        if max_seeds > 1:
            n_seeds = seed_counts[tasks]  # (c, P, W)
            pick = np.floor(rng.random((c, n_pools, width, max_seeds)) * n_seeds[..., None]).astype(np.int64)
            seed_valid = np.arange(max_seeds) < n_seeds[..., None]
            picked = np.where(seed_valid, v[tasks[..., None], pick], 0.0)
            means = picked.sum(-1) / n_seeds
        else:
            means = v[tasks, 0]
        means = np.where(valid, means, 0.0)
        if balance == "task":
            draws[start:start + c] = means.sum(axis=(1, 2)) / sizes.sum(axis=1)
        elif unit == "dataset":
            draws[start:start + c] = (means.sum(axis=2) / sizes).mean(axis=1)
        else:  # tasks resampled as one pool, then averaged per dataset as drawn
            task_dataset = codes[tasks]  # (c, 1, W)
            sums = np.zeros((c, n_datasets))
            hits = np.zeros((c, n_datasets))
            rows = np.repeat(np.arange(c), width)
            np.add.at(sums, (rows, task_dataset.reshape(-1)), means.reshape(-1))
            np.add.at(hits, (rows, task_dataset.reshape(-1)), valid.reshape(-1).astype(np.float64))
            with np.errstate(invalid="ignore", divide="ignore"):
                draws[start:start + c] = np.nanmean(np.where(hits > 0, sums / hits, np.nan), axis=1)
    outer_units = n_datasets if unit == "dataset" else n_tasks
    low, high = (t_calibrated_interval(draws, estimate, outer_units, level=level) if method == "t"
                 else percentile_interval(draws, level=level))
    counts: list[tuple[str, int]] = []
    if unit == "dataset":
        counts.append(("datasets", n_datasets))
    counts.append(("tasks", n_tasks))
    if max_seeds > 1:
        counts.append(("seeds", int(max_seeds)))
    return Interval(estimate, low, high, tuple(counts), int(n_boot), level, method)
