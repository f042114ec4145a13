r"""Many metrics against one truth, beside the target-agnostic baselines: one table with intervals and gains.

:func:`compare_metrics` reads a long table (one row per group and candidate: a report's ``scores_and_truth.csv``)
and gives, for each metric and each baseline of :func:`~gtransfer.evaluation.baselines.baseline_measures`, the
mean over groups of each selection measure (Spearman, Pearson, Kendall, weighted Kendall, top-1 relative
accuracy) with a 95% bootstrap interval, and each metric's gain over the best baseline (chosen by its mean on
the metric's groups) with its interval. Two ways to resample, as the design allows:

* ``resample="groups"`` (source selection: many targets, each ranking the same encoders): the per-group
  values are resampled by :func:`~gtransfer.evaluation.bootstrap.hierarchical_bootstrap`, datasets then
  tasks (groups), each task weighted once;
* ``resample="candidates"`` (target selection: a few families, each ranking its own targets): the groups are
  fixed and the candidates are resampled within each group; the statistic is the mean over groups of the
  measure of the resampled candidates.

The random baseline is its expectation in both (0 for a correlation, the mean truth over the best for top-1):
the limit of :func:`~gtransfer.evaluation.baselines.random_measure`'s average over random orders, without its
cost or its noise.

With ``control`` (a column such as H(Y)), each metric also gets ``partial_spearman``: the Spearman correlation of
metric and truth with the control's ranks partialled out of both (Pearson of the residuals of the ranks'
least-squares fits on the control's ranks), which shows what a metric knows beyond the control -- for NCE and
LEEP, beyond the label count.

.. math::
    \rho_{st\cdot c} = \frac{\rho_{st} - \rho_{sc}\,\rho_{tc}}{\sqrt{(1 - \rho_{sc}^2)(1 - \rho_{tc}^2)}}.

A metric whose value is missing (NaN) for a candidate leaves out that candidate's group for that metric
(``dropped_groups`` counts them); an undefined correlation (a metric constant over a group) counts as 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from gtransfer.evaluation.baselines import baseline_measures, dataset_of, per_group_measure
from gtransfer.evaluation.bootstrap import hierarchical_bootstrap, percentile_interval
from gtransfer.evaluation.measures import MEASURES

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = ["SELECTION_MEASURES", "compare_metrics", "partial_spearman"]

#: the measures of the comparison, in the order reported
SELECTION_MEASURES = ("spearman", "pearson", "kendall", "weighted_kendall", "top1_relative_accuracy")


def partial_spearman(
    scores: npt.ArrayLike, truth: npt.ArrayLike, control: npt.ArrayLike, *, higher_is_better: bool = True
) -> float:
    """Spearman correlation of ``scores`` and ``truth`` given ``control`` (the ranks' partial correlation); NaN
    where a residual is constant (a side that the control explains entirely, or constant input).

    Examples:
        >>> control = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
        >>> round(partial_spearman([1, 2, 3, 4, 5, 6], [2, 1, 4, 3, 6, 5], control), 3)  # both follow the control alone
        nan
        >>> round(partial_spearman([3, 1, 2, 6, 4, 5], [3, 1, 2, 6, 4, 5], [1, 1, 2, 2, 3, 3]), 3)
        1.0
    """
    from scipy.stats import rankdata

    s, t, c = (np.asarray(x, dtype=np.float64) for x in (scores, truth, control))
    if not (s.shape == t.shape == c.shape) or s.ndim != 1 or s.size < 3:
        raise ValueError(f"partial_spearman: scores, truth and control must be 1-D of one length >= 3, got shapes "
                         f"{s.shape}, {t.shape}, {c.shape}")
    if not (np.isfinite(s).all() and np.isfinite(t).all() and np.isfinite(c).all()):
        raise ValueError("partial_spearman: scores, truth and control must be finite")
    design = np.column_stack([np.ones(s.size), rankdata(c)])
    residuals = []
    for values in (rankdata(s), rankdata(t if higher_is_better else -t)):
        coef, *_ = np.linalg.lstsq(design, values, rcond=None)
        residuals.append(values - design @ coef)
    a, b = residuals
    scale = np.sqrt((a @ a) * (b @ b))
    if scale <= 1e-12 * max(1.0, float(s.size) ** 3):
        return float("nan")
    return float(np.clip((a @ b) / scale, -1.0, 1.0))


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson r of each row pair of (R, n) arrays; NaN where a row is constant."""
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    scale = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(scale > 0, np.clip((a * b).sum(axis=1) / scale, -1.0, 1.0), np.nan)


def _rowwise_partial(s: np.ndarray, t: np.ndarray, c: np.ndarray) -> np.ndarray:
    """:func:`partial_spearman` of each row of (R, n) rank arrays."""
    c = c - c.mean(axis=1, keepdims=True)
    cc = (c * c).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        def residual(x: np.ndarray) -> np.ndarray:
            x = x - x.mean(axis=1, keepdims=True)
            return x - np.where(cc > 0, (x * c).sum(axis=1, keepdims=True) / cc, 0.0) * c
        a, b = residual(s), residual(t)
        scale = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        n = s.shape[1]
        return np.where(
            scale > 1e-12 * max(1.0, float(n) ** 3), np.clip((a * b).sum(axis=1) / scale, -1.0, 1.0), np.nan
        )


def _rowwise_kendall(s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Kendall's tau-b of each row pair (ties in either side accounted for, as scipy's ``kendalltau``)."""
    ds = np.sign(s[:, :, None] - s[:, None, :])
    dt = np.sign(t[:, :, None] - t[:, None, :])
    n = s.shape[1]
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    concordance = (ds * dt)[:, upper].sum(axis=1)
    untied_s = (ds[:, upper] != 0).sum(axis=1)
    untied_t = (dt[:, upper] != 0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(
            (untied_s > 0) & (untied_t > 0), concordance / np.sqrt(untied_s * untied_t.astype(np.float64)), np.nan
        )


def _rowwise_measure(name: str, s: np.ndarray, t: np.ndarray, c: np.ndarray | None) -> np.ndarray:
    """One measure of each row of (R, n) scores against (R, n) oriented truth (higher is better); an undefined
    correlation (a constant row) counts as 0, as :func:`per_group_measure` counts it."""
    from scipy.stats import rankdata, weightedtau

    if name == "pearson":
        values = _rowwise_pearson(s, t)
    elif name == "spearman":
        values = _rowwise_pearson(rankdata(s, axis=1), rankdata(t, axis=1))
    elif name == "partial_spearman":
        values = _rowwise_partial(rankdata(s, axis=1), rankdata(t, axis=1), rankdata(c, axis=1))
    elif name == "kendall":
        values = _rowwise_kendall(s, t)
    elif name == "weighted_kendall":
        values = np.array(
            [weightedtau(a, b).statistic if np.ptp(a) > 0 and np.ptp(b) > 0 else np.nan for a, b in zip(s, t)]
        )
    elif name == "top1_relative_accuracy":
        chosen = t[np.arange(len(t)), np.argmax(s, axis=1)]
        best = t.max(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            values = np.where(best > 0, chosen / best, np.nan)
        return values
    else:
        raise ValueError(f"no row-wise form of measure {name!r}")
    return np.where(np.isnan(values), 0.0, values)


def _random_expectation(name: str, t: np.ndarray) -> np.ndarray:
    """The expected measure of a random ranking of each row of (R, n) truth: 0 for a correlation, the mean truth
    over the best for top-1 (the expected share of the best that a random pick gets)."""
    if name != "top1_relative_accuracy":
        return np.zeros(len(t))
    best = t.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(best > 0, t.mean(axis=1) / best, np.nan)


def compare_metrics(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    truth: str,
    *,
    group: str = "target",
    candidate: str = "encoder",
    dataset: str | None = None,
    higher_is_better: bool = True,
    resample: str = "groups",
    label_entropy: str | None = None,
    control: str | None = None,
    measures: Sequence[str] = SELECTION_MEASURES,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Each metric's and each target-agnostic baseline's measures with intervals, and each metric's gain over the
    best baseline (see the module docstring).

    Args:
        frame: one row per (group, candidate): the metric columns, ``truth``, and ``label_entropy``/``control``
            where named. metrics: the columns to compare. truth: the truth column.
        dataset: a column naming each group's dataset (default: :func:`dataset_of` the group's name).
        resample: ``"groups"`` (hierarchical: datasets, then groups) or ``"candidates"`` (within fixed groups).
        label_entropy: the H(Y) column: adds the ``neg_label_entropy`` baseline (target selection).
        control: a column to partial out: adds the measure ``partial_spearman`` for the metrics.

    Returns:
        one row per (ranker, measure): ``ranker``, ``role`` (``metric``/``baseline``), ``measure``, ``estimate``,
        ``low``, ``high``, ``units`` (what was resampled, with counts), ``groups``, ``dropped_groups``, and for a
        metric ``best_baseline``, ``gain``, ``gain_low``, ``gain_high`` (NaN for ``partial_spearman``).

    Raises:
        ValueError: a missing column, an unknown measure or ``resample``, fewer than 2 candidates in a group.
    """
    import pandas as pd

    if resample not in ("groups", "candidates"):
        raise ValueError(f"compare_metrics: resample must be 'groups' or 'candidates', got {resample!r}")
    unknown = [m for m in measures if m not in MEASURES]
    if unknown:
        raise ValueError(f"compare_metrics: unknown measures {unknown}; known: {sorted(MEASURES)}")
    needed = [
        group,
        candidate,
        truth,
        *metrics,
        *([dataset] if dataset else []),
        *([label_entropy] if label_entropy else []),
        *([control] if control else []),
    ]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(f"compare_metrics: columns {missing} are not in the table; it has {list(frame.columns)}")
    small = frame.groupby(group)[candidate].count()
    if (small < 2).any():
        raise ValueError(f"compare_metrics: groups {list(small[small < 2].index)[:5]} have fewer than 2 candidates")
    frame = frame[np.isfinite(frame[truth].astype(np.float64))].copy()
    rows = []
    if resample == "groups":
        for measure in measures:
            rows.extend(
                _by_groups(
                    frame,
                    metrics,
                    truth,
                    measure,
                    group=group,
                    candidate=candidate,
                    dataset=dataset,
                    higher_is_better=higher_is_better,
                    label_entropy=label_entropy,
                    n_boot=n_boot,
                    seed=seed,
                )
            )
    else:
        rows.extend(_by_candidates(frame, metrics, truth, measures, group=group, higher_is_better=higher_is_better,
                                   label_entropy=label_entropy, control=control, n_boot=n_boot, seed=seed))
    if control is not None and resample == "groups":
        raise ValueError("compare_metrics: control (partial correlation) is implemented for resample='candidates'")
    return pd.DataFrame(rows)


def _complete_groups(frame: pd.DataFrame, metric: str, group: str) -> tuple[pd.DataFrame, int]:
    """The rows of the groups where ``metric`` is finite for every candidate; how many groups were dropped."""
    finite = np.isfinite(frame[metric].astype(np.float64))
    complete = finite.groupby(frame[group]).transform("all")
    return frame[complete], int(frame.loc[~complete, group].nunique())


def _by_groups(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    truth: str,
    measure: str,
    *,
    group: str,
    candidate: str,
    dataset: str | None,
    higher_is_better: bool,
    label_entropy: str | None,
    n_boot: int,
    seed: int,
) -> list[dict]:
    """The hierarchical (datasets, then groups) rows of one measure."""
    import pandas as pd

    from gtransfer.evaluation.baselines import gain_over_baselines

    baselines = baseline_measures(
        frame, truth, candidate=candidate, dataset=dataset, label_entropy=label_entropy, n_draws=1, group=group,
        measure=measure, higher_is_better=higher_is_better,
    )
    sign = 1.0 if higher_is_better else -1.0
    baselines["random"] = pd.Series(
        {
            name: float(_random_expectation(measure, sign * part[truth].to_numpy(np.float64)[None, :])[0])
            for name, part in frame.groupby(group, sort=True)
        },
        name="random",
        dtype=np.float64,
    )
    datasets = (frame.groupby(group)[dataset].first().astype(str) if dataset
                else frame.groupby(group)[group].first().map(dataset_of)).to_dict()

    def unit(values: pd.Series) -> str:
        return "dataset" if len(set(datasets[g] for g in values.index)) > 1 else "task"

    def interval_row(ranker: str, role: str, values: pd.Series, dropped: int) -> dict:
        labels = [datasets[g] for g in values.index]
        found = hierarchical_bootstrap(values.to_numpy(np.float64), datasets=labels, unit=unit(values),
                                       balance="task", n_boot=n_boot, seed=seed)
        return {"ranker": ranker, "role": role, "measure": measure, "estimate": found.estimate, "low": found.low,
                "high": found.high, "units": found.units(), "groups": len(values), "dropped_groups": dropped}

    rows = [interval_row(name, "baseline", values, 0) for name, values in baselines.items()]
    for metric in metrics:
        part, dropped = _complete_groups(frame, metric, group)
        if part.empty:
            rows.append(
                {"ranker": metric, "role": "metric", "measure": measure, "groups": 0, "dropped_groups": dropped}
            )
            continue
        values = per_group_measure(part, metric, truth, group=group, measure=measure, higher_is_better=higher_is_better)
        row = interval_row(metric, "metric", values, dropped)
        per_group = {metric: values, **baselines}
        gain = gain_over_baselines(per_group, metric, list(baselines), measure=measure, datasets=datasets,
                                   unit=unit(values), n_boot=n_boot, seed=seed)
        rows.append({**row, "best_baseline": gain.best, "gain": gain.gain.estimate, "gain_low": gain.gain.low,
                     "gain_high": gain.gain.high})
    return rows


def _by_candidates(frame: pd.DataFrame, metrics: Sequence[str], truth: str, measures: Sequence[str], *, group: str,
                   higher_is_better: bool, label_entropy: str | None, control: str | None, n_boot: int,
                   seed: int) -> list[dict]:
    """The rows of every measure, groups fixed and candidates resampled within each group (row 0: no resampling)."""
    if higher_is_better is False and "top1_relative_accuracy" in measures:
        raise ValueError(
            "compare_metrics: resample='candidates' takes a higher-is-better truth for top-1 relative accuracy"
        )
    frame = frame.copy()
    baselines = ["random"]
    if label_entropy is not None:
        frame["neg_label_entropy"] = -frame[label_entropy].astype(np.float64)
        baselines.append("neg_label_entropy")
    all_measures = [*measures, *(["partial_spearman"] if control else [])]
    rng = np.random.default_rng(seed)
    sums: dict[tuple[str, str], np.ndarray] = {}
    counts: dict[tuple[str, str], np.ndarray] = {}
    dropped: dict[str, int] = {}
    n_groups = 0
    for _, part in frame.groupby(group, sort=True):
        n_groups += 1
        n = len(part)
        index = np.vstack([np.arange(n), rng.integers(0, n, (n_boot, n))])
        sign = 1.0 if higher_is_better else -1.0
        t = sign * part[truth].to_numpy(np.float64)[index]
        c = part[control].to_numpy(np.float64)[index] if control else None
        for ranker in [*baselines, *metrics]:
            if ranker == "random":
                values = {m: _random_expectation(m, t) for m in measures}
            else:
                raw = part[ranker].to_numpy(np.float64)
                if not np.isfinite(raw).all():
                    dropped[ranker] = dropped.get(ranker, 0) + 1
                    continue
                wanted = [m for m in all_measures if m != "partial_spearman" or ranker in metrics]
                values = {m: _rowwise_measure(m, raw[index], t, c) for m in wanted}
            for m, v in values.items():
                finite = np.isfinite(v)
                sums[(ranker, m)] = sums.get((ranker, m), 0.0) + np.where(finite, v, 0.0)
                counts[(ranker, m)] = counts.get((ranker, m), 0) + finite
    means = {key: sums[key] / np.maximum(counts[key], 1) for key in sums}
    units = f"{n_groups:,} groups fixed, {len(frame):,} candidates, {n_boot:,} resamples"
    rows = []
    for measure in all_measures:
        present = [b for b in baselines if (b, measure) in means]
        best = max(present, key=lambda b: means[(b, measure)][0]) if present else None
        for ranker in [*present, *metrics]:
            key = (ranker, measure)
            role = "baseline" if ranker in baselines else "metric"
            row = {"ranker": ranker, "role": role, "measure": measure, "units": units,
                   "groups": n_groups - dropped.get(ranker, 0), "dropped_groups": dropped.get(ranker, 0)}
            if key not in means:
                rows.append(row)
                continue
            row.update(estimate=float(means[key][0]), **dict(zip(("low", "high"), percentile_interval(means[key][1:]))))
            if role == "metric" and best is not None:
                gain = means[key] - means[(best, measure)]
                row.update(best_baseline=best, gain=float(gain[0]),
                           **dict(zip(("gain_low", "gain_high"), percentile_interval(gain[1:]))))
            rows.append(row)
    return rows
