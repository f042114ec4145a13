"""Decide the paper's claims on the evaluation layer from the committed reports; write one page per claim.

Claims of Ibrahim, Ponomareva and Mazumder (ECML-PKDD 2022), decided on graphs:

(a)  H-score's weakness is covariance estimation: H_alpha ranks encoders better than H-score;
(a') ... most where n is small against d;
(b)  H_alpha is competitive with LogME in source selection;
(c)  H_alpha is 3-10x faster than LogME;
(d)  in target selection NCE and LEEP look good because targets differ in label count and imbalance.

Each rule is a committed spec (``<pages>/specs/*.yaml``: truth, measure, unit, margin, exclusion, placebos) whose
digest the page prints, checked against the store's first trial (``first_trial_at`` in ``--runs``). Every rule
runs on its placebos, intervals come from the hierarchical bootstrap (datasets, then tasks), every metric is shown
with Pearson, Spearman, Kendall, weighted Kendall and top-1 relative accuracy and its gain over the best
target-agnostic baseline, and every verdict with its stability (gtransfer.evaluation, docs/evaluation.md).

    python experiments/claims.py --reports docs/results --runs docs/results/claims/runs.yaml --pages docs/results/claims

The same claims on images ((a), (a'), (b), (d); (c) is timing, not image-specific) come from the vision medium
preset's reports (``experiments/vision_medium.py``), listed apart from the graph inputs in ``--vision-runs``
(``docs/results/claims/runs-vision.yaml``), decided by the same functions with the specs ``specs/*-vision.yaml``
(registered before the preset's first trial, which is read from its committed store) and written as
``claim-a-vision.md``, ``claim-b-vision.md``, ``claim-d-vision.md`` and their rows after the graph rows of the table:

    python experiments/claims.py --runs docs/results/claims/runs.yaml \
        --vision-runs docs/results/claims/runs-vision.yaml --summary FILE
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from gtransfer.evaluation import (
    ClaimSpec,
    ClaimVerdict,
    Decision,
    Setup,
    baseline_measures,
    check_registration,
    dataset_of,
    decide_claim,
    exclude_groups,
    gain_over_baselines,
    hierarchical_bootstrap,
    load_claim_spec,
    per_group_measure,
    perturbed_setups,
    random_measure,
    reliability_per_group,
    rule_verdict,
    spec_digest,
    verdict_stability,
)
from gtransfer.studies.claims import (
    TimingClaim,
    geometric_mean_interval,
    load_timing_claim,
    partial_spearman,
    per_group_slope,
    ties_as_constant,
)
from gtransfer.studies.designs.vision_medium import SOURCE_FINETUNE, STRATA, TARGET_FINETUNE

SIZES = ("50", "100", "300", "1000", "all")
H, H_ALPHA, LOGME = "h_score", "shrinkage_h_score", "logme"
SOURCE_METRICS = (H_ALPHA, H, LOGME, "gbc", "transrate", "knn_accuracy")
TARGET_METRICS = ("nce", "leep", "nce_normalized", "leep_normalized", H_ALPHA, LOGME)
SHOWN_MEASURES = ("spearman", "pearson", "kendall", "weighted_kendall", "top1_relative_accuracy")
PAPER = "Ibrahim, Ponomareva, Mazumder, ECML-PKDD 2022"
#: resamples of the stability setups' verdicts (each setup's verdict is recomputed; the registered rule uses n_boot)
STABILITY_BOOT = 2000
PROVISIONAL = ("**Provisional.** The rules judged on the 2026-12-02 reports were written on 2026-12-07, after those "
               "reports, so they were fixed with the data in hand. The rules of the new truths (issue 25 item 3: "
               "multi-task fine-tuning with 3 seeds; target selection on disjoint source heads with a balanced truth; "
               "the sections 'On the ... truth' below) were fixed on 2026-12-07 at 19:10 UTC, before any metric was "
               "scored against those truths and, for (d), before the target truth's first trial; they weigh more.")


# -- reading the reports --------------------------------------------------------------------------------------------
def _frame(reports: Path, study: str) -> pd.DataFrame:
    path = reports / study / "scores_and_truth.csv"
    if not path.exists():
        raise SystemExit(f"no report {path}: run the medium presets and commit their reports first")
    return pd.read_csv(path)


def _source_frame(reports: Path, study: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    return ties_as_constant(_frame(reports, study), [m for m in SOURCE_METRICS], group="target")


def _datasets(groups) -> list[str]:
    return [dataset_of(g) for g in groups]


def _interval(values: pd.Series, *, unit: str = "dataset", n_boot: int = 10_000, seed: int = 0):
    return hierarchical_bootstrap(values.to_numpy(np.float64), datasets=_datasets(values.index), unit=unit,
                                  n_boot=n_boot, seed=seed)


def _run_lines(runs: Mapping, *names: str) -> list[str]:
    lines = []
    for name in names:
        run = runs.get(name)
        if run:
            notes = f" ({run['notes']})" if run.get("notes") else ""
            lines.append(f"- `{run['command']}` on {run['hardware']}, {run['date']}: {run['wall_minutes']} minutes of "
                         f"wall time{notes}.")
    return lines or ["- (not recorded)"]


# -- the pieces every page shows ------------------------------------------------------------------------------------
def _rule_lines(spec: ClaimSpec | TimingClaim, first_trial_at: str | None) -> list[str]:
    check = check_registration(spec, first_trial_at)  # type: ignore[arg-type]  # a TimingClaim digests alike
    rule = {k: v for k, v in spec.rule().items() if k != "statement"}
    return [f"Rule `{spec.claim}`: {spec.statement}", "",
            f"Spec `specs/{_spec_file(spec.claim)}`, digest `{spec_digest(spec)}` "  # type: ignore[arg-type]
            f"({', '.join(f'{k}: {v}' for k, v in rule.items())}).", "", check.line()]


def _spec_file(claim: str) -> str:
    return claim.replace("'", "-prime") + ".yaml"


def _placebo_verdict_lines(result: ClaimVerdict, old_unit: ClaimVerdict | None = None) -> list[str]:
    lines = list(result.lines())
    if not result.broken:
        lines.append(f"Every placebo fails the rule ({', '.join(result.placebos)}): the rule is sound against them.")
    if old_unit is not None:
        lines.append(f"- the same rule with the old unit (tasks resampled as one pool, as the 2026-12-02 pages did): "
                     f"**{old_unit.verdict}** ({old_unit.interval}); placebos: "
                     + "; ".join(f"{n} {v} ({i})" for n, (v, i) in old_unit.placebos.items())
                     + (" -- **broken with the task-level unit**" if old_unit.broken else ""))
    return lines


def _measure_table(frame: pd.DataFrame, truth: str, metrics: tuple[str, ...], *, group: str, baselines: Callable,
                   datasets: Mapping[str, str] | None = None) -> list[str]:
    """Mean of each measure over groups (dataset-level interval) and the gain over the best baseline."""
    rows, gains, names_of_baselines, units = [], [], [], ""
    for measure in SHOWN_MEASURES:
        if measure == "top1_relative_accuracy" and (frame[truth] <= 0).any():
            rows.append(f"| {measure} | undefined: {int((frame[truth] <= 0).sum())} candidates have {truth} <= 0, "
                        "so a ratio to the best is no accuracy |" + " |" * (len(metrics) + 1))
            continue
        try:
            per_group = {m: per_group_measure(frame, m, truth, group=group, measure=measure) for m in metrics}
            base = baselines(measure)
        except ValueError as error:  # top-1 relative accuracy of a truth whose best is <= 0
            rows.append(f"| {measure} | undefined here: {error} |" + " |" * (len(metrics) + 1))
            continue
        per_group.update(base)
        names_of_baselines = names_of_baselines or list(base)
        names = [*metrics, *base]
        cells = []
        for name in names:
            values = per_group[name]
            labels = [(datasets or {}).get(g, dataset_of(g)) for g in values.index]
            interval = hierarchical_bootstrap(values.to_numpy(), datasets=labels, n_boot=10_000, seed=0)
            cells.append(f"{interval.estimate:+.2f} [{interval.low:+.2f}, {interval.high:+.2f}]")
        rows.append(f"| {measure} | " + " | ".join(cells) + " |")
        for metric in metrics:
            gain = gain_over_baselines(per_group, metric, list(base), measure=measure, datasets=datasets)
            gains.append((measure, metric, gain))
        units = interval.units()
    header = ["measure", *metrics, *names_of_baselines]
    lines = [f"Mean over groups of each measure with {truth.split('/')[-1]}, 95% intervals ({units}); the last "
             "columns are the target-agnostic baselines:", "",
             "| " + " | ".join(header) + " |", "| " + " | ".join("---" for _ in header) + " |", *rows, "",
             "Each metric's gain over the best baseline (chosen per measure by its mean, on the same data):", "",
             "| measure | " + " | ".join(metrics) + " |", "| --- | " + " | ".join("---" for _ in metrics) + " |"]
    for measure in SHOWN_MEASURES:
        found = [g for g in gains if g[0] == measure]
        if found:
            best = found[0][2].best
            lines.append(f"| {measure} (best: {best}) | "
                         + " | ".join(f"{g.gain.estimate:+.2f} [{g.gain.low:+.2f}, {g.gain.high:+.2f}]"
                                      for _, _, g in found) + " |")
    return lines


def _source_baselines(frame: pd.DataFrame, truth: str) -> Callable:
    return lambda measure: baseline_measures(frame, truth, measure=measure)


def _said(result: ClaimVerdict) -> str:
    """A verdict as the tables say it: a broken rule's verdict carries nothing, and says so."""
    return f"{result.verdict}, but the rule is broken" if result.broken else result.verdict


