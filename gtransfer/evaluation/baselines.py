"""Target-agnostic baselines: rankers that know nothing of a target's features, and a metric's gain over the best.

A metric earns its keep only if it ranks the candidates better than what needs no features of the target:

- ``random``: random scores (the measure averaged over ``n_draws`` random orders: about 0 for a correlation);
- ``lodo_mean_truth``: each candidate's mean truth on the groups of the *other* datasets (leave-one-dataset-out:
  "this encoder is usually good");
- a fixed attribute of the candidate: its parameter count, its pretraining-data size (:func:`attribute_scores`);
- ``neg_label_entropy``: -H(Y) of each candidate target, for target selection, where the candidates are targets
  (:func:`negative_label_entropy`).

:func:`per_group_measure` computes a measure per group from a long table (one row per group and candidate,
as a report's ``scores_and_truth.csv``); :func:`gain_over_baselines` reports a metric's per-group gain over the
best baseline with a :func:`~gtransfer.evaluation.bootstrap.hierarchical_bootstrap` interval.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from gtransfer.evaluation.bootstrap import Interval, hierarchical_bootstrap
from gtransfer.evaluation.measures import MEASURES

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "per_group_measure",
    "random_measure",
    "leave_one_dataset_out_truth",
    "attribute_scores",
    "negative_label_entropy",
    "baseline_measures",
    "BaselineGain",
    "gain_over_baselines",
    "dataset_of",
]


def dataset_of(group: str) -> str:
    """The dataset of a target string: the part before the first ``:`` (``ogbg-moltox21:3`` -> ``ogbg-moltox21``)."""
    return str(group).split(":", 1)[0]


def _check_columns(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{where}: columns {missing} are not in the table; it has {list(frame.columns)}")


def per_group_measure(frame: pd.DataFrame, score: str, truth: str, *, group: str = "target", measure: str = "spearman",
                      higher_is_better: bool = True, undefined_as_zero: bool = True) -> pd.Series:
    """``measure`` of ``score`` against ``truth`` within each group: a Series indexed by group.

    A correlation is undefined (NaN) where the scores or the truth are constant over the candidates; with
    ``undefined_as_zero`` it counts as 0, the expected correlation of a ranking that carries no information
    (a constant ranker ranks nothing). Groups with fewer than 2 candidates are an error.
    """
    import pandas as pd

    _check_columns(frame, [score, truth, group], "per_group_measure")
    if measure not in MEASURES:
        raise ValueError(f"per_group_measure: unknown measure {measure!r}; known: {sorted(MEASURES)}")
    fn = MEASURES[measure].fn
    values = {}
    for name, part in frame.groupby(group, sort=True):
        value = fn(
            part[score].to_numpy(np.float64), part[truth].to_numpy(np.float64), higher_is_better=higher_is_better
        )
        values[name] = 0.0 if (undefined_as_zero and np.isnan(value)) else value
    return pd.Series(values, name=score, dtype=np.float64)


def random_measure(frame: pd.DataFrame, truth: str, *, group: str = "target", measure: str = "spearman",
                   higher_is_better: bool = True, n_draws: int = 200, seed: int = 0) -> pd.Series:
    """The ``random`` baseline: per group, ``measure`` of random scores averaged over ``n_draws`` draws."""
    import pandas as pd

    _check_columns(frame, [truth, group], "random_measure")
    fn = MEASURES[measure].fn
    rng = np.random.default_rng(seed)
    values = {}
    for name, part in frame.groupby(group, sort=True):
        t = part[truth].to_numpy(np.float64)
        draws = [
            fn(rng.permutation(len(t)).astype(np.float64), t, higher_is_better=higher_is_better) for _ in range(n_draws)
        ]
        values[name] = float(np.nanmean(draws)) if np.isfinite(draws).any() else 0.0
    return pd.Series(values, name="random", dtype=np.float64)


def leave_one_dataset_out_truth(frame: pd.DataFrame, truth: str, *, group: str = "target", candidate: str = "encoder",
                                dataset: str | None = None, higher_is_better: bool = True) -> pd.Series:
    """The ``lodo_mean_truth`` baseline score of each row: its candidate's mean truth over the groups of every
    *other* dataset (oriented so that higher is better). ``dataset`` names a column; by default the dataset of a
    group is :func:`dataset_of` its name.

    Raises:
        ValueError: one dataset only, or a candidate with no truth outside some dataset (the rows are named).
    """
    import pandas as pd

    _check_columns(frame, [truth, group, candidate] + ([dataset] if dataset else []), "leave_one_dataset_out_truth")
    datasets = frame[dataset].astype(str) if dataset else frame[group].map(dataset_of)
    if datasets.nunique() < 2:
        raise ValueError(
            f"leave_one_dataset_out_truth: needs groups from 2 or more datasets, got {sorted(set(datasets))}"
        )
    oriented = frame[truth].astype(np.float64) * (1.0 if higher_is_better else -1.0)
    # mean per (dataset, candidate) over its groups, then the mean over the other datasets' groups
    sums = oriented.groupby([datasets, frame[candidate]]).sum()
    counts = oriented.groupby([datasets, frame[candidate]]).count()
    total_sum = sums.groupby(level=1).sum()
    total_count = counts.groupby(level=1).sum()
    keys = list(zip(datasets, frame[candidate]))
    own_sum = np.array([sums.get(k, 0.0) for k in keys])
    own_count = np.array([counts.get(k, 0) for k in keys])
    rest = total_count.reindex(frame[candidate]).to_numpy() - own_count
    if (rest == 0).any():
        bad = sorted({str(frame[candidate].iloc[i]) for i in np.flatnonzero(rest == 0)})
        raise ValueError(f"leave_one_dataset_out_truth: candidates {bad} have truth in one dataset only; "
                         "give every candidate truth on 2 or more datasets, or drop them")
    values = (total_sum.reindex(frame[candidate]).to_numpy() - own_sum) / rest
    return pd.Series(values, index=frame.index, name="lodo_mean_truth", dtype=np.float64)


def attribute_scores(frame: pd.DataFrame, attribute: Mapping[str, float], *, candidate: str = "encoder",
                     name: str = "attribute") -> pd.Series:
    """A fixed ranking of the candidates by an attribute that ignores the target (parameter count, pretraining-data
    size): each row's score is its candidate's attribute. A candidate without one is an error naming it."""
    _check_columns(frame, [candidate], "attribute_scores")
    missing = sorted(set(map(str, frame[candidate])) - set(map(str, attribute)))
    if missing:
        raise ValueError(f"attribute_scores ({name}): no value for candidates {missing}; give every candidate one "
                         "or leave this baseline out")
    return frame[candidate].astype(str).map({str(k): float(v) for k, v in attribute.items()}).rename(name)


def negative_label_entropy(class_counts: npt.ArrayLike) -> float:
    """-H(Y) = sum_c p_c log p_c (nats) of a target's class counts: the target-selection baseline that prefers
    targets with few, imbalanced classes, where accuracy is easy.

    Examples:
        >>> round(negative_label_entropy([50, 50]), 4)
        -0.6931
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError(f"negative_label_entropy: class counts must be a non-empty 1-D array of counts >= 0 with a "
                         f"positive sum, got {counts!r}")
    p = counts[counts > 0] / counts.sum()
    return float((p * np.log(p)).sum())


