"""Truths that can carry the claims: the multi-task fine-tuning truth of source selection and the
target-selection truth on disjoint source/target halves (:mod:`gtransfer.studies.designs.truths`).

Every run prints its projection first (trials, BBBP training epochs of work, device-hours at the measured CPU rate
or at ``--device-rate``, and at the reference rates), and is resumable through ``--store``.

    python experiments/truths.py --preset medium --project-only
    python experiments/truths.py --preset medium --part source --datasets ogbg-molbbbp ogbg-molbace \\
        --out docs/results/truths-medium            # the first slice (2 CPU cores)
    python experiments/truths.py --preset medium --out docs/results/truths-medium   # the rest, resumed
    python experiments/truths.py --preset full --device-rate R   # one H200, packed; under 9 minutes at 37/s (a target)
    python experiments/device_bundle.py build --check   # the full preset ready for the lent GPU machine (no RDKit)
"""

from __future__ import annotations

from gtransfer.cli.experiments import truths_parser
from gtransfer.studies.designs.truths import run_truths

if __name__ == "__main__":
    args = truths_parser().parse_args()
    run_truths(args.preset, out=args.out or f"results/truths-{args.preset}", store=args.store,
               device_rate=args.device_rate, project_only=args.project_only, datasets=args.datasets, part=args.part,
               workers=args.workers, data_root=args.data_root)
