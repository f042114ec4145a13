"""The table of every measure a claims page shows: each metric's and each target-agnostic baseline's mean measure
over groups with its dataset-level interval, and each metric's gain over the best baseline."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

from gtransfer.evaluation import (
    baseline_measures,
    dataset_of,
    gain_over_baselines,
    hierarchical_bootstrap,
    per_group_measure,
)
from gtransfer.studies.claims.common import SHOWN_MEASURES

#: a measure's name -> the baselines' per-group values of it, by baseline
Baselines = Callable[[str], Mapping[str, pd.Series]]


def measure_table(frame: pd.DataFrame, truth: str, metrics: tuple[str, ...], *, group: str, baselines: Baselines,
                  datasets: Mapping[str, str] | None = None) -> list[str]:
    """A page's table of every shown measure: the mean over groups of each metric's and each baseline's measure with
    its dataset-level interval (``datasets`` maps a group to its dataset where the group's name does not say it), and
    each metric's gain over the best baseline. ``baselines(measure)`` gives the baselines' per-group measures."""
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


def source_baselines(frame: pd.DataFrame, truth: str) -> Baselines:
    """The target-agnostic baselines of a source-selection table (:func:`~gtransfer.evaluation.baseline_measures`)."""
    return lambda measure: baseline_measures(frame, truth, measure=measure)
