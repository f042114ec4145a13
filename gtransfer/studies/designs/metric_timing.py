"""Cost of H_alpha, H-score and LogME as the number of samples n and the dimension d grow.

Synthetic Gaussian class clusters (10 classes); each trial times one metric on one (n, d), best of
three repeats. Run with one worker so that trials do not compete for the cores.
Front end: ``experiments/metric_timing.py``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gtransfer.studies.experiment import run_experiment

__all__ = ["PRESETS", "specs", "run_metric_timing"]

PRESETS = ("small", "full")


def specs(preset: str) -> list[dict]:
    """The one study of ``preset``: ``small`` (n up to 4,000, d up to 1,024) or ``full`` (n up to 64,000)."""
    if preset == "small":
        grid = {"n": [250, 500, 1000, 2000, 4000], "d": [64, 256, 1024]}
    else:
        grid = {"n": [1000, 4000, 16000, 64000], "d": [128, 512, 2048, 4096]}
    return [{
        "name": f"metric-timing-{preset}",
        "description": "Seconds per metric call on synthetic features (best of 3), on the machine that ran it.",
        "kind": "metric_timing",
        "seeds": [0],
        "grid": {"metric": ["shrinkage_h_score", "h_score", "logme"], **grid},
        "params": {"classes": 10, "repeats": 3},
    }]


def run_metric_timing(args: argparse.Namespace) -> list[Path]:
    """Run the study of ``args.preset`` (``args``: :func:`gtransfer.cli.experiments.experiment_parser`'s) under
    ``args.out`` (default ``results/metric_timing-<preset>``); the reports."""
    return run_experiment(specs(args.preset), args, f"results/metric_timing-{args.preset}")
