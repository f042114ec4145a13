"""Target selection: one encoder against many targets -- which tasks will it serve well?

Each family's encoder is a member of the graph source zoo (built first into ``<out>/zoo/``, kept when built),
so NCE and LEEP read its head; targets are ranked within each family, and the report correlates raw and
corrected NCE and LEEP and the other metrics with raw and relative accuracy of the ground truth. The design
(families, targets, sources and truth per preset): :mod:`gtransfer.studies.designs.target_selection`.

medium: run on 2026-12-02 on a 2-core AMD EPYC CPU, no GPU, with ``--workers 2``, while another study's
sweep ran on the same two cores: 20 minutes wall in all -- zoo build 1 min 44 s, 414 trials (138
scores, 276 fine-tunings) 14 min 24 s, report 3 min 40 s (docs/results/target-selection-medium/).

    python experiments/target_selection.py --preset small   # 2 CPU cores, about 15 minutes
    python experiments/target_selection.py --preset medium  # 2 CPU cores, about 20 minutes
    python experiments/target_selection.py --preset full    # GPU; fine-tuning as ground truth
"""

from __future__ import annotations

from gtransfer.cli.experiments import experiment_parser
from gtransfer.studies.designs.target_selection import PRESETS, run_target_selection

if __name__ == "__main__":
    run_target_selection(experiment_parser(__doc__.splitlines()[0], presets=PRESETS).parse_args())
