"""``write_report``: a study's markdown report with CSV tables and PNG plots.

For every study in the store whose trials include its ``scores`` and ``truth`` kinds (see
:mod:`gtransfer.studies.report.tables`), the report has: the correlation of every metric with fine-tuned
performance (Pearson, Spearman, Kendall, weighted Kendall, top-1 relative accuracy, regret) per group
and averaged over groups, with bootstrap intervals; a scatter plot per metric; correlation bars; and,
when the study has ``metric_timing`` trials, the cost of the metrics as n and d grow. Every trial kind
is also written out as a CSV of all its finished trials. NCE, LEEP and their corrections are named
with their source: a section lists, per candidate, what they were computed from (a source head, the
k-means stand-in, or none), and their rows in the correlation tables carry a ``source`` column.
"""

from __future__ import annotations

import datetime
import time
import warnings
from pathlib import Path

import pandas as pd

from gtransfer.io.atomic import atomic_folder, writable_folder
from gtransfer.io.names import safe_name
from gtransfer.studies.report import plots
from gtransfer.studies.report.tables import (
    DESCRIPTIVE_COLUMNS,
    SOURCE_COLUMNS,
    ReportConfig,
    aggregate_table,
    correlation_table,
    ground_truth,
    joined,
    metric_scores,
    nce_leep_sources,
    source_summary,
    timing_table,
    trials_frame,
)
from gtransfer.studies.store import TrialStore

__all__ = ["write_report", "write_study_report", "pick_table", "truth_label"]


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


def _with_interval(table: pd.DataFrame, measures: list[str], keys: list[str], group: str = "group") -> pd.DataFrame:
    """``estimate [low, high]`` text columns for the markdown tables.

    A mean over one group has no interval over groups (resampling one value gives it back, a
    zero-width "interval" that looks like certainty): it is shown as ``n/a (1 <group>)``.
    """
    out = table[keys].copy()
    single = table["groups"].to_numpy() <= 1 if "groups" in table.columns else [False] * len(table)
    for m in measures:
        out[m] = [
            "nan" if v != v else (f"{v:.2f} [n/a (1 {group})]" if one else f"{v:.2f} [{lo:.2f}, {hi:.2f}]")
            for v, lo, hi, one in zip(table[m], table[f"{m}_low"], table[f"{m}_high"], single)
        ]
    return out


def truth_label(config: ReportConfig) -> str:
    """What the ground truth is, in words: "fine-tuned", "linear-probe" or the truth kind's name."""
    kind = config.truth.lower()
    if "finetune" in kind or "fine_tune" in kind:
        return "fine-tuned"
    if "probe" in kind:
        return "linear-probe"
    return f"`{config.truth}`"


def write_study_report(store: TrialStore, study: str, out_dir: Path, *, progress: bool = False) -> Path:
    """Tables, plots and ``report.md`` for one study under ``out_dir``; returns the markdown path.

    The report is built in a staging folder beside ``out_dir`` that replaces it once complete
    (:func:`gtransfer.io.atomic.atomic_folder`): an error or a full disk midway leaves the previous
    report as it was, never a folder of CSVs without its ``report.md``.
    """
    out_dir = Path(out_dir)
    from tqdm.auto import tqdm

    with tqdm(total=len(_STAGES), desc=f"report {study}", unit="part", disable=not progress,
              dynamic_ncols=True) as bar, atomic_folder(out_dir) as staging:
        _fill_study_report(store, study, staging, bar)
    return out_dir / "report.md"


#: the parts of a study's report, in order, as its progress bar names them
_STAGES = ("trials", "NCE/LEEP sources", "correlations and bootstrap intervals", "timing")


def _stage(bar: object, done: str) -> None:
    """Mark ``done`` finished on the bar and name the next part (the correlations take most of the time)."""
    index = _STAGES.index(done)
    bar.update(1)  # type: ignore[attr-defined]
    if index + 1 < len(_STAGES):
        bar.set_postfix_str(_STAGES[index + 1])  # type: ignore[attr-defined]


