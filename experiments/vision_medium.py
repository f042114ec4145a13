"""The vision medium preset (issue 25): the image claims' studies on 2 CPU cores, one resumable store.

Builds the ``medium`` zoo (17 encoders, resumable), prints the projection (trials, fine-tuning image-epochs, then
CPU-hours at the zoo's own training rates), sweeps the five source-selection studies (scores from n = 50, 100, 300,
600 and all training images; fine-tuning truth with seeds 0-2) and the target-selection study (six d = 512 families)
into ``OUT/results.db`` and writes each study's report into ``OUT/<study>/``
(:mod:`gtransfer.studies.designs.vision_medium`). Rerun the same command after a kill: finished trials are skipped.

    python experiments/vision_medium.py --project-only
    OMP_NUM_THREADS=1 python experiments/vision_medium.py --workers 2 --out docs/results/vision-medium
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv: list[str] | None = None) -> int:
    from gtransfer.cli.experiments import vision_medium_parser
    from gtransfer.studies.designs.vision_medium import run_vision_medium

    args = vision_medium_parser().parse_args(argv)
    report = run_vision_medium(out=args.out, zoo=args.zoo, cache=args.cache, workers=args.workers,
                               project_only=args.project_only, data_root=args.data_root)
    finished = bool(report["summaries"]) and all(s.complete for s in report["summaries"].values())
    return 0 if args.project_only or finished else 1


if __name__ == "__main__":
    from gtransfer.cli.experiments import run_script

    raise SystemExit(run_script(main, "vision_medium.py"))
