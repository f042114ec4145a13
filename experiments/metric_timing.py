"""Cost of H_alpha, H-score and LogME as the number of samples n and the dimension d grow.

Synthetic Gaussian class clusters (10 classes); each trial times one metric on one (n, d), best of
three repeats. Run with one worker so that trials do not compete for the cores.

    python experiments/metric_timing.py --preset small --workers 1   # 2 CPU cores, a few minutes
    python experiments/metric_timing.py --preset full --workers 1
"""

from __future__ import annotations

from gtransfer.cli.experiments import experiment_parser
from gtransfer.studies.experiment import run_experiment


def specs(preset: str) -> list[dict]:
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


if __name__ == "__main__":
    args = experiment_parser(__doc__.splitlines()[0]).parse_args()
    run_experiment(specs(args.preset), args, f"results/metric_timing-{args.preset}")