def _fill_study_report(store: TrialStore, study: str, out_dir: Path, bar: object) -> None:
    spec = store.studies()[study]
    config = ReportConfig(spec.get("report"))
    (out_dir / "plots").mkdir(exist_ok=True)
    lines = [f"# Study `{study}`", ""]
    if spec.get("description"):
        lines += [str(spec["description"]).strip(), ""]
    all_trials = trials_frame(store, study=study)
    expected = len(store.study_keys(study))
    failed = len(store.records(study=study, status="failed"))
    lines += [
        f"Trials: {len(all_trials)} of {expected} finished"
        + (f", {failed} failed (errors in the store)" if failed else "")
        + f"; store `{store.path.name}`.",
        "",
        *_run_section(store, study, spec),
    ]
    if failed:
        failures = pd.DataFrame([{"kind": r.kind, "key": r.key, "attempts": r.attempts, "error": r.error, **r.params}
                                 for r in store.records(study=study, status="failed")])
        failures.to_csv(out_dir / "failed_trials.csv", index=False)
        lines += ["Failed trials (`failed_trials.csv`; rerun the sweep to retry them), by error:", ""]
        for error, count in failures["error"].value_counts().head(10).items():
            first, _, rest = str(error).partition("\n")
            lines.append(f"- {count} x `{first}`")
            if rest:  # the whole message: its later lines name the paths tried and the fix
                lines += ["", "  ```", *(f"  {line}" for line in rest.splitlines()), "  ```"]
        lines.append("")
    for kind, part in all_trials.groupby("kind") if not all_trials.empty else []:
        part.dropna(axis=1, how="all").to_csv(out_dir / f"trials_{safe_name(kind)}.csv", index=False)
        lines.append(f"- `{kind}`: {len(part)} trials, `trials_{safe_name(kind)}.csv`")
    lines.append("")
    _stage(bar, "trials")
    sources = nce_leep_sources(store, study, config)
    if not sources.empty:
        sources.to_csv(out_dir / "nce_leep_sources.csv", index=False)
        lines += [
            "## Where NCE and LEEP come from",
            "",
            "NCE, LEEP and their corrections (" + ", ".join(f"`{c}`" for c in SOURCE_COLUMNS) + ") read source-model "
            "probabilities on the target. `source head` is the encoder's own source classifier (the papers' "
            "definition); "
            "`kmeans-stand-in` clusters the target's own embeddings (not a source model); `none` means the encoder "
            "has no "
            "source head and the values are NaN.",
            "",
            _markdown(sources),
            "",
        ]
    _stage(bar, "NCE/LEEP sources")
    kinds = set(all_trials["kind"]) if not all_trials.empty else set()
    if {config.scores, config.truth} <= kinds:
        lines += _correlation_section(store, study, config, out_dir)
    _stage(bar, "correlations and bootstrap intervals")
    timing = timing_table(store, study)
    if not timing.empty:
        timing.to_csv(out_dir / "timing.csv", index=False)
        plots.timing_plot(timing, out_dir / "plots" / "timing.png")
        wide = timing.pivot_table(index=["n", "d"], columns="metric", values="seconds").reset_index()
        lines += [
            "## Cost of the metrics as n and d grow",
            "",
            "Seconds (best of repeats), on the machine that ran the trials.",
            "",
            _markdown(wide, digits=4),
            "![timing](plots/timing.png)",
            "",
        ]
    _stage(bar, "timing")
    (out_dir / "report.md").write_text("\n".join(lines))  # inside the staging folder: atomic with it


