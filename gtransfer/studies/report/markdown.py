"""``write_report``: a study's markdown report with CSV tables and PNG plots.

For every study in the store whose trials include its ``scores`` and ``truth`` kinds (see
:mod:`gtransfer.studies.report.tables`), the report has: the correlation of every metric with fine-tuned
performance (Pearson, Spearman, Kendall, weighted Kendall, top-1 relative accuracy, regret) per group
and averaged over groups, with bootstrap intervals; a scatter plot per metric; correlation bars; and,
when the study has ``metric_timing`` trials, the cost of the metrics as n and d grow. Every trial kind
is also written out as a CSV of all its finished trials.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pandas as pd

from gtransfer.studies.report import plots
from gtransfer.studies.report.tables import (
    ReportConfig,
    aggregate_table,
    correlation_table,
    ground_truth,
    joined,
    metric_scores,
    timing_table,
    trials_frame,
)
from gtransfer.studies.store import TrialStore

__all__ = ["write_report", "write_study_report"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "study"


def _markdown(frame: pd.DataFrame, digits: int = 3) -> str:
    """A pipe table (no extra dependency), floats rounded to ``digits``."""
    if frame.empty:
        return "(no rows)\n"
    header = "| " + " | ".join(map(str, frame.columns)) + " |"
    rule = "| " + " | ".join("---" for _ in frame.columns) + " |"

    def cell(value: object) -> str:
        if isinstance(value, float):
            return "nan" if value != value else f"{value:.{digits}f}"
        return str(value)

    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def _with_interval(table: pd.DataFrame, measures: list[str], keys: list[str]) -> pd.DataFrame:
    """``estimate [low, high]`` text columns for the markdown tables."""
    out = table[keys].copy()
    for m in measures:
        out[m] = [
            "nan" if v != v else f"{v:.2f} [{lo:.2f}, {hi:.2f}]"
            for v, lo, hi in zip(table[m], table[f"{m}_low"], table[f"{m}_high"])
        ]
    return out


def write_study_report(store: TrialStore, study: str, out_dir: Path) -> Path:
    """Tables, plots and ``report.md`` for one study under ``out_dir``; returns the markdown path."""
    spec = store.studies()[study]
    config = ReportConfig(spec.get("report"))
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "plots").mkdir(exist_ok=True)
    lines = [f"# Study `{study}`", ""]
    if spec.get("description"):
        lines += [str(spec["description"]).strip(), ""]
    all_trials = trials_frame(store, None, study)
    expected = len(store.study_keys(study))
    failed = len(store.records(study=study, status="failed"))
    lines += [
        f"Trials: {len(all_trials)} of {expected} finished"
        + (f", {failed} failed (errors in the store)" if failed else "")
        + f"; store `{store.path.name}`.",
        "",
    ]
    if failed:
        failures = pd.DataFrame([{"kind": r.kind, "key": r.key, "attempts": r.attempts, "error": r.error, **r.params}
                                 for r in store.records(study=study, status="failed")])
        failures.to_csv(out_dir / "failed_trials.csv", index=False)
        lines += ["Failed trials (`failed_trials.csv`; rerun the sweep to retry them), by error:", ""]
        for error, count in failures["error"].value_counts().head(10).items():
            lines.append(f"- {count} x `{error}`")
        lines.append("")
    for kind, part in all_trials.groupby("kind") if not all_trials.empty else []:
        part.dropna(axis=1, how="all").to_csv(out_dir / f"trials_{_slug(kind)}.csv", index=False)
        lines.append(f"- `{kind}`: {len(part)} trials, `trials_{_slug(kind)}.csv`")
    lines.append("")
    kinds = set(all_trials["kind"]) if not all_trials.empty else set()
    if {config.scores, config.truth} <= kinds:
        lines += _correlation_section(store, study, config, out_dir)
    timing = timing_table(store, study)
    if not timing.empty:
        timing.to_csv(out_dir / "timing.csv", index=False)
        plots.timing_plot(timing, out_dir / "plots" / "timing.png")
        wide = timing.pivot_table(index=["n", "d"], columns="metric", values="seconds").reset_index()
        lines += ["## Cost of the metrics as n and d grow", "", "Seconds (best of repeats), on the machine that ran the trials.", "",
                  _markdown(wide, digits=4), "![timing](plots/timing.png)", ""]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines))
    return path


def _correlation_section(store: TrialStore, study: str, config: ReportConfig, out_dir: Path) -> list[str]:
    scores = metric_scores(store, study, config)
    truth = ground_truth(store, study, config)
    data = joined(scores, truth, config)
    metrics = config.metrics or [c for c in scores.columns if c not in (config.group, config.candidate, "n", "d", "num_classes", "label_entropy")]
    truths = [t for t in config.truth_metrics if t in data.columns]
    data.to_csv(out_dir / "scores_and_truth.csv", index=False)
    per_group = correlation_table(data, metrics, config)
    lines = [
        "## Metric scores against fine-tuned performance",
        "",
        f"Candidates: `{config.candidate}` ({data[config.candidate].nunique()}), ranked within each "
        f"`{config.group}` ({data[config.group].nunique()}). Ground truth: `{config.truth}` trials, seeds averaged, "
        f"{'best' if config.truth_aggregate == 'best' else 'mean'} over hyperparameters. Intervals: 95% bootstrap "
        f"({config.n_boot} resamples of candidates; of groups for the averages).",
        "",
    ]
    lower = [t for t in truths if not config.higher_is_better(t)]
    if lower:
        lines += [f"Lower is better for {', '.join(f'`{t}`' for t in lower)} (errors): the best setting and the best candidate "
                  "are those with the lowest value; correlations are taken with the negated error, top-1 relative accuracy is "
                  "best error / chosen error and regret is chosen error - best error.", ""]
    if per_group.empty:
        return lines + ["No group has 3 or more candidates with both scores and fine-tuning results.", ""]
    per_group.to_csv(out_dir / "correlations_per_group.csv", index=False)
    aggregate = aggregate_table(per_group, config)
    aggregate.to_csv(out_dir / "correlations.csv", index=False)
    measures = ["pearson", "spearman", "kendall", "weighted_kendall", "top1_relative_accuracy"]
    for truth_name in truths:
        part = aggregate[aggregate["truth"] == truth_name].sort_values("spearman", ascending=False)
        lines += [f"### Against `{truth_name}` (mean over groups)", "", _markdown(_with_interval(part, measures, ["metric", "groups"])), ""]
        for measure in ("spearman", "weighted_kendall"):
            name = f"bars_{measure}_{_slug(truth_name)}.png"
            plots.correlation_bars(aggregate, measure, truth_name, out_dir / "plots" / name)
            lines.append(f"![{measure} vs {truth_name}](plots/{name})")
        lines.append("")
    if "note" in per_group.columns:
        constant = per_group[per_group["note"] == "metric constant within the group"]
        first_truth = constant[constant["truth"] == truths[0]] if truths else constant
        for metric, part in first_truth.groupby("metric"):
            lines += [f"- `{metric}` is constant (to a relative 1e-5) in {len(part)} of {per_group['group'].nunique()} groups "
                      f"({', '.join(map(str, part['group']))}): it ranks nothing there, and those groups are left out of its averages."]
        if len(first_truth):
            lines.append("")
    spearman = per_group.pivot_table(index=["truth", "group"], columns="metric", values="spearman").reset_index()
    lines += ["### Spearman correlation per group", "", _markdown(spearman, digits=2), ""]
    if {"h_score", "shrinkage_h_score", "n", "d"} <= set(data.columns):
        lines += _hscore_section(data, per_group, config)
    lines += ["### Metric against fine-tuned score", ""]
    for metric in metrics:
        for truth_name in truths[:1]:
            name = f"scatter_{_slug(metric)}_{_slug(truth_name)}.png"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plots.scatter_metric_vs_truth(data, metric, truth_name, config.group, config.candidate, out_dir / "plots" / name)
            lines.append(f"![{metric}](plots/{name})")
    lines.append("")
    return lines


def _hscore_section(data: pd.DataFrame, per_group: pd.DataFrame, config: ReportConfig) -> list[str]:
    """H-score against H_alpha per group, with the group's n/d: where plain H-score should break."""
    ratio = data.groupby(config.group)[["n", "d"]].mean()
    ratio["n_over_d"] = ratio["n"] / ratio["d"]
    pivot = per_group[per_group["metric"].isin(["h_score", "shrinkage_h_score"])].pivot_table(
        index=["group", "truth"], columns="metric", values="spearman"
    ).reset_index()
    table = pivot.merge(ratio, left_on="group", right_index=True).sort_values("n_over_d")
    return [
        "### H-score against shrinkage H-score (H_alpha) by n/d",
        "",
        "Spearman correlation with fine-tuned performance; the paper expects plain H-score to degrade when n is small relative to d.",
        "",
        _markdown(table, digits=2),
        "",
    ]


def write_report(store_path: str | Path, out_dir: str | Path, study: str | None = None) -> list[Path]:
    """Write a report per study (or only ``study``) into ``out_dir/<study>/``; returns the markdown paths.

    Raises:
        FileNotFoundError: no store at ``store_path``.
        ValueError: the store holds no study, or not ``study`` (names those it holds).
    """
    with TrialStore(store_path, create=False) as store:
        studies = sorted(store.studies())
        if not studies:
            raise ValueError(f"{store_path} holds no study yet; run `gtransfer sweep SPEC --store {store_path}` first")
        if study is not None and study not in studies:
            raise ValueError(f"study {study!r} is not in {store_path}; it holds {studies}")
        chosen = [study] if study is not None else studies
        return [write_study_report(store, name, Path(out_dir) / _slug(name)) for name in chosen]