def baseline_measures(frame: pd.DataFrame, truth: str, *, measure: str = "spearman", group: str = "target",
                      candidate: str = "encoder", dataset: str | None = None,
                      attributes: Mapping[str, Mapping[str, float]] | None = None, label_entropy: str | None = None,
                      higher_is_better: bool = True, n_draws: int = 200, seed: int = 0) -> dict[str, pd.Series]:
    """Every target-agnostic baseline's per-group ``measure``, by name: ``random``; ``lodo_mean_truth`` (when the
    groups come from 2 or more datasets); one entry per attribute of ``attributes`` (``{"params": {encoder: count}}``);
    ``neg_label_entropy`` (-``label_entropy`` column, target selection). Ready for :func:`gain_over_baselines` and as
    the placebos of :func:`~gtransfer.evaluation.preregistration.decide_claim`."""
    options: dict[str, Any] = {"group": group, "measure": measure, "higher_is_better": higher_is_better}
    out = {"random": random_measure(frame, truth, n_draws=n_draws, seed=seed, **options)}
    scored = frame.copy()
    datasets = scored[dataset].astype(str) if dataset else scored[group].map(dataset_of)
    if datasets.nunique() >= 2:
        scored["lodo_mean_truth"] = leave_one_dataset_out_truth(frame, truth, group=group, candidate=candidate,
                                                                dataset=dataset, higher_is_better=higher_is_better)
        out["lodo_mean_truth"] = per_group_measure(scored, "lodo_mean_truth", truth, **options)
    for name, values in (attributes or {}).items():
        scored[name] = attribute_scores(frame, values, candidate=candidate, name=name)
        out[name] = per_group_measure(scored, name, truth, **options)
    if label_entropy is not None:
        _check_columns(frame, [label_entropy], "baseline_measures")
        scored["neg_label_entropy"] = -frame[label_entropy].astype(np.float64)
        out["neg_label_entropy"] = per_group_measure(scored, "neg_label_entropy", truth, **options)
    return out