def _correlation_section(store: TrialStore, study: str, config: ReportConfig, out_dir: Path) -> list[str]:
    scores = metric_scores(store, study, config)
    truth = ground_truth(store, study, config)
    data = joined(scores, truth, config)
    metrics = config.metrics or [
        c for c in scores.columns if c not in (config.group, config.candidate, *DESCRIPTIVE_COLUMNS)
    ]
    truths = [t for t in config.truth_metrics if t in data.columns]
    data.to_csv(out_dir / "scores_and_truth.csv", index=False)
    per_group = correlation_table(data, metrics, config)
    truth_words = truth_label(config)
    groups = data[config.group].nunique()
    lines = [
        f"## Metric scores against {truth_words} performance",
        "",
        f"Candidates: `{config.candidate}` ({data[config.candidate].nunique()}), ranked within each "
        f"`{config.group}` ({groups}). Ground truth: {truth_words} performance (`{config.truth}` trials), seeds "
        "averaged, "
        f"{'best' if config.truth_aggregate == 'best' else 'mean'} over hyperparameters. Intervals: 95% bootstrap "
        f"({config.n_boot} resamples of candidates within a {config.group}"
        + (
            "; of groups for the means over groups)."
            if groups > 1
            else f"; with one {config.group} the mean has no interval: n/a)."
        ),
        "",
    ]
    lower = [t for t in truths if not config.higher_is_better(t)]
    if lower:
        lines += [
            f"Lower is better for {', '.join(f'`{t}`' for t in lower)} (errors): the best setting and the best "
            "candidate "
            "are those with the lowest value; correlations are taken with the negated error, top-1 relative accuracy "
            "is "
            "best error / chosen error and regret is chosen error - best error.",
            "",
        ]
    if per_group.empty:
        return lines + ["No group has 3 or more candidates with both scores and fine-tuning results.", ""]
    per_group.to_csv(out_dir / "correlations_per_group.csv", index=False)
    aggregate = aggregate_table(per_group, config)
    aggregate.to_csv(out_dir / "correlations.csv", index=False)
    measures = ["pearson", "spearman", "kendall", "weighted_kendall", "top1_relative_accuracy"]
    summary = source_summary(nce_leep_sources(store, study, config), config)
    for truth_name in truths:
        part = aggregate[aggregate["truth"] == truth_name].sort_values("spearman", ascending=False)
        table = _with_interval(part, measures, ["metric", "groups"], config.group)
        if summary and part["metric"].isin(SOURCE_COLUMNS).any():
            table.insert(1, "source", [summary if m in SOURCE_COLUMNS else "" for m in part["metric"]])
        lines += [f"### Against {truth_words} `{truth_name}` (mean over {config.group}s)", "", _markdown(table), ""]
        for measure in ("spearman", "weighted_kendall"):
            name = f"bars_{measure}_{safe_name(truth_name)}.png"
            plots.correlation_bars(aggregate, measure, truth_name, out_dir / "plots" / name)
            lines.append(f"![{measure} vs {truth_name}](plots/{name})")
        lines.append("")
    if "note" in per_group.columns:
        constant = per_group[per_group["note"] == "metric constant within the group"]
        first_truth = constant[constant["truth"] == truths[0]] if truths else constant
        for metric, part in first_truth.groupby("metric"):
            lines += [
                f"- `{metric}` is constant (to a relative 1e-5) in {len(part)} of {per_group['group'].nunique()} "
                "groups "
                f"({', '.join(map(str, part['group']))}): it ranks nothing there, and those groups are left out of "
                "its averages."
            ]
        if len(first_truth):
            lines.append("")
    spearman = per_group.pivot_table(index=["truth", "group"], columns="metric", values="spearman").reset_index()
    lines += [f"### Spearman correlation per {config.group}", "", _markdown(spearman, digits=2), ""]
    if truths:
        picks = pick_table(data, metrics, truths[0], config)
        picks.to_csv(out_dir / "picks.csv", index=False)
        lines += [
            f"### Each metric's pick against the best `{config.candidate}` per {config.group} ({truth_words} "
            f"`{truths[0]}`)",
            "",
            f"A cell is the {config.candidate} the metric scores highest, with its {truths[0]}; **best** marks the "
            "true best. "
            "A metric constant over the candidates picks nothing.",
            "",
            _markdown(picks),
            "",
        ]
    if {"h_score", "shrinkage_h_score", "n", "d"} <= set(data.columns):
        lines += _hscore_section(data, per_group, config)
    lines += [f"### Metric against {truth_words} score", ""]
    for metric in metrics:
        for truth_name in truths[:1]:
            name = f"scatter_{safe_name(metric)}_{safe_name(truth_name)}.png"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                plots.scatter_metric_vs_truth(
                    data,
                    metric,
                    truth_name,
                    config.group,
                    config.candidate,
                    out_dir / "plots" / name,
                    truth_words=truth_words.strip("`"),
                )
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
        f"Spearman correlation with {truth_label(config)} performance; the paper expects plain H-score to degrade "
        "when n is small "
        "relative to d.",
        "",
        _markdown(table, digits=2),
        "",
    ]


