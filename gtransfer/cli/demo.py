"""``gtransfer demo``: the graph demo (:mod:`gtransfer.demos.graph`), or with ``--digits`` the metric core
alone on scikit-learn's digits (:mod:`gtransfer.demos.digits`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from gtransfer.cli.common import add_data_root_argument

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("demo",
                       help="rank published and zoo encoders for a shipped molecule target, check against fine-tuning",
                       description="Rank the published encoders and the zoo on BACE (shipped in datasets/), fine-tune "
                                   "them, and say whether the ranking agreed with fine-tuning; --digits runs the "
                                   "metric core alone on scikit-learn's digits.")
    add_data_root_argument(p)
    p.add_argument(
        "--out", default=None, help="output folder (default results/demo; with --digits results/demo-digits)"
    )
    p.add_argument("--quick", action="store_true", help="fewer encoders, molecules and epochs (a smoke run)")
    p.add_argument("--encoders", nargs="+", help="candidates instead of the published encoders and the zoo")
    p.add_argument("--max-samples", type=int, help="BACE molecules to use (default 600; quick 300)")
    p.add_argument("--epochs", type=int, help="fine-tuning epochs (default 4; quick 2)")
    p.add_argument("--workers", type=int, default=2, help="parallel trials (default 2)")
    digits = p.add_argument_group("the metric core alone, on scikit-learn's digits")
    digits.add_argument("--digits", action="store_true", help="run the digits demo instead (about a minute)")
    digits.add_argument(
        "--with-nleep", action="store_true", help="digits: also compute N-LEEP (a Gaussian mixture per candidate)"
    )
    digits.add_argument("--seed", type=int, default=0, help="digits: seed of the source models and splits")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.digits:
        from gtransfer.demos.digits import run as run_digits

        run_digits(out=Path(args.out or "results/demo-digits"), with_nleep=args.with_nleep, seed=args.seed)
        return 0
    from gtransfer.demos.graph import run_demo

    run_demo(data_root=args.data_root, out_dir=args.out or "results/demo", quick=args.quick, workers=args.workers,
             encoders=args.encoders, max_samples=args.max_samples, epochs=args.epochs)
    return 0