@dataclass(frozen=True)
class BaselineGain:
    """A metric's gain over the best target-agnostic baseline: ``best`` (chosen by its mean measure over groups,
    on the same data: a choice that favours the baselines), every baseline's mean, and the gain's interval."""

    metric: str
    measure: str
    best: str
    baseline_means: dict[str, float]
    metric_mean: float
    gain: Interval

    def __str__(self) -> str:
        return f"{self.metric} - best baseline ({self.best}) in {self.measure}: {self.gain}"


def gain_over_baselines(per_group: Mapping[str, pd.Series], metric: str, baselines: Sequence[str], *, measure: str,
                        datasets: Mapping[str, str] | None = None, unit: str = "dataset", balance: str = "task",
                        n_boot: int = 10_000, seed: int = 0) -> BaselineGain:
    """Per group: ``metric``'s measure minus the best baseline's (the baseline with the best mean over groups,
    regret's orientation respected); the mean and its hierarchical-bootstrap interval.

    ``per_group`` maps a ranker's name to its per-group measure (:func:`per_group_measure`, :func:`random_measure`);
    ``datasets`` maps a group to its dataset (default :func:`dataset_of`). Groups missing for a ranker are an error.
    """
    if measure not in MEASURES:
        raise ValueError(f"gain_over_baselines: unknown measure {measure!r}; known: {sorted(MEASURES)}")
    names = [metric, *baselines]
    absent = [n for n in names if n not in per_group]
    if absent:
        raise ValueError(f"gain_over_baselines: no per-group values for {absent}; given: {sorted(per_group)}")
    if not baselines:
        raise ValueError("gain_over_baselines: give at least one baseline")
    groups = sorted(per_group[metric].index)
    for n in names:
        lacking = sorted(set(groups) - set(per_group[n].index))
        if lacking:
            raise ValueError(
                f"gain_over_baselines: {n!r} has no value for groups {lacking[:5]} ({len(lacking)} in all)"
            )
    sign = 1.0 if MEASURES[measure].higher_is_better else -1.0
    means = {b: float(per_group[b].reindex(groups).mean()) for b in baselines}
    best = max(baselines, key=lambda b: sign * means[b])
    gain = sign * (per_group[metric].reindex(groups).to_numpy() - per_group[best].reindex(groups).to_numpy())
    labels = [(datasets or {}).get(g, dataset_of(g)) for g in groups]
    interval = hierarchical_bootstrap(gain, datasets=labels, unit=unit, balance=balance, n_boot=n_boot, seed=seed)
    return BaselineGain(metric, measure, best, means, float(per_group[metric].reindex(groups).mean()), interval)