def _stability_line(stability) -> str:
    text = str(stability)
    if math.isnan(stability.kendalls_w):  # one statistic: there is no ordering of metrics to compare
        text = text.split("; metric orderings")[0] + "; one statistic, so no ordering of metrics"
    return f"Stability: {text}."


# -- claims (a), (a'), (b) ------------------------------------------------------------------------------------------
def _source_decider(minus: str, margin: float, unit: str = "dataset") -> Callable[[pd.DataFrame, str], Decision]:
    def decide(frame: pd.DataFrame, truth: str) -> Decision:
        per_group = {m: per_group_measure(frame, m, truth) for m in SOURCE_METRICS}
        interval = _interval(per_group[H_ALPHA] - per_group[minus], unit=unit, n_boot=STABILITY_BOOT)
        return Decision(rule_verdict(interval, margin), {m: float(v.mean()) for m, v in per_group.items()})
    return decide


def _decide_source(spec: ClaimSpec, frame: pd.DataFrame, truth: str) -> tuple[ClaimVerdict, ClaimVerdict]:
    per_group = {m: per_group_measure(frame, m, truth, measure=spec.measure) for m in (spec.metric, spec.minus)}
    per_group.update(baseline_measures(frame, truth, measure=spec.measure))
    return decide_claim(spec, per_group), decide_claim(dataclasses.replace(spec, unit="task"), per_group)


def _slopes(frame: pd.DataFrame, truth: str, placebos: tuple[str, ...] = ()) -> dict[str, pd.Series]:
    """Claim (a')'s values per target: the slope over its cells (``cell``: target and score size) of each ranker's
    Spearman against log(n/d) (``n`` and ``d`` of the cell), for H_alpha, H-score and the named placebos."""
    log_ratio = np.log(frame.groupby("cell")["n"].first() / frame.groupby("cell")["d"].first())
    per_cell = {m: per_group_measure(frame, m, truth, group="cell") for m in (H_ALPHA, H)}
    if placebos:
        per_cell.update({k: v for k, v in baseline_measures(frame.assign(target=frame["cell"]), truth, group="cell",
                                                            dataset="dataset").items() if k in placebos})
    target_of = pd.Series([c.split("|")[0] for c in log_ratio.index], index=log_ratio.index)
    return {m: per_group_slope(v.reindex(log_ratio.index), log_ratio, target_of) for m, v in per_cell.items()}


def _slope_decider() -> Callable[[pd.DataFrame, str], Decision]:
    def decide(frame: pd.DataFrame, truth: str) -> Decision:
        values = _slopes(frame, truth)
        interval = _interval(values[H_ALPHA] - values[H], n_boot=STABILITY_BOOT)
        return Decision(rule_verdict(interval, 0.0, direction="below"), {m: float(v.mean()) for m, v in values.items()})
    return decide


def _probe_finetune_agreement(probe: pd.DataFrame, finetune: pd.DataFrame) -> str:
    from scipy.stats import spearmanr

    joined = probe[["target", "encoder", "test_roc_auc"]].merge(
        finetune[["target", "encoder", "test_roc_auc"]], on=["target", "encoder"], suffixes=("_probe", "_ft"))
    rhos = joined.groupby("target").apply(lambda p: spearmanr(p["test_roc_auc_probe"], p["test_roc_auc_ft"]).statistic,
                                          include_groups=False)
    return (f"per target, the probe truth and the fine-tuning truth agree at Spearman {rhos.mean():+.2f} on average "
            f"over the {len(rhos)} targets both have (range {rhos.min():+.2f} to {rhos.max():+.2f})")


def source_pages(reports: Path, specs: Path, runs: Mapping, plots: Path) -> tuple[dict[str, str], dict]:
    frames, tied = {}, {}
    for size in SIZES:
        frames[size], tied[size] = _source_frame(reports, f"source-selection-medium-n{size}")
    finetune, _ = _source_frame(reports, "source-selection-medium-finetune")
    truth = "test_roc_auc"
    first = runs.get("source-selection-medium", {}).get("first_trial_at")
    whole = frames["all"]
    n_datasets, n_targets = whole["target"].map(dataset_of).nunique(), whole["target"].nunique()
    agreement = _probe_finetune_agreement(whole, finetune)
    probe_truth = (f"Truth: the linear probe (C = 0.1, one fit on all training molecules, scaffold test ROC-AUC) of "
                   f"21 encoders on {n_targets} targets from {n_datasets} datasets (27 SIDER and 12 Tox21 tasks share "
                   "their molecules, so the dataset is the unit). **Reliability: not measurable** -- the probe truth "
                   f"has no seeds, so no split-half agreement and no ceiling; {agreement}. No exclusion rule could be "
                   "applied: the reports hold neither test positives nor seeds.")
    score_samples = {f"n = {s}": frames[s] for s in SIZES[:-1]}

    # (a)
    spec_a = load_claim_spec(specs / "a.yaml")
    a, a_task = _decide_source(spec_a, whole, truth)
    setups = perturbed_setups(whole, truth, leave_out=3, candidate_draws=20, score_samples=score_samples)
    stab_a = verdict_stability(setups, _source_decider(H, spec_a.margin))
    # (a'): slope of the gain against log(n/d) over cells with n > d; n = 50 vs all as the secondary line
    spec_ap = load_claim_spec(specs / "a-prime.yaml")
    cells = pd.concat([frames[s].assign(size=s) for s in SIZES], ignore_index=True)
    cells = cells[cells["n"] > cells["d"]].copy()
    cells["cell"] = cells["target"] + "|n=" + cells["size"]
    cells["dataset"] = cells["target"].map(dataset_of)
    ap_values = _slopes(cells, truth, spec_ap.placebos)
    a_prime = decide_claim(spec_ap, ap_values)
    a_prime_task = decide_claim(dataclasses.replace(spec_ap, unit="task"), ap_values)
    stab_ap = verdict_stability(perturbed_setups(cells, truth, leave_out=3, candidate_draws=20, dataset="dataset"),
                                _slope_decider())
    small = per_group_measure(frames["50"], H_ALPHA, truth) - per_group_measure(frames["50"], H, truth)
    large = per_group_measure(whole, H_ALPHA, truth) - per_group_measure(whole, H, truth)
    secondary = _interval(small - large)
    gains_by_size = {s: _interval(per_group_measure(frames[s], H_ALPHA, truth) - per_group_measure(frames[s], H, truth))
                     for s in SIZES}
    plot_sizes(frames, gains_by_size, plots / "sizes.png")
    measures = _measure_table(whole, truth, SOURCE_METRICS, group="target", baselines=_source_baselines(whole, truth))
    n_over_d = {s: float((frames[s]["n"] / frames[s]["d"]).mean()) for s in SIZES}

    page_a = [
        "# Claim (a): H-score's weakness is covariance estimation (and (a'): most where n is small against d)", "",
        f"{PAPER}: shrinking H-score's covariance (H_alpha, Ledoit-Wolf) gains up to 80% absolute correlation over "
        "H-score, most where the number of samples n is small against the feature dimension d.", "",
        PROVISIONAL, "",
        f"**Verdict (a): {_said(a)}; (a'): {_said(a_prime)}.**", "",
        "## (a) H_alpha against H-score, all training molecules", "",
        *_rule_lines(spec_a, first), "", probe_truth, "",
        *_placebo_verdict_lines(a, a_task), "",
        _stability_line(stab_a), "",
        "Gain per score size (dataset-level intervals): "
        + "; ".join(f"n = {s} (mean n/d {n_over_d[s]:.2f}): {gains_by_size[s]}" for s in SIZES)
        + ". Targets where H-score tied every encoder (it saturates at C - 1 when n <= d; counted as no ranking, 0): "
        + ", ".join(f"n = {s}: {len(tied[s][H])}" for s in SIZES) + ".", "",
        *measures, "",
        "![gain against n/d](plots/sizes.png)", "",
        "## (a') the gain against log(n/d), within target", "",
        *_rule_lines(spec_ap, first), "",
        f"Cells with n > d: {len(cells['cell'].unique())} ({cells['target'].nunique()} targets x the sizes "
        f"{', '.join(sorted(cells['size'].unique(), key=SIZES.index))}; n = 300 has n = d and is left out).", "",
        *_placebo_verdict_lines(a_prime, a_prime_task), "",
        _stability_line(stab_ap), "",
        f"Secondary (the 2026-12-02 contrast, which mixes in H-score's degeneracy at n <= d): the gain at n = 50 minus "
        f"the gain with all training molecules, paired by target: {secondary} ({rule_verdict(secondary, 0.0)} for "
        "'larger at small n').", "",
        "What was run:", *_run_lines(runs, "source-selection-medium"),
    ]

    # (b)
    spec_bp, spec_bf = load_claim_spec(specs / "b-probe.yaml"), load_claim_spec(specs / "b-finetune.yaml")
    bp, bp_task = _decide_source(spec_bp, whole, truth)
    bf, bf_task = _decide_source(spec_bf, finetune, truth)
    stab_bp = verdict_stability(setups, _source_decider(LOGME, spec_bp.margin))
    stab_bf = verdict_stability(perturbed_setups(finetune, truth, leave_out=3, candidate_draws=20),
                                _source_decider(LOGME, spec_bf.margin))
    usable = [r.verdict for r in (bp, bf) if not r.broken]
    overall = usable[0] if len(usable) == 2 and usable[0] == usable[1] else (
        "contradicted" if "contradicted" in usable else "inconclusive")
    page_b = [
        "# Claim (b): H_alpha is competitive with LogME in source selection", "",
        f"{PAPER}: H_alpha's correlation with transfer performance is competitive with LogME's.", "",
        PROVISIONAL, "",
        f"**Verdict: {overall}** (probe truth: {_said(bp)}; fine-tuning truth: {_said(bf)}; the claim is "
        "reproduced only when both truths reproduce it under sound rules).", "",
        "## Linear-probe truth", "", *_rule_lines(spec_bp, first), "", probe_truth, "",
        *_placebo_verdict_lines(bp, bp_task), "", _stability_line(stab_bp), "",
        "## Fine-tuning truth", "", *_rule_lines(spec_bf, first), "",
        f"Truth: full fine-tuning (4 epochs, 500 molecules per target, seed 0) of the 21 encoders on "
        f"{finetune['target'].nunique()} targets from {finetune['target'].map(dataset_of).nunique()} datasets. "
        "**Reliability: not measurable** -- one seed (the second was dropped to fit the CPU run); issue 25 counts 2 "
        "test "
        "positives on Tox21:0 and 3 on ClinTox:0 and SIDER:6, and 4 of the 8 targets average ROC-AUC 0.49-0.57, so "
        f"this truth is weak; {agreement}.", "",
        *_placebo_verdict_lines(bf, bf_task), "", _stability_line(stab_bf), "",
        *_measure_table(finetune, truth, SOURCE_METRICS, group="target", baselines=_source_baselines(finetune, truth)),
        "", "What was run:", *_run_lines(runs, "source-selection-medium"),
    ]
    summary = {"a": (a, stab_a), "a'": (a_prime, stab_ap), "b-probe": (bp, stab_bp), "b-finetune": (bf, stab_bf)}
    return {"claim-a.md": "\n".join(page_a) + "\n", "claim-b.md": "\n".join(page_b) + "\n"}, summary


