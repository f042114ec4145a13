"""PNG plots of a study (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

__all__ = ["scatter_metric_vs_truth", "correlation_bars", "timing_plot"]


def _pyplot() -> ModuleType:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def scatter_metric_vs_truth(data: pd.DataFrame, metric: str, truth: str, group: str, candidate: str, path: Path) -> Path:
    """One point per (group, candidate): metric value against fine-tuned score, one colour per group."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 4.0))
    for name, part in data.groupby(group, sort=True):
        ax.scatter(part[metric], part[truth], s=24, label=str(name))
    ax.set_xlabel(metric)
    ax.set_ylabel(f"fine-tuned {truth}")
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


def timing_plot(timing: pd.DataFrame, path: Path) -> Path:
    """Seconds against n (left, one line per metric and d) and against d (right, per metric and n)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.0))
    for (metric, d), part in timing.groupby(["metric", "d"], sort=True):
        axes[0].plot(part["n"], part["seconds"], marker="o", label=f"{metric}, d={d}")
    for (metric, n), part in timing.groupby(["metric", "n"], sort=True):
        axes[1].plot(part["d"], part["seconds"], marker="o", label=f"{metric}, n={n}")
    for ax, axis in zip(axes, ("n", "d")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(axis)
        ax.set_ylabel("seconds (best of repeats)")
        ax.legend(fontsize=6)
    fig.suptitle("metric cost as n and d grow", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
