"""PNG plots of a study (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

__all__ = ["scatter_metric_vs_truth", "correlation_bars", "timing_plot", "line_styles"]


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def line_styles(count: int) -> list[dict]:
    """``count`` distinguishable line/point styles: 20 colours (tab20), then new markers and dashes."""
    import matplotlib

    colours = matplotlib.colormaps["tab10" if count <= 10 else "tab20"].colors
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    dashes = ["-", "--", ":", "-."]
    return [
        {
            "color": colours[i % len(colours)],
            "marker": markers[(i // len(colours)) % len(markers)]
            if count > len(colours)
            else markers[i % len(markers)],
            "linestyle": dashes[(i // len(colours)) % len(dashes)],
        }
        for i in range(count)
    ]


def _short(text: object, width: int = 22) -> str:
    text = str(text)
    text = text.split(":", 1)[1] if text.startswith(("published:", "random:")) and len(text) > width else text
    return text if len(text) <= width else text[: width - 1] + "…"


def scatter_metric_vs_truth(data: pd.DataFrame, metric: str, truth: str, group: str, candidate: str, path: Path,
                            *,
                            truth_words: str = "fine-tuned") -> Path:
    """One point per (group, candidate): metric value against the ground truth, one colour per group.

    Each point is labelled with its candidate (shortened) when there are at most 40 points.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.0, 4.6))
    groups = list(data.groupby(group, sort=True))
    for (name, part), style in zip(groups, line_styles(len(groups))):
        ax.scatter(part[metric], part[truth], s=24, label=str(name), color=style["color"], marker=style["marker"])
        if len(data) <= 40:
            for x, y, label in zip(part[metric], part[truth], part[candidate]):
                ax.annotate(_short(label), (x, y), xytext=(3, 3), textcoords="offset points", fontsize=6, alpha=0.85)
    ax.set_xlabel(metric)
    ax.set_ylabel(f"{truth_words} {truth}")
    ax.set_title(f"{metric} vs {truth} (one point per {candidate})", fontsize=9)
    if data[group].nunique() <= 12:
        ax.legend(fontsize=7, title=group, title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def correlation_bars(aggregate: pd.DataFrame, measure: str, truth: str, path: Path) -> Path:
    """Mean ``measure`` over groups per metric, with its bootstrap interval as error bars."""
    plt = _pyplot()
    part = aggregate[aggregate["truth"] == truth].sort_values(measure, ascending=False)
    values = part[measure].to_numpy(dtype=float)
    low = values - part[f"{measure}_low"].to_numpy(dtype=float)
    high = part[f"{measure}_high"].to_numpy(dtype=float) - values
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(part) + 1.5), 3.8))
    positions = np.arange(len(part))
    ax.bar(positions, values, yerr=np.vstack([np.nan_to_num(low), np.nan_to_num(high)]), capsize=3, color="tab:blue")
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(positions, part["metric"], rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(f"{measure} with {truth}")
    ax.set_title(f"{measure} (mean over groups, 95% bootstrap interval)", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _compact(value: float) -> str:
    """1000 -> 1k, 50000 -> 50k, 2000000 -> 2M: short tick labels that do not collide."""
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if value >= size and value % size == 0:
            return f"{value / size:g}{suffix}"
    return f"{value:g}"


def timing_plot(timing: pd.DataFrame, path: Path) -> Path:
    """Seconds against n (left, one line per metric and d) and against d (right, per metric and n).

    The x ticks are the measured sizes, written compactly and rotated so they do not overlap; with
    more than 10 lines each gets its own colour, marker and dash (tab20, then markers), and the
    legend goes below the plots.
    """
    from matplotlib.ticker import FixedLocator, NullLocator

    plt = _pyplot()
    left = list(timing.groupby(["metric", "d"], sort=True))
    right = list(timing.groupby(["metric", "n"], sort=True))
    most = max(len(left), len(right))
    fig, axes = plt.subplots(1, 2, figsize=(11.0, 4.4 + 0.12 * max(0, most - 10)))
    for ax, lines, axis, other in ((axes[0], left, "n", "d"), (axes[1], right, "d", "n")):
        for ((metric, value), part), style in zip(lines, line_styles(len(lines))):
            ax.plot(part[axis], part["seconds"], label=f"{metric}, {other}={_compact(value)}", markersize=4, **style)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted(timing[axis].unique())
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticklabels([_compact(t) for t in ticks], rotation=45, ha="right", fontsize=7)
        ax.set_xlabel(axis)
        ax.set_ylabel("seconds (best of repeats)")
        ax.legend(fontsize=6, ncol=2 if len(lines) > 10 else 1, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    fig.suptitle("metric cost as n and d grow", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
