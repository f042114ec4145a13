"""The source-selection claims' rules, decided alike on graphs and on images: (a) H_alpha against H-score, (a') the
gain's slope against log(n/d) within target, (b) H_alpha against LogME; H_alpha's gain per score size with its plot;
and claim (a)'s page, which graphs and images word apart only in :class:`Wording`."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gtransfer.evaluation import (
    ClaimSpec,
    ClaimVerdict,
    Decision,
    Interval,
    Setup,
    baseline_measures,
    decide_claim,
    per_group_measure,
    perturbed_setups,
    rule_verdict,
    verdict_stability,
)
from gtransfer.studies.claims.common import (
    H_ALPHA,
    SOURCE_METRICS,
    STABILITY_BOOT,
    H,
    RuleOutcome,
    dataset_interval,
    paragraphs,
    rule_section,
    said,
)
from gtransfer.studies.claims.measures import measure_table, source_baselines
from gtransfer.studies.claims.statistics import per_group_slope

Decider = Callable[[pd.DataFrame, str], Decision]


@dataclass(frozen=True)
class Wording:
    """What the graph and the image pages of the source claims say differently."""

    #: what a target's training part is made of ("molecules", "images")
    samples: str
    #: the name of the line of the same rule with the tasks resampled as one pool
    task_unit_label: str
    #: why H-score ties every encoder, where the page says it (ends with "; ")
    tie_cause: str
    #: where (a')'s secondary contrast comes from
    contrast: str
    #: the file of the gain's plot under ``plots/``
    plot: str


@dataclass(frozen=True)
class SizeGains:
    """H_alpha's gain over H-score (per target, Spearman with the truth) at each score size with its dataset-level
    interval, each size's mean n/d, and (a')'s secondary contrast: the gain at n = 50 minus the gain with all training
    samples, paired by target."""

    sizes: tuple[str, ...]
    gains: dict[str, Interval]
    n_over_d: dict[str, float]
    secondary: Interval


def source_decider(minus: str, margin: float, *, unit: str = "dataset") -> Decider:
    """The stability setups' decision of a source rule: H_alpha's mean Spearman minus ``minus``'s above ``margin``
    (:data:`STABILITY_BOOT` resamples), with every source metric's mean to order them."""
    def decide(frame: pd.DataFrame, truth: str) -> Decision:
        per_group = {m: per_group_measure(frame, m, truth) for m in SOURCE_METRICS}
        interval = dataset_interval(per_group[H_ALPHA] - per_group[minus], unit=unit, n_boot=STABILITY_BOOT)
        return Decision(rule_verdict(interval, margin), {m: float(v.mean()) for m, v in per_group.items()})
    return decide


def decide_source(spec: ClaimSpec, frame: pd.DataFrame, truth: str) -> tuple[ClaimVerdict, ClaimVerdict]:
    """A source rule on its placebos (the target-agnostic baselines), with its unit and with the task unit."""
    per_group = {m: per_group_measure(frame, m, truth, measure=spec.measure) for m in (spec.metric, spec.minus)}
    per_group.update(baseline_measures(frame, truth, measure=spec.measure))
    return decide_claim(spec, per_group), decide_claim(dataclasses.replace(spec, unit="task"), per_group)


def decide_source_rule(spec: ClaimSpec, frame: pd.DataFrame, truth: str, setups: Sequence[Setup], *,
                       task_unit: bool = True) -> RuleOutcome:
    """:func:`decide_source` with the verdict's stability over ``setups`` (and without the task unit's verdict
    where ``task_unit`` is False)."""
    verdict, task_verdict = decide_source(spec, frame, truth)
    return RuleOutcome(spec, verdict, task_verdict if task_unit else None,
                       verdict_stability(setups, source_decider(spec.minus, spec.margin)))


def log_ratio_slopes(frame: pd.DataFrame, truth: str, *, placebos: Sequence[str] = ()) -> dict[str, pd.Series]:
    """Claim (a')'s values per target: the slope over its cells (``cell``: target and score size) of each ranker's
    Spearman against log(n/d) (``n`` and ``d`` of the cell), for H_alpha, H-score and the named placebos."""
    log_ratio = np.log(frame.groupby("cell")["n"].first() / frame.groupby("cell")["d"].first())
    per_cell = {m: per_group_measure(frame, m, truth, group="cell") for m in (H_ALPHA, H)}
    if placebos:
        per_cell.update({k: v for k, v in baseline_measures(frame.assign(target=frame["cell"]), truth, group="cell",
                                                            dataset="dataset").items() if k in placebos})
    target_of = pd.Series([c.split("|")[0] for c in log_ratio.index], index=log_ratio.index)
    return {m: per_group_slope(v.reindex(log_ratio.index), log_ratio, target_of) for m, v in per_cell.items()}