def pick_table(data: pd.DataFrame, metrics: list[str], truth: str, config: ReportConfig) -> pd.DataFrame:
    """Per group: the true best candidate, and each metric's pick with its truth value (``= best`` when it is)."""
    from gtransfer.evaluation import numerically_constant

    rows = []
    for group, part in data.groupby(config.group, sort=True):
        part = part.reset_index(drop=True)
        values = part[truth].to_numpy(dtype=float)
        if not (values == values).any():
            continue
        best = int(pd.Series(values).idxmax())
        row = {config.group: group, "best": f"{part.loc[best, config.candidate]} ({values[best]:.3f})"}
        for metric in metrics:
            scores = part[metric].to_numpy(dtype=float)
            if not (scores == scores).all():
                row[metric] = "n/a (non-finite)"
            elif numerically_constant(scores):
                row[metric] = "constant: no pick"
            else:
                chosen = int(pd.Series(scores).idxmax())
                row[metric] = (
                    "**best**"
                    if part.loc[chosen, config.candidate] == part.loc[best, config.candidate]
                    else (f"{part.loc[chosen, config.candidate]} ({values[chosen]:.3f})")
                )
        rows.append(row)
    return pd.DataFrame(rows)


def _run_section(store: TrialStore, study: str, spec: dict) -> list[str]:
    """What was run: the code that wrote the report, when the study's trials finished, and the spec itself."""
    import yaml

    from gtransfer.io.provenance import code_version

    finished = [r.finished_at for r in store.records(study=study)]
    when = (
        f"trials finished {_utc(min(finished))} to {_utc(max(finished))}" if finished else "no trial finished yet"
    )
    settings = yaml.safe_dump(spec, sort_keys=True, default_flow_style=False).rstrip()
    return [
        "## What was run",
        "",
        f"Report written {_utc(time.time())} by gtransfer {code_version()}; {when}. The study's spec, as the store "
        "holds it:",
        "",
        "```yaml",
        *settings.splitlines(),
        "```",
        "",
    ]


def _utc(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def write_report(
    store_path: str | Path, out_dir: str | Path, *, study: str | None = None, progress: bool = False
) -> list[Path]:
    """Write a report per study (or only ``study``) into ``out_dir/<study>/``; returns the markdown paths.

    The folder is :func:`gtransfer.io.names.safe_name` of the study's name: the name itself when it
    is plain (letters, digits, ``_ - .``), else a slug with a short hash, so that two studies never
    share a folder and no name (``..``, ``a/b``) leads outside ``out_dir``. The store is opened
    read-only when it cannot be written.

    Raises:
        FileNotFoundError: no store at ``store_path``.
        ValueError: the store holds no study, or not ``study`` (names those it holds).
    """
    writable_folder(out_dir, what="the report folder")
    with TrialStore(store_path, create=False, read_only=None) as store:
        studies = sorted(store.studies())
        if not studies:
            raise ValueError(f"{store_path} holds no study yet; run `gtransfer sweep SPEC --store {store_path}` first")
        if study is not None and study not in studies:
            raise ValueError(f"study {study!r} is not in {store_path}; it holds {studies}")
        chosen = [study] if study is not None else studies
        return [write_study_report(store, name, Path(out_dir) / safe_name(name), progress=progress) for name in chosen]
