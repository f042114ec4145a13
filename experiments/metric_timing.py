"""Cost of H_alpha, H-score and LogME as the number of samples n and the dimension d grow.

Synthetic Gaussian class clusters (10 classes); each trial times one metric on one (n, d), best of
three repeats (the design: :mod:`gtransfer.studies.designs.metric_timing`). Run with one worker so that
trials do not compete for the cores.

    python experiments/metric_timing.py --preset small --workers 1   # 2 CPU cores, a few minutes
    python experiments/metric_timing.py --preset full --workers 1
"""

from __future__ import annotations

from gtransfer.cli.experiments import experiment_parser
from gtransfer.studies.designs.metric_timing import PRESETS, run_metric_timing

if __name__ == "__main__":
    run_metric_timing(experiment_parser(__doc__.splitlines()[0], presets=PRESETS).parse_args())
