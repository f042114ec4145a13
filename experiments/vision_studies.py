"""Run a vision study through the shared sweep engine and report it.

``python experiments/vision_studies.py source-selection --preset small`` writes the study's spec,
runs its trials (resumably) into a store and writes the shared report, all under ``--out`` (default
``results/vision/<study>-<preset>/`` of the current folder): ``spec.yaml``, ``results.db`` and
``report/``. Nothing inside the repository is rewritten unless asked: ``--write-recorded-spec``
updates the recorded copy under ``experiments/specs/`` (what docs/results.md links to). The same can be
done by hand with ``gtransfer sweep OUT/spec.yaml --store OUT/results.db`` and ``gtransfer report``.
The studies: :mod:`gtransfer.studies.designs.vision`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RECORDED_SPEC_DIR = Path(__file__).resolve().parent / "specs"


def main(argv: list[str] | None = None) -> int:
    from gtransfer.studies.designs.vision import STUDIES, run_vision_study

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("study", choices=sorted(STUDIES))
    parser.add_argument("--preset", choices=("small", "full"), default="small")
    parser.add_argument("--out", help="output folder: spec.yaml, results.db, report/ "
                                      "(default results/vision/<study>-<preset>)")
    parser.add_argument("--zoo", help="the zoo folder (default results/vision/zoo-<preset>, as build_vision_zoo.py "
                                      "writes it)")
    parser.add_argument("--cache", default=".cache/vision/embeddings",
                        help="embedding cache folder (default .cache/vision/embeddings)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--spec-only", action="store_true", help="only write the spec file")
    parser.add_argument("--write-recorded-spec", action="store_true",
                        help="also rewrite the recorded spec in experiments/specs/ (inside the repository)")
    args = parser.parse_args(argv)
    return run_vision_study(args.study, args.preset, out=Path(args.out or f"results/vision/{args.study}-{args.preset}"),
                            zoo=Path(args.zoo or f"results/vision/zoo-{args.preset}"), cache=Path(args.cache),
                            workers=args.workers, spec_only=args.spec_only,
                            recorded_spec_dir=RECORDED_SPEC_DIR if args.write_recorded_spec else None)


if __name__ == "__main__":
    from gtransfer.cli.experiments import run_script

    raise SystemExit(run_script(main, "vision_studies.py"))
