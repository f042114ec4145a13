"""Store -> tables: trials as data frames, and metric-vs-fine-tuning correlation tables.

The study's ``report`` section in its spec says how to read its trials (defaults in brackets):
``candidate`` [encoder] is what is ranked, ``group`` [target] the setting within which candidates are
ranked (source selection ranks encoders per target; target selection ranks targets per encoder:
``candidate: target, group: encoder``), ``scores`` [score] and ``truth`` [probe] the two trial kinds,
``truth_metrics`` [test_accuracy, relative_accuracy] the fine-tuning results to correlate with,
``truth_aggregate`` [best]: over hyperparameters take the best seed-averaged result ("best") or the
mean ("mean"); seeds are always averaged. ``metrics`` [every score column]: the metrics to evaluate.
``truth_lower_is_better`` [[]]: truth columns where lower is better, besides those named like an error
(``test_rmse``, ``test_mae``: :func:`gtransfer.evaluation.truth_higher_is_better`); a ``test_metric``
column whose trials all report ``metric: rmse`` (or ``mae``) is lower-is-better too. For such a truth the
best hyperparameters are those with the lowest value and every measure treats the lowest error as best.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterable
from functools import partial

import numpy as np
import pandas as pd

from gtransfer.evaluation import CORRELATIONS, bootstrap_ci, numerically_constant, truth_higher_is_better
from gtransfer.studies.store import TrialStore

__all__ = [
    "DESCRIPTIVE_COLUMNS",
    "ReportConfig",
    "trials_frame",
    "ground_truth",
    "metric_scores",
    "correlation_table",
    "aggregate_table",
    "timing_table",
    "SOURCE_COLUMNS",
    "nce_leep_sources",
    "combine_pool_metrics",
    "study_scores",
]

#: score-trial result columns that describe the target rather than score it
DESCRIPTIVE_COLUMNS = ("n", "d", "num_classes", "imbalance_ratio", "label_entropy")
#: the columns computed from source probabilities (NCE, LEEP and their corrections)
SOURCE_COLUMNS = ("nce", "leep", "nce_normalized", "leep_normalized", "nce_gain", "leep_gain")
#: what a score trial stored before sources were recorded computed NCE/LEEP from
UNRECORDED_SOURCE = (
    "not recorded: a trial stored before sources were recorded (graph trials then used the k-means stand-in)"
)


class ReportConfig:
    """The ``report`` section of a spec, with defaults and validation."""

    _FIELDS = {
        "candidate",
        "group",
        "scores",
        "truth",
        "truth_metrics",
        "truth_aggregate",
        "truth_lower_is_better",
        "metrics",
        "n_boot",
        "seed",
    }

    def __init__(self, section: dict | None = None) -> None:
        section = dict(section or {})
        unknown = set(section) - self._FIELDS
        if unknown:
            raise ValueError(f"report: unknown field(s) {sorted(unknown)}; allowed: {sorted(self._FIELDS)}")
        self.candidate: str = section.get("candidate", "encoder")
        self.group: str = section.get("group", "target")
        self.scores: str = section.get("scores", "score")
        self.truth: str = section.get("truth", "probe")
        self.truth_metrics: list[str] = list(section.get("truth_metrics", ["test_accuracy", "relative_accuracy"]))
        self.truth_aggregate: str = section.get("truth_aggregate", "best")
        if self.truth_aggregate not in ("best", "mean"):
            raise ValueError(f"report: truth_aggregate must be 'best' or 'mean', got {self.truth_aggregate!r}")
        self.metrics: list[str] | None = section.get("metrics")
        self.n_boot: int = int(section.get("n_boot", 1000))
        self.seed: int = int(section.get("seed", 0))
        self.truth_lower_is_better: set[str] = set(section.get("truth_lower_is_better", []))

    def higher_is_better(self, truth_name: str) -> bool:
        """Whether a larger value of the truth column ``truth_name`` is better."""
        return truth_name not in self.truth_lower_is_better and truth_higher_is_better(truth_name)


def trials_frame(store: TrialStore, *, kind: str | None = None, study: str | None = None) -> pd.DataFrame:
    """One row per ``ok`` trial: ``kind``, ``key``, the params, then the results.

    Params that are not scalars are written as JSON text; a result named like a param gets the
    prefix ``result.``.
    """
    rows = []
    param_names: dict[str, None] = {}
    for record in store.records(kind=kind, study=study):
        row: dict = {"kind": record.kind, "key": record.key}
        param_names.update(dict.fromkeys(record.params))
        for name, value in record.params.items():
            row[name] = value if _is_scalar(value) else json.dumps(value, sort_keys=True)
        for name, value in (record.result or {}).items():
            column = f"result.{name}" if name in row else name
            row[column] = value if _is_scalar(value) else json.dumps(value, sort_keys=True)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame.attrs["params"] = list(param_names)
    return frame


def _is_scalar(value: object) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _hyperparameter_columns(frame: pd.DataFrame, config: ReportConfig) -> list[str]:
    """Params other than seed, candidate and group that take more than one value."""
    fixed = {"seed", config.candidate, config.group}
    return [c for c in frame.attrs.get("params", []) if c not in fixed and frame[c].nunique(dropna=False) > 1]


def ground_truth(store: TrialStore, study: str | None, config: ReportConfig) -> pd.DataFrame:
    """Fine-tuned performance per (group, candidate): seeds averaged, hyperparameters best or mean.

    Adds ``relative_accuracy`` = (acc - acc_majority) / (1 - acc_majority) when the truth trials report
    ``test_accuracy`` and ``majority_accuracy``, and ``relative_roc_auc`` = (AUC - 0.5) / 0.5 for
    ``test_roc_auc`` (docs/design.md section 2).
    """
    frame = trials_frame(store, kind=config.truth, study=study)
    if frame.empty:
        raise ValueError(f"no finished {config.truth!r} trials in the store (the report's 'truth' kind)")
    _require(frame, (config.candidate, config.group), config.truth)
    if {"test_accuracy", "majority_accuracy"} <= set(frame.columns):
        frame["relative_accuracy"] = (frame["test_accuracy"] - frame["majority_accuracy"]) / (
            1.0 - frame["majority_accuracy"]
        )
    if "test_roc_auc" in frame.columns:
        frame["relative_roc_auc"] = (frame["test_roc_auc"] - 0.5) / 0.5
    _metric_column_direction(frame, config)
    metrics = [m for m in config.truth_metrics if m in frame.columns]
    if not metrics:
        raise ValueError(
            f"the {config.truth!r} trials report none of {config.truth_metrics}; they have {sorted(frame.columns)}"
        )
    hyper = _hyperparameter_columns(frame, config)
    keys = [config.group, config.candidate]
    per_setting = frame.groupby(keys + hyper, dropna=False)[metrics].mean().reset_index()
    counts = frame.groupby(keys, dropna=False)["key"].count().rename("truth_trials")
    grouped = per_setting.groupby(keys, dropna=False)
    if config.truth_aggregate == "best":  # the best setting: highest value, or lowest for an error
        truth = pd.concat(
            [grouped[m].max() if config.higher_is_better(m) else grouped[m].min() for m in metrics], axis=1
        )
    else:
        truth = grouped[metrics].mean()
    return truth.join(counts).reset_index()


def _metric_column_direction(frame: pd.DataFrame, config: ReportConfig) -> None:
    """Mark ``test_metric``/``valid_metric`` lower-is-better in ``config`` when the trials' ``metric`` column
    names an error (rmse, mae) for every trial; refuse a mix of directions, which no ranking can join."""
    if "metric" not in frame.columns:
        return
    directions = {truth_higher_is_better(str(name)) for name in frame["metric"].dropna().unique()}
    if len(directions) > 1:
        raise ValueError(
            f"the {config.truth!r} trials mix metrics where higher is better and where lower is better "
            f"({sorted(frame['metric'].dropna().unique())}); report regression and classification targets in "
            "separate studies"
        )
    if directions == {False}:
        config.truth_lower_is_better |= {"test_metric", "valid_metric"}


def metric_scores(store: TrialStore, study: str | None, config: ReportConfig) -> pd.DataFrame:
    """Metric values per (group, candidate), averaged over seeds, with the derived corrections.

    From ``nce``, ``leep`` and ``label_entropy`` H(Y) it adds (docs/design.md section 2)
    ``nce_normalized`` = 1 + NCE / H(Y), ``leep_normalized`` = 1 + LEEP / H(Y) (the names of
    ``gtransfer.metrics.score_all``), ``nce_gain`` = NCE + H(Y) and ``leep_gain`` = LEEP + H(Y),
    unless the trials already report them.
    """
    frame = trials_frame(store, kind=config.scores, study=study)
    if frame.empty:
        raise ValueError(f"no finished {config.scores!r} trials in the store (the report's 'scores' kind)")
    _require(frame, (config.candidate, config.group), config.scores)
    if "label_entropy" in frame.columns:
        entropy = frame["label_entropy"].astype(float)
        for raw in ("nce", "leep"):
            if raw in frame.columns:
                if f"{raw}_normalized" not in frame.columns:
                    frame[f"{raw}_normalized"] = 1.0 + frame[raw] / entropy
                if f"{raw}_gain" not in frame.columns:
                    frame[f"{raw}_gain"] = frame[raw] + entropy
    params = set(frame.attrs.get("params", []))
    frame = combine_pool_metrics(frame)
    components = set(frame.attrs.get("pool_components", []))
    metrics = config.metrics or [
        c
        for c in frame.columns
        if c not in DESCRIPTIVE_COLUMNS
        and c not in params
        and c not in components
        and pd.api.types.is_float_dtype(frame[c])
    ]
    missing = [m for m in metrics if m not in frame.columns]
    if missing:
        raise ValueError(f"the {config.scores!r} trials do not report {missing}; they have {sorted(frame.columns)}")
    descriptive = [c for c in DESCRIPTIVE_COLUMNS if c in frame.columns]
    keys = [config.group, config.candidate]
    return frame.groupby(keys, dropna=False)[metrics + descriptive].mean().reset_index()


def combine_pool_metrics(frame: pd.DataFrame, *, pool: str = "target", candidate: str = "encoder") -> pd.DataFrame:
    """``frame`` with a column per pool-relative metric (``ncti``, ``etran``) whose per-model components it holds
    (``ncti__seli``, ... as :func:`gtransfer.selection.scoring.pool_component_columns` stores them): within each
    ``pool`` value (a target) the seed-averaged components of its ``candidate`` rows (the encoders) are combined by
    ``POOL_METRIC_SPECS[name].combine``, and every row of that candidate gets its score.

    A pool with fewer than two candidates, or with a non-finite component, gets NaN (counted in a warning): the
    score compares models, and a refused or missing one leaves nothing well defined to compare. The component
    columns are listed in ``frame.attrs["pool_components"]``.

    Raises:
        ValueError: components present but no ``pool`` or ``candidate`` column to combine them by.
    """
    from gtransfer.metrics.registry import POOL_METRIC_SPECS
    from gtransfer.selection.scoring import POOL_COLUMN_SEPARATOR

    found = {name: [f"{name}{POOL_COLUMN_SEPARATOR}{part}" for part in spec.weights]
             for name, spec in POOL_METRIC_SPECS.items()
             if any(f"{name}{POOL_COLUMN_SEPARATOR}{part}" in frame.columns for part in spec.weights)}
    if not found:
        return frame
    _require(frame, (pool, candidate), "pool-metric")
    frame = frame.copy()
    attrs = dict(frame.attrs)
    undefined: dict[str, int] = {}
    for name, columns in found.items():
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise ValueError(
                f"{name}: the trials store components {sorted(set(columns) - set(missing))} but not {missing}; "
                "rerun the score trials with the current gtransfer"
            )
        values = pd.Series(np.nan, index=frame.index, dtype=np.float64)
        for _, part in frame.groupby(pool, sort=False):
            means = part.groupby(candidate)[columns].mean()
            if len(means) < 2 or not np.isfinite(means.to_numpy(np.float64)).all():
                undefined[name] = undefined.get(name, 0) + 1
                continue
            parts = {
                key: {c.split(POOL_COLUMN_SEPARATOR, 1)[1]: float(v) for c, v in row.items()}
                for key, row in means.iterrows()
            }
            scores = POOL_METRIC_SPECS[name].combine(parts)
            values.loc[part.index] = part[candidate].map(scores).to_numpy(np.float64)
        frame[name] = values
    for name, count in undefined.items():
        warnings.warn(
            f"{name}: {count} {pool}(s) with fewer than two {candidate}s or a refused component get NaN", stacklevel=2
        )
    frame.attrs = {**attrs, "pool_components": [c for columns in found.values() for c in columns]}
    return frame


def study_scores(store: TrialStore, study: str, *, kind: str = "graph_score", candidate: str = "encoder",
                 group: str = "target") -> pd.DataFrame:
    """:func:`metric_scores` of one study's ``kind`` trials per (group, candidate), for scripts that compare metrics
    outside a report (pool metrics combined per target, NCE/LEEP corrections added)."""
    return metric_scores(store, study, ReportConfig({"scores": kind, "candidate": candidate, "group": group}))


def nce_leep_sources(store: TrialStore, study: str | None, config: ReportConfig) -> pd.DataFrame:
    """What the NCE/LEEP columns were computed from, per candidate: ``candidate``, ``source``, ``trials``.

    Reads each score trial's ``nce_leep_source``; empty when no score trial reports a source metric.
    """
    frame = trials_frame(store, kind=config.scores, study=study)
    if frame.empty or not any(c in frame.columns for c in SOURCE_COLUMNS[:4]):
        return pd.DataFrame(columns=[config.candidate, "source", "trials"])
    sources = frame["nce_leep_source"] if "nce_leep_source" in frame.columns else pd.Series(np.nan, index=frame.index)
    frame = frame.assign(source=sources.fillna(UNRECORDED_SOURCE))
    table = frame.groupby([config.candidate, "source"], dropna=False)["key"].count().rename("trials").reset_index()
    return table.sort_values([config.candidate, "source"]).reset_index(drop=True)


def source_summary(sources: pd.DataFrame, config: ReportConfig) -> str:
    """One cell for a NCE/LEEP row of a table: each kind of source with its number of candidates."""
    if sources.empty:
        return ""
    kinds = sources["source"].map(lambda text: text.split(":", 1)[0]).rename("kind")
    counts = sources.assign(kind=kinds).groupby("kind")[config.candidate].nunique()
    return "; ".join(f"{kind} ({count})" for kind, count in counts.items())


def _require(frame: pd.DataFrame, columns: Iterable[str], kind: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the {kind!r} trials have no param {missing}; set 'candidate'/'group' in the spec's report section"
        )


def joined(scores: pd.DataFrame, truth: pd.DataFrame, config: ReportConfig) -> pd.DataFrame:
    """Scores and truth side by side for the (group, candidate) pairs both have; counts the rest."""
    keys = [config.group, config.candidate]
    both = scores.merge(truth, on=keys, how="inner", suffixes=("", ".truth"))
    left_out = len(scores) + len(truth) - 2 * len(both)
    if left_out:
        warnings.warn(
            f"{left_out} (group, candidate) pair(s) have scores or fine-tuning results but not both; left out",
            stacklevel=2,
        )
    return both


def correlation_table(data: pd.DataFrame, metrics: list[str], config: ReportConfig) -> pd.DataFrame:
    """Per group, metric and truth metric: every selection measure with its bootstrap interval.

    Columns: group, metric, truth, candidates, then ``<measure>``, ``<measure>_low``, ``<measure>_high``,
    and ``note``. Groups with fewer than 3 candidates are left out (a count is warned). A metric whose
    values in a group agree to a relative 1e-5 (H-score saturating at C - 1 when n <= d) gets NaN
    measures and the note "metric constant within the group": its "ranking" would be rounding noise.
    """
    rows = []
    skipped = 0
    for group, part in data.groupby(config.group, sort=True):
        if len(part) < 3:
            skipped += 1
            continue
        for truth_name in [t for t in config.truth_metrics if t in part.columns]:
            truth = part[truth_name].to_numpy(dtype=np.float64)
            for metric in metrics:
                scores = part[metric].to_numpy(dtype=np.float64)
                row = {"group": group, "metric": metric, "truth": truth_name, "candidates": len(part)}
                if not (np.all(np.isfinite(scores)) and np.all(np.isfinite(truth))):
                    row.update({m: np.nan for m in CORRELATIONS}, note="non-finite values")
                    rows.append(row)
                    continue
                if numerically_constant(scores):
                    # e.g. H-score saturating at C - 1 when n <= d: a ranking of rounding noise
                    row.update({m: np.nan for m in CORRELATIONS}, note="metric constant within the group")
                    rows.append(row)
                    continue
                higher = config.higher_is_better(truth_name)
                row["truth_higher_is_better"] = higher
                for name, fn in CORRELATIONS.items():
                    row.update(
                        _measure_with_interval(name, partial(fn, higher_is_better=higher), scores, truth, config)
                    )
                rows.append(row)
    if skipped:
        warnings.warn(f"{skipped} group(s) with fewer than 3 candidates left out of the correlations", stacklevel=2)
    return pd.DataFrame(rows)


def _measure_with_interval(
    name: str,
    fn: Callable[[np.ndarray, np.ndarray], float],
    scores: np.ndarray,
    truth: np.ndarray,
    config: ReportConfig,
) -> dict:
    """``gtransfer.evaluation.bootstrap_ci`` of one measure; NaN where the measure is undefined.

    Degenerate resamples (constant scores or truth among a few candidates) are common and are left
    out by ``bootstrap_ci``; its per-call warning is silenced here, as the report states the rule.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            estimate, low, high = bootstrap_ci(fn, scores, truth, n_boot=config.n_boot, seed=config.seed)
        except ValueError:  # e.g. top-1 relative accuracy with a non-positive best performance
            estimate = low = high = float("nan")
    return {name: estimate, f"{name}_low": low, f"{name}_high": high}