def slope_decider() -> Decider:
    """The stability setups' decision of (a'): H_alpha's slope minus H-score's below 0."""
    def decide(frame: pd.DataFrame, truth: str) -> Decision:
        values = log_ratio_slopes(frame, truth)
        interval = dataset_interval(values[H_ALPHA] - values[H], n_boot=STABILITY_BOOT)
        return Decision(rule_verdict(interval, 0.0, direction="below"), {m: float(v.mean()) for m, v in values.items()})
    return decide


def decide_a_prime(spec: ClaimSpec, cells: pd.DataFrame, truth: str, *,
                   truth_seeds: Sequence[str] = ()) -> RuleOutcome:
    """(a') on ``cells`` (one row per encoder and cell, with ``cell``, ``dataset``, ``n`` and ``d``): the slopes'
    rule with its unit and the task unit, and its stability (``truth_seeds``: the truth's seed columns)."""
    values = log_ratio_slopes(cells, truth, placebos=spec.placebos)
    setups = perturbed_setups(cells, truth, leave_out=3, candidate_draws=20, dataset="dataset", truth_seeds=truth_seeds)
    return RuleOutcome(spec, decide_claim(spec, values), decide_claim(dataclasses.replace(spec, unit="task"), values),
                       verdict_stability(setups, slope_decider()))


def _gain(frame: pd.DataFrame, truth: str) -> pd.Series:
    return per_group_measure(frame, H_ALPHA, truth) - per_group_measure(frame, H, truth)


def _size_gains(frames: Mapping[str, pd.DataFrame], truth: str, *, sizes: tuple[str, ...], plot: Path) -> SizeGains:
    """H_alpha's gain at each score size of ``frames`` (``"50"`` ... ``"all"``), drawn into ``plot``."""
    gains = {s: dataset_interval(_gain(frames[s], truth)) for s in sizes}
    plot_sizes(frames, gains, plot, sizes=sizes)
    n_over_d = {s: float((frames[s]["n"] / frames[s]["d"]).mean()) for s in sizes}
    return SizeGains(sizes, gains, n_over_d, dataset_interval(_gain(frames["50"], truth) - _gain(frames["all"], truth)))


def plot_sizes(frames: Mapping[str, pd.DataFrame], gains: Mapping[str, Interval], path: Path, *,
               sizes: tuple[str, ...]) -> None:
    """H_alpha's gain with its interval against each size's mean n/d (log scale), into ``path``."""
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


def claim_a_page(a: RuleOutcome, a_prime: RuleOutcome, frames: Mapping[str, pd.DataFrame], truth: str, *,
                 sizes: tuple[str, ...], plots: Path, wording: Wording, intro: Sequence[str],
                 first_trial_at: str | None, context: Sequence[str], tied: Mapping[str, Mapping[str, list[str]]],
                 cells: str, what_ran: Sequence[str]) -> str:
    """Claim (a)'s page from the score tables ``frames`` of the ``sizes`` (``"50"`` ... ``"all"``): ``intro`` (title
    and paragraphs), the verdicts, (a) with its truth and exclusion (``context``), H_alpha's gain per score size
    (``tied``: the targets where each metric tied every encoder, per size) and its plot (drawn into ``plots``), the
    measure table of ``frames["all"]``, then (a') on its ``cells`` with the secondary contrast, and ``what_ran``."""
    gains = _size_gains(frames, truth, sizes=sizes, plot=plots / wording.plot)
    whole = frames["all"]
    measures = measure_table(whole, truth, SOURCE_METRICS, group="target", baselines=source_baselines(whole, truth))
    t = wording.task_unit_label
    lines = [
        *paragraphs(intro),
        f"**Verdict (a): {said(a.verdict)}; (a'): {said(a_prime.verdict)}.**", "",
        f"## (a) H_alpha against H-score, all training {wording.samples}", "",
        *rule_section(a, first_trial_at, context, task_unit_label=t),
        "Gain per score size (dataset-level intervals): "
        + "; ".join(f"n = {s} (mean n/d {gains.n_over_d[s]:.2f}): {gains.gains[s]}" for s in gains.sizes)
        + f". Targets where H-score tied every encoder ({wording.tie_cause}counted as no ranking, 0): "
        + ", ".join(f"n = {s}: {len(tied[s][H])}" for s in gains.sizes) + ".", "",
        *measures, "",
        f"![gain against n/d](plots/{wording.plot})", "",
        "## (a') the gain against log(n/d), within target", "",
        *rule_section(a_prime, first_trial_at, [cells], task_unit_label=t),
        f"Secondary ({wording.contrast}): the gain at n = 50 minus the gain with all training {wording.samples}, "
        f"paired by target: {gains.secondary} ({rule_verdict(gains.secondary, 0.0)} for 'larger at small n').", "",
        *what_ran,
    ]
    return "\n".join(lines) + "\n"
