"""What every claims page shows, and what the claims share: the names of the compared metrics, the reports' tables,
the dataset-level interval, a rule with its digest and registration check, its placebos' verdicts and the same rule
with the task unit, the verdict's stability, and what was run."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gtransfer.evaluation import (
    ClaimSpec,
    ClaimVerdict,
    Exclusion,
    Interval,
    Stability,
    check_registration,
    dataset_of,
    hierarchical_bootstrap,
    spec_digest,
)
from gtransfer.studies.claims.statistics import TimingClaim, ties_as_constant

H, H_ALPHA, LOGME = "h_score", "shrinkage_h_score", "logme"
#: the metrics of the source-selection claims, and of the target-selection claim
SOURCE_METRICS = (H_ALPHA, H, LOGME, "gbc", "transrate", "knn_accuracy")
TARGET_METRICS = ("nce", "leep", "nce_normalized", "leep_normalized", H_ALPHA, LOGME)
#: the measures every metric is shown with
SHOWN_MEASURES = ("spearman", "pearson", "kendall", "weighted_kendall", "top1_relative_accuracy")
PAPER = "Ibrahim, Ponomareva, Mazumder, ECML-PKDD 2022"
#: resamples of the stability setups' verdicts (each setup's verdict is recomputed; the registered rule uses n_boot)
STABILITY_BOOT = 2000
PROVISIONAL = ("**Provisional.** The rules judged on the 2026-12-02 reports were written on 2026-12-07, after those "
               "reports, so they were fixed with the data in hand. The rules of the new truths (issue 25 item 3: "
               "multi-task fine-tuning with 3 seeds; target selection on disjoint source heads with a balanced truth; "
               "the sections 'On the ... truth' below) were fixed on 2026-12-07 at 19:10 UTC, before any metric was "
               "scored against those truths and, for (d), before the target truth's first trial; they weigh more.")
#: how the graph pages name the same rule with the task unit (they first decided with it, on 2026-12-02)
OLD_UNIT = "the same rule with the old unit (tasks resampled as one pool, as the 2026-12-02 pages did)"


@dataclass(frozen=True)
class RuleOutcome:
    """A registered rule decided: its spec, its verdict, the same rule with the tasks resampled as one pool
    (``task_unit``, None where the page does not show it) and the verdict's stability."""

    spec: ClaimSpec
    verdict: ClaimVerdict
    task_unit: ClaimVerdict | None
    stability: Stability


# -- reading the reports --------------------------------------------------------------------------------------------
def read_report(reports: Path, study: str) -> pd.DataFrame:
    """A study's ``scores_and_truth.csv`` in ``reports``; a missing one ends the run, naming it."""
    path = reports / study / "scores_and_truth.csv"
    if not path.exists():
        raise SystemExit(f"no report {path}: run the medium presets and commit their reports first")
    return pd.read_csv(path)


def source_report(reports: Path, study: str) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """A source-selection report with the metrics constant on a target set to 0 there, and those targets
    (:func:`~gtransfer.studies.claims.statistics.ties_as_constant`)."""
    return ties_as_constant(read_report(reports, study), [m for m in SOURCE_METRICS], group="target")


def dataset_interval(values: pd.Series, *, unit: str = "dataset", n_boot: int = 10_000, seed: int = 0) -> Interval:
    """The hierarchical-bootstrap interval of the mean of per-group ``values`` (indexed by group), the groups'
    datasets resampled first."""
    return hierarchical_bootstrap(values.to_numpy(np.float64), datasets=[dataset_of(g) for g in values.index],
                                  unit=unit, n_boot=n_boot, seed=seed)


def run_lines(runs: Mapping, *names: str) -> list[str]:
    """A page's 'What was run' lines: the command, hardware, date and wall time of each named run."""
    lines = []
    for name in names:
        run = runs.get(name)
        if run:
            notes = f" ({run['notes']})" if run.get("notes") else ""
            lines.append(f"- `{run['command']}` on {run['hardware']}, {run['date']}: {run['wall_minutes']} minutes of "
                         f"wall time{notes}.")
    return lines or ["- (not recorded)"]