def plot_sizes(frames: Mapping[str, pd.DataFrame], gains: Mapping, path: Path,
               sizes: tuple[str, ...] = SIZES) -> None:
    import matplotlib.pyplot as plt

    x = np.array([float((frames[s]["n"] / frames[s]["d"]).mean()) for s in sizes])
    fig, ax = plt.subplots(figsize=(6, 3.6))
    est = np.array([gains[s].estimate for s in sizes])
    err = [[max(0.0, gains[s].estimate - gains[s].low) for s in sizes],
           [max(0.0, gains[s].high - gains[s].estimate) for s in sizes]]
    ax.errorbar(x, est, yerr=err, fmt="o-", capsize=3)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set(xscale="log", xlabel="n over mean n/d", ylabel="Spearman(H_alpha) - Spearman(H)",
           title="H_alpha's gain, 95% interval over datasets, then tasks")
    ax.set_xticks(x, [f"{n}\n{r:.2f}" for n, r in zip(sizes, x)])
    ax.minorticks_off()
    fig.tight_layout()
    fig.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(fig)


# -- claim (c) ------------------------------------------------------------------------------------------------------
def _timing_decision(claim: TimingClaim, ratios: np.ndarray, placebo: np.ndarray, labels) -> tuple:
    interval = geometric_mean_interval(ratios, datasets=labels, unit=claim.unit, n_boot=claim.n_boot, seed=claim.seed)
    verdict = rule_verdict(_log(interval), math.log(claim.margin), direction=claim.direction)
    p_interval = geometric_mean_interval(placebo, n_boot=claim.n_boot, seed=claim.seed)
    p_verdict = rule_verdict(_log(p_interval), math.log(claim.margin), direction=claim.direction)
    return verdict, interval, p_verdict, p_interval


def _log(interval):
    return dataclasses.replace(interval, estimate=math.log(interval.estimate), low=math.log(interval.low),
                               high=math.log(interval.high))


def _ratio(interval) -> str:
    return f"{interval.estimate:.2f}x [{interval.low:.2f}, {interval.high:.2f}] ({interval.units()})"