def aggregate_table(per_group: pd.DataFrame, config: ReportConfig) -> pd.DataFrame:
    """Mean of each measure over groups, with a bootstrap interval over groups (NaN groups skipped)."""
    from gtransfer.studies.claims import mean_interval

    rows = []
    for (metric, truth), part in per_group.groupby(["metric", "truth"], sort=False):
        row = {"metric": metric, "truth": truth, "groups": int(part["spearman"].notna().sum())}
        for name in CORRELATIONS:
            values = part[name].to_numpy(dtype=np.float64)
            if not np.isfinite(values).any():
                row.update({name: np.nan, f"{name}_low": np.nan, f"{name}_high": np.nan})
                continue
            interval = mean_interval(values, n_boot=config.n_boot, seed=config.seed)
            row.update({name: interval.estimate, f"{name}_low": interval.low, f"{name}_high": interval.high})
        rows.append(row)
    return pd.DataFrame(rows)


def timing_table(store: TrialStore, study: str | None) -> pd.DataFrame:
    """``metric_timing`` trials: best seconds per (metric, n, d), averaged over seeds; empty if none."""
    frame = trials_frame(store, kind="metric_timing", study=study)
    if frame.empty:
        return frame
    return frame.groupby(["metric", "n", "d"], sort=True)["seconds"].mean().reset_index()