# -- the pieces every page shows ------------------------------------------------------------------------------------
def rule_lines(spec: ClaimSpec | TimingClaim, first_trial_at: str | None) -> list[str]:
    """A rule's statement, its spec file and digest with every field, and its registration check against the
    study's first trial."""
    check = check_registration(spec, first_trial_at)  # type: ignore[arg-type]  # a TimingClaim digests alike
    rule = {k: v for k, v in spec.rule().items() if k != "statement"}
    return [f"Rule `{spec.claim}`: {spec.statement}", "",
            f"Spec `specs/{_spec_file(spec.claim)}`, digest `{spec_digest(spec)}` "  # type: ignore[arg-type]
            f"({', '.join(f'{k}: {v}' for k, v in rule.items())}).", "", check.line()]


def _spec_file(claim: str) -> str:
    return claim.replace("'", "-prime") + ".yaml"


def placebo_verdict_lines(result: ClaimVerdict, *, task_unit: ClaimVerdict | None = None,
                          task_unit_label: str = OLD_UNIT) -> list[str]:
    """The verdict and its placebos' lines, a line saying every placebo fails where none passes, and, given
    ``task_unit``, the same rule with the tasks resampled as one pool (named ``task_unit_label``)."""
    lines = list(result.lines())
    if not result.broken:
        lines.append(f"Every placebo fails the rule ({', '.join(result.placebos)}): the rule is sound against them.")
    if task_unit is not None:
        lines.append(f"- {task_unit_label}: **{task_unit.verdict}** ({task_unit.interval}); placebos: "
                     + "; ".join(f"{n} {v} ({i})" for n, (v, i) in task_unit.placebos.items())
                     + (" -- **broken with the task-level unit**" if task_unit.broken else ""))
    return lines


def said(result: ClaimVerdict) -> str:
    """A verdict as the tables say it: a broken rule's verdict carries nothing, and says so."""
    return f"{result.verdict}, but the rule is broken" if result.broken else result.verdict


def stability_line(stability: Stability) -> str:
    """The verdict's stability over the perturbed setups, as a page's line."""
    text = str(stability)
    if math.isnan(stability.kendalls_w):  # one statistic: there is no ordering of metrics to compare
        text = text.split("; metric orderings")[0] + "; one statistic, so no ordering of metrics"
    return f"Stability: {text}."


def exclusion_line(exclusion: Exclusion) -> str:
    """The seed-agreement exclusion fixed in a spec, as a page's line: the groups left out and why."""
    return (f"Exclusion (fixed in the spec): seed agreement below 0.2 -- {exclusion.summary()}"
            + (f" ({', '.join(f'{g}: {r[0]}' for g, r in exclusion.excluded.items())})" if exclusion.excluded else "")
            + ".")


def paragraphs(texts: Sequence[str]) -> list[str]:
    """Page lines: each of ``texts`` followed by a blank line."""
    return [line for text in texts for line in (text, "")]


def rule_section(outcome: RuleOutcome, first_trial_at: str | None, context: Sequence[str], *,
                 after: Sequence[str] = (), task_unit_label: str = OLD_UNIT) -> list[str]:
    """A rule's lines (:func:`rule_lines`), its ``context`` paragraphs (the truth, the exclusion), its placebo
    lines with the task unit's (:func:`placebo_verdict_lines`), the paragraphs ``after`` them and its stability,
    each followed by a blank line."""
    return [*rule_lines(outcome.spec, first_trial_at), "", *paragraphs(context),
            *placebo_verdict_lines(outcome.verdict, task_unit=outcome.task_unit, task_unit_label=task_unit_label), "",
            *paragraphs(after), stability_line(outcome.stability), ""]