def claim_c(reports: Path, specs: Path, pages: Path, runs: Mapping) -> tuple[str, dict]:
    bench = pd.read_csv(pages / "logme-timing.csv")
    bench["cell"] = "n=" + bench["n"].astype(str) + ",d=" + bench["d"].astype(str)
    runs_per_cell = bench.groupby("cell")["run"].rank(method="first").astype(int)
    parts = [pd.read_csv(reports / s / "trials_graph_metric_timing.csv").assign(study=s)
             for s in ("source-selection-medium-timing", "target-selection-medium-timing")]
    graph = pd.concat(parts, ignore_index=True)
    first = runs.get("source-selection-medium", {}).get("first_trial_at")
    lines, summary = [], {}

    def wide(column: str) -> np.ndarray:  # (cells, runs) of one column
        return bench.assign(r=runs_per_cell).pivot(index="cell", columns="r", values=column).sort_index().to_numpy()

    reruns = {}
    for column in ("logme_seconds", "published_logme_seconds"):
        w = wide(column)
        reruns[column] = w[:, 0] / w[:, 1]  # the same metric, two runs: a ratio whose truth is 1
    published = load_timing_claim(specs / "c-published.yaml")
    project = load_timing_claim(specs / "c-project.yaml")
    ratio_pub = wide("published_logme_seconds") / wide("h_alpha_seconds")
    v_pub, i_pub, pv_pub, pi_pub = _timing_decision(published, ratio_pub, reruns["published_logme_seconds"], None)
    ratio_proj = (graph["seconds_logme"] / graph["seconds_shrinkage_h_score"]).to_numpy()
    v_proj, i_proj, pv_proj, pi_proj = _timing_decision(project, ratio_proj, reruns["logme_seconds"], None)
    bench_proj = geometric_mean_interval(wide("logme_seconds") / wide("h_alpha_seconds"))

    def setups_for(ratios: np.ndarray, cells: list[str], kind: str) -> list[tuple[str, str, np.ndarray]]:
        out = [("base", "base", ratios)]
        for i, cell in enumerate(cells):
            out.append((f"without {cell}", kind, np.delete(ratios, i, axis=0)))
        if ratios.ndim == 2:
            for r in range(ratios.shape[1]):
                out.append((f"run {r + 1} alone", "another run", ratios[:, r]))
        return out

    def stability(claim: TimingClaim, setups: list[tuple[str, str, np.ndarray]]):
        frames = [Setup(name, kind, pd.DataFrame({"r": np.asarray(r).ravel()}), "r") for name, kind, r in setups]

        def decide(frame: pd.DataFrame, truth: str) -> Decision:
            interval = geometric_mean_interval(frame[truth].to_numpy(), n_boot=STABILITY_BOOT)
            return Decision(rule_verdict(_log(interval), math.log(claim.margin)), {"ratio": interval.estimate})
        return verdict_stability(frames, decide)

    cells = sorted(bench["cell"].unique())
    stab_pub = stability(published, setups_for(ratio_pub, cells, "leave-one-cell-out"))
    pairs = [f"{e} on {t}" for e, t in zip(graph["encoder"], graph["target"])]
    stab_proj = stability(project, setups_for(ratio_proj, pairs, "leave-one-pair-out")[:1]
                          + [(f"study {s} alone", "one study", ratio_proj[(graph["study"] == s).to_numpy()])
                             for s in sorted(graph["study"].unique())]
                          + setups_for(ratio_proj, pairs, "leave-one-pair-out")[1:])
    summary = {"c-published": (v_pub, i_pub, pv_pub, stab_pub), "c-project": (v_proj, i_proj, pv_proj, stab_proj)}
    overall = v_pub if v_pub == v_proj else "split"
    table = ["| run | n | d | H_alpha s | gtransfer LogME s | / H_alpha | published LogME s | / H_alpha |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for row in bench.itertuples():
        table.append(f"| {row.run} | {row.n} | {row.d} | {row.h_alpha_seconds:.3f} | {row.logme_seconds:.3f} | "
                     f"{row.logme_seconds / row.h_alpha_seconds:.2f}x | {row.published_logme_seconds:.3f} | "
                     f"{row.published_logme_seconds / row.h_alpha_seconds:.2f}x |")
    lines = [
        "# Claim (c): H_alpha is 3-10x faster than LogME", "",
        f"{PAPER}: computing H_alpha takes 3 to 10 times less time than LogME.", "",
        PROVISIONAL.replace("**Provisional.** These rules were written on 2026-12-07, after the reports they judge "
                            "(2026-12-02)", "**Provisional.** These rules were written on 2026-12-07, after the "
                            "timing reports (2026-12-02) and with the day's benchmark in hand"), "",
        f"**Verdict: {v_pub} against LogME as published; {v_proj} against gtransfer's LogME.** Both readings belong "
        "here: the "
        "paper timed the published algorithm, which forms the eigenvectors; gtransfer's LogME does not.", "",
        "## Reading 1: LogME as published", "",
        *_rule_lines(published, runs.get("claims-timing", {}).get("first_trial_at")), "",
        f"Published LogME's time over H_alpha's: {_ratio(i_pub)}, verdict **{v_pub}** (rule: interval above "
        f"{published.margin:g}x). Placebo `published_logme_rerun` (the published LogME timed in two runs of the same "
        f"cell, truth 1x): {_ratio(pi_pub)}, **{pv_pub}**"
        + (" -- **the rule is broken**." if pv_pub == "reproduced" else ", it fails the rule as it must."), "",
        _stability_line(stab_pub), "",
        "## Reading 2: LogME as gtransfer computes it", "", *_rule_lines(project, first), "",
        f"gtransfer's LogME over H_alpha on real embeddings ({len(ratio_proj)} (encoder, target) pairs of the medium "
        f"timing studies, n = {int(graph['n'].min()):,}-{int(graph['n'].max()):,}, d = "
        f"{sorted(set(graph['d'].astype(int)))}): {_ratio(i_proj)}, verdict **{v_proj}**. Placebo `logme_rerun` "
        f"(gtransfer's LogME in two runs of a benchmark cell): {_ratio(pi_proj)}, **{pv_proj}**"
        + (" -- **the rule is broken**." if pv_proj == "reproduced" else ", it fails the rule as it must.")
        + f" On the synthetic features below, gtransfer's LogME over H_alpha: {_ratio(bench_proj)}.", "",
        _stability_line(stab_proj), "",
        "## The timings", "",
        "`python -m gtransfer.bench claims-timing --d 256 512 1024 2048` with `--n-multiple 2 --repeat 2` (runs 1, 2) "
        "and `--n-multiple 4 --repeat 3` (runs 3, 4) on the 2-core AMD EPYC CPU, 2026-12-07, shared with seven other "
        "engineers' jobs (noisy: a cell's two runs differ by up to 5x at d = 256); synthetic float64 features, 10 "
        "classes, BLAS on one thread, best of `repeat` calls, each ratio from the same run "
        "([logme-timing.csv](logme-timing.csv)). A cell is one (n, d); its runs are its repeats in the bootstrap.", "",
        *table, "",
        "What was run:", *_run_lines(runs, "source-selection-medium", "target-selection-medium", "claims-timing"),
    ]
    summary["overall"] = overall
    return "\n".join(lines) + "\n", summary


# -- claim (d) ------------------------------------------------------------------------------------------------------
def _target_frame(reports: Path) -> pd.DataFrame:
    frame = _frame(reports, "target-selection-medium")
    trials = pd.read_csv(reports / "target-selection-medium" / "trials_graph_finetune.csv")
    seeds = trials.pivot_table(index="target", columns="seed", values="test_accuracy", aggfunc="mean")
    seeds.columns = [f"accuracy_seed{int(c)}" for c in seeds.columns]
    frame = frame.merge(seeds, left_on="target", right_index=True, how="left")
    frame["neg_label_entropy"] = -frame["label_entropy"]
    return frame


def _old_drop(frame: pd.DataFrame, ranker: str) -> pd.Series:
    """The 2026-12-02 rule's drop per family: Spearman(ranker, accuracy) - Spearman(ranker / H(Y), relative)."""
    scored = frame.assign(_corrected=frame[ranker] / frame["label_entropy"])
    raw = per_group_measure(scored, ranker, "test_accuracy", group="family")
    corrected = per_group_measure(scored, "_corrected", "relative_accuracy", group="family")
    return raw - corrected


def _partials(frame: pd.DataFrame, column: str, truth: str) -> pd.Series:
    return pd.Series({family: partial_spearman(part[column], part[truth], part["label_entropy"])
                      for family, part in frame.groupby("family", sort=True)}, dtype=np.float64)


def _d_core(frame: pd.DataFrame, specs: Path, seed_columns: tuple[str, ...], first: str | None,
            suffix: str = "") -> dict:
    """Claim (d)'s rules on one target-selection table (one row per family and target, ``family`` its group and its
    own dataset, one accuracy column per seed): the old rule on its placebos, the corrected rule for NCE and LEEP
    (specs ``d-old<suffix>``, ``d-nce<suffix>``, ``d-leep<suffix>``) with the exclusion, the control (the first seed's
    accuracy judged against the mean of the others), the rankers without information, stability, and the measure
    table. One implementation for graphs (suffix "") and images ("-vision")."""
    families = {f: f for f in frame["family"].unique()}  # a family is its own dataset (one source head each)
    reliability = reliability_per_group(frame, list(seed_columns), group="family")
    rel_text = "; ".join(f"{f} {r.r_half:+.2f} (ceiling {r.ceiling:.2f})" for f, r in reliability.iterrows())
    spec_old = load_claim_spec(specs / f"d-old{suffix}.yaml")
    old_values = {"nce": _old_drop(frame, "nce"), "neg_label_entropy": _old_drop(frame, "neg_label_entropy")}
    random_drops = [_old_drop(frame.assign(random=np.random.default_rng(s).random(len(frame)) + 1.0), "random")
                    for s in range(50)]
    old_values["random"] = sum(random_drops) / len(random_drops)
    old = decide_claim(spec_old, old_values, datasets=families)
    old_task = decide_claim(dataclasses.replace(spec_old, unit="task"), old_values, datasets=families)
    results, stabilities, lines_by_metric = {}, {}, []
    for metric in ("nce", "leep"):
        spec = load_claim_spec(specs / f"d-{metric}{suffix}.yaml")
        exclusion = exclude_groups({f: {"seed_agreement": float(r.r_half)} for f, r in reliability.iterrows()},
                                   spec.exclusion_rule())
        kept = frame[frame["family"].isin(exclusion.kept)]
        others = kept.assign(_other_seeds=kept[list(seed_columns[1:])].mean(axis=1))
        values = {metric: _partials(kept, metric, "test_accuracy"),
                  "other_seed_truth": _partials(others, seed_columns[0], "_other_seeds")}
        result = decide_claim(spec, values, datasets=families)
        informed = {m: _interval(_partials(kept, m, "test_accuracy"), n_boot=10_000) for m in (H_ALPHA, LOGME)}
        null_rankers = {"random": _interval(pd.Series(np.mean([_partials(kept.assign(
            random=np.random.default_rng(s).random(len(kept))), "random", "test_accuracy") for s in range(50)], axis=0),
            index=sorted(kept["family"].unique()))), "neg_label_entropy (-H(Y))": "0 by construction"}

        def decide(part: pd.DataFrame, truth: str, metric: str = metric, margin: float = spec.margin) -> Decision:
            vals = {m: _partials(part, m, truth) for m in (metric, H_ALPHA, LOGME, f"{metric}_normalized")}
            interval = _interval(vals[metric], n_boot=STABILITY_BOOT)
            return Decision(rule_verdict(interval, margin, direction="below"), {m: float(v.mean())
                                                                               for m, v in vals.items()})
        setups = perturbed_setups(kept, "test_accuracy", group="family", candidate="target", dataset="family",
                                  leave_out=3, candidate_draws=20, truth_seeds=tuple(seed_columns))
        stability = verdict_stability(setups, decide)
        results[metric], stabilities[metric] = result, stability
        lines_by_metric += [
            f"## {metric.upper()}: the corrected rule", "", *_rule_lines(spec, first), "",
            f"Exclusion (fixed in the spec): seed agreement below 0.2 -- {exclusion.summary()}"
            + (f" ({', '.join(f'{g}: {r[0]}' for g, r in exclusion.excluded.items())})" if exclusion.excluded else "")
            + ".", "",
            *_placebo_verdict_lines(result), "",
            "Rankers without information beyond H(Y) pass a claim of no information by construction, so they are "
            "shown, "
            "not counted as placebos: random "
            f"{null_rankers['random']}; -H(Y) {null_rankers['neg_label_entropy (-H(Y))']}. Feature metrics, partial "
            "Spearman with accuracy given H(Y): " + "; ".join(f"{m} {i}" for m, i in informed.items()) + ".", "",
            _stability_line(stability), ""]
    table_baselines = lambda measure: {  # noqa: E731
        "random": random_measure(frame, "relative_accuracy", group="family", measure=measure),
        "neg_label_entropy": per_group_measure(frame, "neg_label_entropy", "relative_accuracy", group="family",
                                               measure=measure)}
    measures = _measure_table(frame, "relative_accuracy", TARGET_METRICS, group="family", baselines=table_baselines,
                              datasets=families)
    verdicts = {results[m].verdict for m in results}
    return {"reliability": reliability, "rel_text": rel_text, "spec_old": spec_old, "old": old, "old_task": old_task,
            "results": results, "stabilities": stabilities, "lines_by_metric": lines_by_metric, "measures": measures,
            "overall": verdicts.pop() if len(verdicts) == 1 else "split"}


def claim_d(reports: Path, specs: Path, runs: Mapping, plots: Path) -> tuple[str, dict]:
    frame = _target_frame(reports)
    first = runs.get("target-selection-medium", {}).get("first_trial_at")
    core = _d_core(frame, specs, ("accuracy_seed0", "accuracy_seed1"), first)
    reliability, rel_text, spec_old, old, old_task = (core[k] for k in ("reliability", "rel_text", "spec_old", "old",
                                                                         "old_task"))
    results, stabilities, lines_by_metric, measures = (core[k] for k in ("results", "stabilities", "lines_by_metric",
                                                                         "measures"))
    overall = core["overall"]
    below = int((frame["relative_accuracy"] < 0).sum())
    lines = [
        "# Claim (d): NCE and LEEP look good in target selection only through label count and imbalance", "",
        f"{PAPER}: in target selection, NCE and LEEP correlate with accuracy because the targets differ in their "
        "number "
        "of labels and their imbalance; corrected for both, they do not.", "",
        PROVISIONAL, "",
        f"**Verdict (corrected rule): {overall}** (NCE: {results['nce'].verdict}; "
        f"LEEP: {results['leep'].verdict}).", "",
        f"Targets: {frame['target'].nunique()} in {frame['family'].nunique()} families (one source head each; a family "
        "is the ranking group and its own dataset, so the bootstrap resamples the families: "
        f"{old.interval.units()}). 100 of the 138 targets are subsets of the graphs their source head was trained on "
        f"(issue 25). Truth: fine-tuned test accuracy, mean of 2 seeds; {below} of the targets fine-tune below their "
        "majority baseline. **Reliability** (split-half, seed 0 against seed 1, Spearman over the family's targets; "
        f"ceiling = sqrt of its Spearman-Brown step-up): {rel_text}.", "",
        "## The old rule, run on the placebos", "", *_rule_lines(spec_old, first), "",
        *_placebo_verdict_lines(old, old_task), "",
        f"**The old rule is broken**: {' and '.join(old.broken_by)}, which know(s) nothing of the features, pass(es) "
        "it, so its 'reproduced' said nothing about NCE: its two terms judge against different truths, and accuracy "
        "itself follows H(Y). The corrected rule asks what NCE carries beyond H(Y).", "",
        *lines_by_metric,
        "## Every measure, against relative accuracy", "", *measures, "",
        "What was run:", *_run_lines(runs, "target-selection-medium"),
    ]
    if not old.broken:  # keep the page true if the placebo no longer passes
        lines = [line for line in lines if not line.startswith("**The old rule is broken**")]
    rel_range = (f"split-half per family, seed 0 vs 1: {reliability['r_half'].min():+.2f} to "
                 f"{reliability['r_half'].max():+.2f}")
    return "\n".join(lines) + "\n", {"reliability": rel_range, "d-old": (old, None),
                                     "d-nce": (results["nce"], stabilities["nce"]),
                                     "d-leep": (results["leep"], stabilities["leep"]), "overall": overall}


# -- claims (a), (b) and (d) on the truths of issue 25 item 3 -------------------------------------------------------
#: the report folder of the truths (docs/results/truths-medium): scores_and_truth.csv (source) and
#: target_scores_and_truth.csv
TRUTHS = "truths-medium"
#: the metrics shown beside the claims' on the new source truth: the newer metrics of issue 26
NEWER_METRICS = ("parc", "sfda", "pactran_gaussian", "ncti", "etran")


def _truth_exclusion(spec: ClaimSpec, frame: pd.DataFrame, seeds: list[str], group: str,
                     positives: str | None = None):
    """The spec's exclusion rule on each group's seed agreement (split-half over ``seeds``) and test positives."""
    reliability = reliability_per_group(frame, seeds, group=group)
    counts = frame.groupby(group)[positives].first() if positives else None
    properties = {str(g): {"seed_agreement": float(r.r_half),
                           **({"test_positives": float(counts[g])} if counts is not None else {})}
                  for g, r in reliability.iterrows()}
    return exclude_groups(properties, spec.exclusion_rule()), reliability


def _excluded_text(exclusion) -> str:
    shown = list(exclusion.excluded.items())[:8]
    more = len(exclusion.excluded) - len(shown)
    return exclusion.summary() + (" (" + "; ".join(f"{g}: {', '.join(r)}" for g, r in shown)
                                  + (f"; and {more} more" if more > 0 else "") + ")" if shown else "")


def truth_source_sections(reports: Path, specs: Path, runs: Mapping) -> tuple[list[str], list[str], dict]:
    """Claims (a) and (b) on the multi-task fine-tuning truth with 3 seeds: a section for each page and their rows."""
    frame = _frame(reports, TRUTHS)
    metrics = tuple(m for m in (*SOURCE_METRICS, *NEWER_METRICS) if m in frame.columns)
    frame, tied = ties_as_constant(frame, list(metrics), group="target")
    truth = "test_roc_auc"
    seeds = sorted(c for c in frame.columns if c.startswith("test_roc_auc_seed"))
    first = runs.get(TRUTHS, {}).get("first_trial_at")
    attributes_path = reports / TRUTHS / "pool_attributes.csv"
    attributes = pd.read_csv(attributes_path).set_index("encoder") if attributes_path.exists() else None
    by_attribute = ({"parameters": attributes["parameters"].to_dict(),
                     "pretraining_molecules": attributes["pretraining_molecules"].to_dict()}
                    if attributes is not None else None)
    per_dataset = (frame.drop_duplicates(["target", "encoder"]).assign(dataset=frame["target"].map(dataset_of)))
    dataset_truth = per_dataset.groupby(["dataset", "encoder"])[seeds].mean().reset_index()
    dataset_reliability = reliability_per_group(dataset_truth, seeds, group="dataset")
    rel_text = "; ".join(f"{d.removeprefix('ogbg-mol')} {r.r_half:+.2f} (reliability {r.reliability:.2f}, ceiling "
                         f"{r.ceiling:.2f})" for d, r in dataset_reliability.iterrows())
    sections, summary = {}, {}
    for name, minus in (("a-truth", H), ("b-truth", LOGME)):
        spec = load_claim_spec(specs / f"{name}.yaml")
        exclusion, reliability = _truth_exclusion(spec, frame, seeds, "target", positives="test_positives")
        kept = frame[frame["target"].isin(exclusion.kept)]
        per_group = {m: per_group_measure(kept, m, truth, measure=spec.measure) for m in (spec.metric, spec.minus)}
        per_group.update(baseline_measures(kept, truth, measure=spec.measure))
        result = decide_claim(spec, per_group)
        setups = perturbed_setups(kept, truth, leave_out=3, candidate_draws=20, truth_seeds=seeds)
        stability = verdict_stability(setups, _source_decider(minus, spec.margin))
        kept_reliability = reliability.loc[list(exclusion.kept)]
        summary[name] = (result, stability)
        low, high = dataset_reliability["r_half"].min(), dataset_reliability["r_half"].max()
        summary[f"{name}-reliability"] = (f"per dataset, split-half over 3 seeds: {low:+.2f} to {high:+.2f}; "
                                          f"kept tasks' median {kept_reliability['r_half'].median():+.2f}")
        table = _measure_table(kept, truth, metrics, group="target",
                               baselines=lambda measure, kept=kept: baseline_measures(
                                   kept, truth, measure=measure, attributes=by_attribute))
        sections[name] = [
            f"## On the multi-task fine-tuning truth, 3 seeds (rule `{name}`)", "",
            *_rule_lines(spec, first), "",
            "This rule was written after the truth's first slice (BBBP, BACE) had run and its seed reliability had "
            "been read, but before any metric was scored against the truth.", "",
            f"Truth: one multi-task fine-tune per (dataset, encoder, seed) as Hu et al. do (3 epochs on a 400-molecule "
            f"subsample, scaffold split), scored per task, mean of {len(seeds)} seeds, for the pool of "
            f"{frame['encoder'].nunique()} encoders (the nine published, the shipped context-prediction GIN, one "
            f"random control) on {frame['target'].nunique()} tasks of {frame['target'].map(dataset_of).nunique()} "
            "datasets. Scores: each task's training part of a 400-molecule subsample drawn per task (the same size "
            "and seed, stratified by the task's labels, so not the identical molecules of the multi-task fine-tune).",
            "",
            f"**Reliability** (split-half agreement of the encoders' ranking across seeds, Spearman-Brown stepped up; "
            f"the ceiling is the most any metric can correlate with the truth): per dataset {rel_text}. Per task, "
            f"median r_half {reliability['r_half'].median():+.2f} over {len(reliability)} tasks.", "",
            f"Exclusion (fixed in the spec): {_excluded_text(exclusion)}.", "",
            *_placebo_verdict_lines(result), "", _stability_line(stability), "",
            "Tasks where a metric tied every encoder (counted as no ranking, 0): "
            + (", ".join(f"{m} {len(v)}" for m, v in tied.items() if v) or "none") + ".", "",
            *table, "",
            "What was run:", *_run_lines(runs, TRUTHS),
        ]
    return sections["a-truth"], sections["b-truth"], summary


def claim_d_truth(reports: Path, specs: Path, runs: Mapping) -> tuple[list[str], dict]:
    """Claim (d) on the target truth with disjoint source heads and a class-weighted loss: a section and its rows."""
    path = reports / TRUTHS / "target_scores_and_truth.csv"
    if not path.exists():
        return [], {}
    frame = pd.read_csv(path)
    truth = "test_balanced_accuracy"
    seeds = sorted(c for c in frame.columns if c.startswith(f"{truth}_seed"))
    frame["other_seeds"] = frame[seeds[1:]].mean(axis=1)
    families = {f: f for f in frame["family"].unique()}
    first = runs.get(f"{TRUTHS}-target", {}).get("first_trial_at")
    lines, summary = [], {}
    for metric in ("nce", "leep"):
        spec = load_claim_spec(specs / f"d-{metric}-truth.yaml")
        exclusion, reliability = _truth_exclusion(spec, frame.assign(encoder=frame["target"]), seeds, "family")
        kept = frame[frame["family"].isin(exclusion.kept)]
        values = {metric: _partials(kept, metric, truth),
                  "other_seed_truth": _partials(kept.assign(**{truth: kept["other_seeds"]}), seeds[0], truth)}
        result = decide_claim(spec, values, datasets=families)
        informed = {m: _interval(_partials(kept, m, truth), n_boot=10_000) for m in (H_ALPHA, LOGME)}

        def decide(part: pd.DataFrame, truth_column: str, metric: str = metric,
                   margin: float = spec.margin) -> Decision:
            vals = {m: _partials(part, m, truth_column) for m in (metric, H_ALPHA, LOGME, f"{metric}_normalized")}
            interval = _interval(vals[metric], n_boot=STABILITY_BOOT)
            return Decision(rule_verdict(interval, margin, direction="below"),
                            {m: float(v.mean()) for m, v in vals.items()})
        setups = perturbed_setups(kept, truth, group="family", candidate="target", dataset="family", leave_out=3,
                                  candidate_draws=20, truth_seeds=seeds)
        stability = verdict_stability(setups, decide)
        rel = "; ".join(f"{f} {r.r_half:+.2f}" for f, r in reliability.iterrows())
        summary[f"d-{metric}-truth"] = (result, stability)
        summary["reliability"] = (f"split-half per family over 3 seeds: {reliability['r_half'].min():+.2f} to "
                                  f"{reliability['r_half'].max():+.2f}")
        lines += [f"## {metric.upper()} on the new target truth (rule `d-{metric}-truth`)", "",
                  *_rule_lines(spec, first), "",
                  f"Targets: {frame['target'].nunique()} in {frame['family'].nunique()} families, drawn from each TU "
                  "dataset's target half in strata of label count and imbalance; each family's source head trained on "
                  "its source half only (no target graph was seen by its source); truth: test balanced accuracy of a "
                  f"class-weighted fine-tune, mean of {len(seeds)} seeds. **Reliability** (split-half over seeds per "
                  f"family): {rel}.", "",
                  f"Exclusion (fixed in the spec): {_excluded_text(exclusion)}.", "",
                  *_placebo_verdict_lines(result), "",
                  "Feature metrics, partial Spearman with balanced accuracy given H(Y): "
                  + "; ".join(f"{m} {i}" for m, i in informed.items()) + ".", "",
                  _stability_line(stability), ""]
    below = int((frame["test_accuracy"] < frame["majority_accuracy"]).sum())
    lines += [f"Accuracy below the majority baseline: {below} of {len(frame)} targets (class-weighted loss).", "",
              "What was run:", *_run_lines(runs, f"{TRUTHS}-target")]
    return lines, summary


# -- the table of docs/results.md -----------------------------------------------------------------------------------
def _with_section(page: str, section: list[str], headline: str) -> str:
    """``page`` with ``headline`` after its verdict line and ``section`` before its 'What was run' tail."""
    lines = page.rstrip("\n").split("\n")
    at = next(i for i, line in enumerate(lines) if line.startswith("**Verdict"))
    lines[at + 1:at + 1] = ["", headline]
    return "\n".join([*lines, "", *section]) + "\n"


# -- the claims on images (the vision medium preset) ----------------------------------------------------------------
#: the vision source-selection studies' score sizes, as the report folders name them
VISION_SIZES = ("50", "100", "300", "600", "all")
VISION_SEEDS = ("accuracy_seed0", "accuracy_seed1", "accuracy_seed2")


def store_first_trial(path: Path) -> str:
    """The time the store's first trial started (its finish less its duration), as an ISO time in UTC."""
    from datetime import datetime, timezone

    from gtransfer.studies.store import TrialStore

    with TrialStore(path, create=False, read_only=True) as store:
        starts = [r.finished_at - (r.duration_s or 0.0) for r in store.records()]
    if not starts:
        raise SystemExit(f"{path} holds no trial: run experiments/vision_medium.py first")
    return datetime.fromtimestamp(min(starts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed_columns(reports: Path, study: str, keys: list[str]) -> pd.DataFrame:
    """The fine-tuning truth per seed (``accuracy_seed<k>``), one row per ``keys`` (group and candidate)."""
    trials = pd.read_csv(reports / study / "trials_vision_finetune.csv")
    seeds = trials.pivot_table(index=keys, columns="seed", values="test_accuracy", aggfunc="mean")
    seeds.columns = [f"accuracy_seed{int(c)}" for c in seeds.columns]
    return seeds.reset_index()


def _reliability_text(reliability: pd.DataFrame, what: str) -> str:
    rows = "; ".join(f"{g} {r.r_half:+.2f} (ceiling {r.ceiling:.2f})" for g, r in reliability.iterrows())
    return (f"**Reliability** (split-half over the 3 seeds, every split of the seeds into halves, Spearman over the "
            f"{what}, stepped up by Spearman-Brown; ceiling = its square root): {rows}; median split-half "
            f"{reliability['r_half'].median():+.2f}, median ceiling {reliability['ceiling'].median():.2f}.")


def _exclusion_line(exclusion) -> str:
    return (f"Exclusion (fixed in the spec): seed agreement below 0.2 -- {exclusion.summary()}"
            + (f" ({', '.join(f'{g}: {r[0]}' for g, r in exclusion.excluded.items())})" if exclusion.excluded else "")
            + ".")


def _finetune_text(params: Mapping) -> str:
    return f"{params['epochs']} epochs, lr {params['lr']:g}, batch {params['batch_size']}"


def vision_pages(reports: Path, specs: Path, run: Mapping, plots: Path) -> tuple[dict[str, str], dict]:
    """Claims (a), (a'), (b) and (d) on images, from the vision medium preset's reports in ``reports`` (one folder
    per study, ``trials_vision_finetune.csv`` holding the seeds): the graph rules' code, run on the image specs
    (``specs/*-vision.yaml``). Returns the pages and what the claims table needs."""
    store = Path(run["store"]) if run.get("store") else None
    first = store_first_trial(store) if store else run.get("first_trial_at")
    runs = {"vision-medium": run}
    truth = "test_accuracy"
    seeds = _seed_columns(reports, "vision-source-selection-medium-nall", ["target", "encoder"])
    frames, tied = {}, {}
    for size in VISION_SIZES:
        frame, tied[size] = _source_frame(reports, f"vision-source-selection-medium-n{size}")
        frames[size] = frame.merge(seeds, on=["target", "encoder"], how="left", validate="one_to_one")
    whole_all = frames["all"]
    reliability = reliability_per_group(whole_all, list(VISION_SEEDS), group="target")
    rel_text = _reliability_text(reliability, "encoders of a target")
    spec_a = load_claim_spec(specs / "a-vision.yaml")
    spec_ap = load_claim_spec(specs / "a-prime-vision.yaml")
    spec_b = load_claim_spec(specs / "b-vision.yaml")
    exclusion = exclude_groups({t: {"seed_agreement": float(r.r_half)} for t, r in reliability.iterrows()},
                               spec_a.exclusion_rule())
    assert spec_ap.exclusion == spec_b.exclusion == spec_a.exclusion, "the image source rules share one exclusion"
    frames = {s: f[f["target"].isin(exclusion.kept)].reset_index(drop=True) for s, f in frames.items()}
    whole = frames["all"]
    n_datasets, n_targets = whole["target"].map(dataset_of).nunique(), whole["target"].nunique()
    d_values = sorted(whole["d"].astype(int).unique())
    truth_text = (f"Truth: full fine-tuning ({_finetune_text(SOURCE_FINETUNE)}) of {whole['encoder'].nunique()} "
                  f"encoders (d = {', '.join(map(str, d_values))}) on the whole training part of each "
                  f"target, test accuracy, mean of seeds 0, 1, 2. Units: {n_targets} targets from {n_datasets} image "
                  "datasets (CIFAR-10 and MNIST test splits, scikit-learn's digits), the dataset resampled first. "
                  + rel_text)
    score_samples = {f"n = {s}": frames[s] for s in VISION_SIZES[:-1]}

    # (a)
    a, a_task = _decide_source(spec_a, whole, truth)
    setups = perturbed_setups(whole, truth, leave_out=3, candidate_draws=20, truth_seeds=VISION_SEEDS,
                              score_samples=score_samples)
    stab_a = verdict_stability(setups, _source_decider(H, spec_a.margin))
    gains_by_size = {s: _interval(per_group_measure(frames[s], H_ALPHA, truth) - per_group_measure(frames[s], H, truth))
                     for s in VISION_SIZES}
    plot_sizes(frames, gains_by_size, plots / "sizes-vision.png", VISION_SIZES)
    n_over_d = {s: float((frames[s]["n"] / frames[s]["d"]).mean()) for s in VISION_SIZES}
    measures = _measure_table(whole, truth, SOURCE_METRICS, group="target", baselines=_source_baselines(whole, truth))
    # (a'): cells with n above the pool's largest d, targets with 2 or more of them
    d_max = int(whole["d"].max())
    cells = pd.concat([frames[s].assign(size=s) for s in VISION_SIZES], ignore_index=True)
    cells = cells[cells["n"] > d_max].assign(d=float(d_max))
    cells["cell"] = cells["target"] + "|n=" + cells["size"]
    distinct_n = cells.groupby("target")["n"].nunique()
    cells = cells[cells["target"].isin(distinct_n[distinct_n >= 2].index)].copy()
    cells["dataset"] = cells["target"].map(dataset_of)
    ap_values = _slopes(cells, truth, spec_ap.placebos)
    a_prime = decide_claim(spec_ap, ap_values)
    a_prime_task = decide_claim(dataclasses.replace(spec_ap, unit="task"), ap_values)
    stab_ap = verdict_stability(perturbed_setups(cells, truth, leave_out=3, candidate_draws=20, dataset="dataset",
                                                 truth_seeds=VISION_SEEDS), _slope_decider())
    small = per_group_measure(frames["50"], H_ALPHA, truth) - per_group_measure(frames["50"], H, truth)
    large = per_group_measure(whole, H_ALPHA, truth) - per_group_measure(whole, H, truth)
    secondary = _interval(small - large)
    cell_sizes = ", ".join(f"{t} (n = {', '.join(str(int(n)) for n in sorted(part['n'].unique()))})"
                           for t, part in cells.groupby("target"))
    # (b)
    b, b_task = _decide_source(spec_b, whole, truth)
    stab_b = verdict_stability(setups, _source_decider(LOGME, spec_b.margin))
    task_unit = "the same rule with the targets resampled as one pool (the task unit)"
    what_ran = ["What was run:", *_run_lines(runs, "vision-medium")]
    page_a = [
        "# Claim (a) on images: H-score's weakness is covariance estimation (and (a'): most where n is small "
        "against d)", "",
        f"{PAPER}: shrinking H-score's covariance (H_alpha, Ledoit-Wolf) gains up to 80% absolute correlation over "
        "H-score, most where the number of samples n is small against the feature dimension d. Decided here on "
        "images, by the graph rules' code (claim-a.md) on the vision medium preset, with rules registered before its "
        "first trial.", "",
        f"**Verdict (a): {_said(a)}; (a'): {_said(a_prime)}.**", "",
        "## (a) H_alpha against H-score, all training images", "",
        *_rule_lines(spec_a, first), "", truth_text, "", _exclusion_line(exclusion), "",
        *_placebo_verdict_lines(a), f"- {task_unit}: **{a_task.verdict}** ({a_task.interval}); placebos: "
        + "; ".join(f"{n} {v} ({i})" for n, (v, i) in a_task.placebos.items())
        + (" -- **broken with the task-level unit**" if a_task.broken else ""), "",
        _stability_line(stab_a), "",
        "Gain per score size (dataset-level intervals): "
        + "; ".join(f"n = {s} (mean n/d {n_over_d[s]:.2f}): {gains_by_size[s]}" for s in VISION_SIZES)
        + ". Targets where H-score tied every encoder (counted as no ranking, 0): "
        + ", ".join(f"n = {s}: {len(tied[s][H])}" for s in VISION_SIZES) + ".", "",
        *measures, "",
        "![gain against n/d](plots/sizes-vision.png)", "",
        "## (a') the gain against log(n/d), within target", "",
        *_rule_lines(spec_ap, first), "",
        f"Cells with n above the pool's largest d ({d_max}): {cells['cell'].nunique()} on {cells['target'].nunique()} "
        f"targets: {cell_sizes}.", "",
        *_placebo_verdict_lines(a_prime), f"- {task_unit}: **{a_prime_task.verdict}** ({a_prime_task.interval}); "
        "placebos: " + "; ".join(f"{n} {v} ({i})" for n, (v, i) in a_prime_task.placebos.items())
        + (" -- **broken with the task-level unit**" if a_prime_task.broken else ""), "",
        _stability_line(stab_ap), "",
        f"Secondary (as on graphs; it mixes in H-score's degeneracy at n <= d): the gain at n = 50 minus the gain with "
        f"all training images, paired by target: {secondary} ({rule_verdict(secondary, 0.0)} for 'larger at small "
        "n').", "",
        *what_ran,
    ]
    page_b = [
        "# Claim (b) on images: H_alpha is competitive with LogME in source selection", "",
        f"{PAPER}: H_alpha's correlation with transfer performance is competitive with LogME's. Decided here on "
        "images, by the graph rules' code (claim-b.md), against a fine-tuning truth with seeds, with a rule registered "
        "before the preset's first trial.", "",
        f"**Verdict: {_said(b)}.**", "",
        *_rule_lines(spec_b, first), "", truth_text, "", _exclusion_line(exclusion), "",
        *_placebo_verdict_lines(b), f"- {task_unit}: **{b_task.verdict}** ({b_task.interval}); placebos: "
        + "; ".join(f"{n} {v} ({i})" for n, (v, i) in b_task.placebos.items())
        + (" -- **broken with the task-level unit**" if b_task.broken else ""), "",
        _stability_line(stab_b), "",
        "The measures of every metric are on [claim-a-vision.md](claim-a-vision.md) (the same truth and scores).", "",
        *what_ran,
    ]
    # (d)
    target = _frame(reports, "vision-target-selection-medium").rename(columns={"encoder": "family"})
    target = target.merge(_seed_columns(reports, "vision-target-selection-medium", ["encoder", "target"])
                          .rename(columns={"encoder": "family"}), on=["family", "target"], how="left",
                          validate="one_to_one")
    target["neg_label_entropy"] = -target["label_entropy"]
    family_dims = ("d = " + ", ".join(str(int(d)) for d in sorted(target["d"].unique()))) if "d" in target else \
        "d not reported"
    counts = target.groupby("family")["target"].nunique()
    per_family = str(counts.min()) if counts.min() == counts.max() else f"{counts.min()} to {counts.max()}"
    core = _d_core(target, specs, VISION_SEEDS, first, suffix="-vision")
    old, results = core["old"], core["results"]
    below = int((target["relative_accuracy"] < 0).sum())
    page_d = [
        "# Claim (d) on images: NCE and LEEP look good in target selection only through label count and imbalance",
        "",
        f"{PAPER}: in target selection, NCE and LEEP correlate with accuracy because the targets differ in their "
        "number of labels and their imbalance; corrected for both, they do not. Decided here on images, by the graph "
        "rules' code (claim-d.md), with rules registered before the preset's first trial.", "",
        f"**Verdict (corrected rule): {core['overall']}** (NCE: {results['nce'].verdict}; LEEP: "
        f"{results['leep'].verdict}).", "",
        f"Targets: {target['target'].nunique()} in {target['family'].nunique()} families, each an encoder "
        f"({family_dims}) with its source head (NCE and LEEP read it) ranking its own targets ({per_family} a "
        "family), in the design's strata: k = "
        f"{', '.join(map(str, STRATA['k']))} classes x imbalance ratio {', '.join(map(str, STRATA['ratio']))}, at most "
        f"{STRATA['max']} images a class. Targets come from test splits, the source models from training splits. A "
        "family is the ranking group and its own unit, so the bootstrap resamples the families: "
        f"{old.interval.units()}. Truth: full fine-tuning ({_finetune_text(TARGET_FINETUNE)}), test accuracy, mean of "
        f"seeds 0, 1, 2; {below} of the targets fine-tune below their majority baseline. "
        + _reliability_text(core["reliability"], "family's targets"), "",
        "## The old rule, run on the placebos", "", *_rule_lines(core["spec_old"], first), "",
        *_placebo_verdict_lines(old, None),
        f"- {task_unit}: **{core['old_task'].verdict}** ({core['old_task'].interval}); placebos: "
        + "; ".join(f"{n} {v} ({i})" for n, (v, i) in core["old_task"].placebos.items())
        + (" -- **broken with the task-level unit**" if core["old_task"].broken else ""), "",
        *core["lines_by_metric"],
        "## Every measure, against relative accuracy", "", *core["measures"], "",
        *what_ran,
    ]
    pages = {"claim-a-vision.md": "\n".join(page_a) + "\n", "claim-b-vision.md": "\n".join(page_b) + "\n",
             "claim-d-vision.md": "\n".join(page_d) + "\n"}
    source_rel = (f"split-half per target, 3 seeds: {reliability['r_half'].min():+.2f} to "
                  f"{reliability['r_half'].max():+.2f} (median {reliability['r_half'].median():+.2f})")
    target_rel = (f"split-half per family, 3 seeds: {core['reliability']['r_half'].min():+.2f} to "
                  f"{core['reliability']['r_half'].max():+.2f}")
    summary = {"a-vision": (a, stab_a, source_rel), "a'-vision": (a_prime, stab_ap, source_rel),
               "b-vision": (b, stab_b, source_rel), "d-old-vision": (old, None, target_rel),
               "d-nce-vision": (results["nce"], core["stabilities"]["nce"], target_rel),
               "d-leep-vision": (results["leep"], core["stabilities"]["leep"], target_rel)}
    return pages, summary


# -- the table of docs/results.md -----------------------------------------------------------------------------------
def summary_table(source: dict, c: dict, d: dict, truths: Mapping | None = None, vision: dict | None = None) -> str:
    """The claims table of docs/results.md: verdict, units, reliability, placebos, stability per rule; the new
    truths' rows (``truths``) and the image rules' rows (``vision``, from :func:`vision_pages`) after the graph
    rows."""
    def placebo_text(result: ClaimVerdict) -> str:
        if result.broken:
            return f"**broken: {', '.join(result.broken_by)} pass(es)**"
        return "all fail (" + ", ".join(result.placebos) + ")"

    rows = ["| claim | rule | verdict | units | truth's reliability | placebos | stability | page |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    probe = "none measurable (probe, no seeds)"
    specs = [("(a) H_alpha beats H-score", "a", source["a"], probe, "claim-a"),
             ("(a') gain larger at small n/d", "a'", source["a'"], probe, "claim-a"),
             ("(b) competitive with LogME, probe", "b-probe", source["b-probe"], probe, "claim-b"),
             ("(b) competitive with LogME, fine-tuning", "b-finetune", source["b-finetune"],
              "none measurable (1 seed)", "claim-b"),
             ("(d) NCE only through H(Y), old rule", "d-old", d["d-old"], d["reliability"], "claim-d"),
             ("(d) NCE, corrected (partial given H(Y))", "d-nce", d["d-nce"], d["reliability"], "claim-d"),
             ("(d) LEEP, corrected", "d-leep", d["d-leep"], d["reliability"], "claim-d")]
    truths = truths or {}
    for name, label, page in (("a-truth", "(a) H_alpha beats H-score, fine-tuning truth, 3 seeds", "claim-a"),
                              ("b-truth", "(b) competitive with LogME, fine-tuning truth, 3 seeds", "claim-b"),
                              ("d-nce-truth", "(d) NCE, corrected, disjoint heads, balanced truth", "claim-d"),
                              ("d-leep-truth", "(d) LEEP, corrected, disjoint heads, balanced truth", "claim-d")):
        if name in truths:
            reliability = truths.get(f"{name}-reliability", truths.get("reliability", "-"))
            specs.append((label, name, truths[name], reliability, page))
    for label, name, (result, stability), reliability, page in specs:
        stab = f"{stability.same_verdict}/{stability.setups} setups" if stability is not None else "-"
        rows.append(f"| {label} | `{name}` | **{_said(result)}** | {result.interval.units()} | {reliability} | "
                    f"{placebo_text(result)} | {stab} | [{page}](results/claims/{page}.md) |")
    for name, label in (("c-published", "(c) 3-10x faster, LogME as published"),
                        ("c-project", "(c) 3-10x faster, gtransfer's LogME")):
        verdict, interval, placebo, stability = c[name]
        rows.append(f"| {label} | `{name}` | **{verdict}** ({interval.estimate:.2f}x) | {interval.units()} | "
                    "timing, no truth | rerun placebo "
                    f"{'**passes: broken**' if placebo == 'reproduced' else 'fails'} | "
                    f"{stability.same_verdict}/{stability.setups} setups | [claim-c](results/claims/claim-c.md) |")
    images = [("(a) H_alpha beats H-score, images", "a-vision", "claim-a-vision"),
              ("(a') gain larger at small n/d, images", "a'-vision", "claim-a-vision"),
              ("(b) competitive with LogME, images (fine-tuning)", "b-vision", "claim-b-vision"),
              ("(d) NCE only through H(Y), old rule, images", "d-old-vision", "claim-d-vision"),
              ("(d) NCE, corrected, images", "d-nce-vision", "claim-d-vision"),
              ("(d) LEEP, corrected, images", "d-leep-vision", "claim-d-vision")]
    for label, name, page in images if vision else ():
        result, stability, reliability = vision[name]
        stab = f"{stability.same_verdict}/{stability.setups} setups" if stability is not None else "-"
        rows.append(f"| {label} | `{name}` | **{_said(result)}** | {result.interval.units()} | {reliability} | "
                    f"{placebo_text(result)} | {stab} | [{page}](results/claims/{page}.md) |")
    return "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=Path("docs/results"),
                        help="folder holding the medium reports, one folder per study (default docs/results)")
    parser.add_argument("--runs", type=Path, help="YAML: study -> {command, hardware, date, wall_minutes, notes, "
                                                  "first_trial_at}")
    parser.add_argument("--pages", type=Path, default=Path("docs/results/claims"),
                        help="where the pages go; it holds specs/ and logme-timing.csv")
    parser.add_argument("--summary", type=Path, help="also write the claims table of docs/results.md here")
    parser.add_argument("--vision-runs", type=Path,
                        help="YAML of the image claims' inputs, kept apart from --runs: vision-medium -> {command, "
                             "hardware, date, wall_minutes, notes, reports (the folder of the vision medium reports), "
                             "store (whose first trial the registrations are checked against)}; with it, the image "
                             "pages (claim-*-vision.md) and their rows of the table are written too")
    args = parser.parse_args()
    runs = yaml.safe_load(args.runs.read_text()) if args.runs else {}
    specs = args.pages / "specs"
    (args.pages / "plots").mkdir(parents=True, exist_ok=True)
    pages, source = source_pages(args.reports, specs, runs, args.pages / "plots")
    pages["claim-c.md"], c = claim_c(args.reports, specs, args.pages, runs)
    pages["claim-d.md"], d = claim_d(args.reports, specs, runs, args.pages / "plots")
    truths: dict = {}
    if (args.reports / TRUTHS / "scores_and_truth.csv").exists():
        a_lines, b_lines, truths = truth_source_sections(args.reports, specs, runs)
        for page, lines, name in (("claim-a.md", a_lines, "a-truth"), ("claim-b.md", b_lines, "b-truth")):
            pages[page] = _with_section(pages[page], lines, f"**On the multi-task fine-tuning truth with 3 seeds "
                                                            f"(rule `{name}`): {_said(truths[name][0])}.**")
    d_lines, d_truths = claim_d_truth(args.reports, specs, runs)
    if d_truths:
        truths.update(d_truths)
        pages["claim-d.md"] = _with_section(pages["claim-d.md"], d_lines, "**On the new target truth (rules "
                                            f"`d-nce-truth`, `d-leep-truth`): NCE {_said(d_truths['d-nce-truth'][0])}"
                                            f"; LEEP {_said(d_truths['d-leep-truth'][0])}.**")
    vision = None
    if args.vision_runs:
        run = yaml.safe_load(args.vision_runs.read_text())["vision-medium"]
        vision_pages_, vision = vision_pages(Path(run["reports"]), specs, run, args.pages / "plots")
        pages.update(vision_pages_)
    for name, text in pages.items():
        (args.pages / name).write_text(text)
        print(f"{args.pages / name}: {next(line for line in text.splitlines() if line.startswith('**Verdict'))}")
    table = summary_table(source, c, d, truths, vision)
    if args.summary:
        args.summary.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
