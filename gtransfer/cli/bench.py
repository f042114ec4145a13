"""``python -m gtransfer.bench``: ``metrics`` and ``suite`` (the metric core), ``claims-timing`` (claim (c)'s two
LogME comparators), ``gpu-check`` (one table of the GPU checks), ``corpus`` (featurisation), ``training`` (packed
fine-tuning)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from gtransfer.cli.common import add_data_root_argument

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from gtransfer import metrics
    from gtransfer.bench.metrics import FAST_SCORE_ALL

    parser = argparse.ArgumentParser(
        prog="python -m gtransfer.bench",
        description="Benchmarks that print ratios against a baseline timed in the same run.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    one = sub.add_parser("metrics", help="time every metric on one synthetic matrix, as a ratio to one Gram product")
    one.add_argument("--n", type=int, default=50000)
    one.add_argument("--d", type=int, default=2048)
    one.add_argument("--classes", type=int, default=100)
    one.add_argument("--metrics", nargs="+", default=FAST_SCORE_ALL + ["score_all"],
                     choices=sorted(metrics.METRICS) + ["score_all"] + sorted(metrics.POOL_METRICS))
    one.add_argument("--no-textbook", action="store_true", help="skip the slow textbook route")
    one.add_argument(
        "--dtype",
        default="float64",
        choices=["float64", "float32"],
        help="dtype of the features (the baseline Gram is float64)",
    )
    suite = sub.add_parser("suite", help="the four reference configurations of the metric core, with their targets")
    for p in (one, suite):
        p.add_argument("--device", default="cpu", help="cpu, or cuda[:k] to score torch tensors on a GPU")
        p.add_argument("--repeat", type=int, default=2)
        p.add_argument("--json", help="also write the results to this JSON file")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
    timing = sub.add_parser(
        "claims-timing", help="claim (c): H_alpha against the project's LogME and LogME as published"
    )
    timing.add_argument(
        "--d",
        type=int,
        nargs="+",
        default=[256, 512, 1024, 2048],
        help="feature dimensions (default 256 512 1024 2048)",
    )
    timing.add_argument("--n-multiple", type=float, default=2.0, help="samples n = this x d (default 2)")
    timing.add_argument("--classes", type=int, default=10)
    timing.add_argument("--repeat", type=int, default=2, help="best of this many calls (default 2)")
    timing.add_argument("--json", help="also write the rows to this JSON file")
    suite.add_argument("--match", help="only the cases whose label contains this text (case-insensitive), e.g. PACTran")
    gpu = sub.add_parser("gpu-check", help="the CUDA tests, the suite on cuda and the training benchmark, as one table")
    gpu.add_argument("--repeat", type=int, default=3)
    gpu.add_argument("--timeout", type=float, default=240.0,
                     help="seconds each subprocess check (the CUDA tests, the training benchmark) may take "
                     "(default 240)")
    corpus = sub.add_parser("corpus", help="corpus featurisation throughput for 1, 2, ... workers")
    corpus.add_argument("--corpus", default="moses-test")
    corpus.add_argument(
        "--max-samples", dest="max_samples", type=int, default=20_000, help="molecules to featurise (default 20000)"
    )
    corpus.add_argument("--limit", dest="max_samples", type=int, help=argparse.SUPPRESS)
    corpus.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    corpus.add_argument("--repeats", type=int, default=3)
    corpus.add_argument("--featurizer", default="ogb", choices=["ogb", "hu2020"])
    add_data_root_argument(corpus)
    corpus.add_argument("--json", help="also write the rows to this JSON file")
    corpus.add_argument("--no-progress", action="store_true", help="no progress bar")
    training = sub.add_parser(
        "training", help="fine-tuning epochs per second: the one-model loop against packed training"
    )
    training.add_argument("--device", default=None, help="cpu or cuda[:k] (default: a GPU when there is one)")
    training.add_argument("--pack", type=int, nargs="+", default=[1, 8], help="pack sizes K to time (default 1 8)")
    training.add_argument("--epochs", type=int, default=2, help="epochs per timed run (default 2)")
    training.add_argument("--batch-size", type=int, default=32)
    training.add_argument("--encoder", default="random:gin",
                          help="architecture as random:ARCH[:layers=L,dim=D] (default random:gin, a GIN 5x300)")
    training.add_argument(
        "--max-graphs", type=int, default=None, help="subsample BBBP to this many graphs (a quick look)"
    )
    training.add_argument(
        "--sequential-trials", type=int, default=1, help="trials of the one-model loop to time (default 1)"
    )
    training.add_argument(
        "--trial-epochs", type=int, default=100, help="epochs per trial in the trials/h and preset projections"
    )
    training.add_argument("--no-progress", action="store_true")
    add_data_root_argument(training)
    training.add_argument("--json", help="also write the rows to this JSON file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark named on the command line; returns the exit status (130 on Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        print("\npython -m gtransfer.bench: interrupted; no result was written", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    from gtransfer.io.atomic import write_json

    if args.command == "gpu-check":
        from gtransfer.bench.gpu_check import run_gpu_check

        return run_gpu_check(repeat=args.repeat, timeout=args.timeout)
    if args.command in ("metrics", "suite") and args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            print(
                f"error: --device {args.device}: torch {torch.__version__} sees no CUDA GPU (a CPU-only build, or no "
                "visible device); "
                "run without --device to benchmark the CPU",
                file=sys.stderr,
            )
            return 2
    if args.command == "claims-timing":
        from gtransfer.bench.logme_timing import print_claims_timing, run_claims_timing

        try:
            result = run_claims_timing(
                dimensions=tuple(args.d), n_multiple=args.n_multiple, classes=args.classes, repeat=args.repeat
            )
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print_claims_timing(result)
    elif args.command == "metrics":
        from gtransfer.bench.metrics import print_report, run_metrics

        result = run_metrics(
            args.n,
            args.d,
            args.classes,
            args.metrics,
            device=args.device,
            repeat=args.repeat,
            textbook=not args.no_textbook,
            dtype=args.dtype,
            progress=not args.no_progress,
        )
        print_report(result)
    elif args.command == "suite":
        from gtransfer.bench.metrics import run_suite

        result = run_suite(args.repeat, args.device, match=args.match)
    elif args.command == "training":
        from gtransfer.bench.training import print_training_report, run_training_benchmark

        result = run_training_benchmark(
            packs=args.pack,
            epochs=args.epochs,
            device=args.device,
            batch_size=args.batch_size,
            max_graphs=args.max_graphs,
            sequential_trials=args.sequential_trials,
            trial_epochs=args.trial_epochs,
            root=args.data_root,
            progress=not args.no_progress,
            encoder=args.encoder,
        )
        print_training_report(result)
    else:
        from gtransfer.bench.corpus import benchmark, print_rows
        from gtransfer.data.corpus import read_corpus_smiles

        smiles = read_corpus_smiles(args.corpus, root=args.data_root, limit=args.max_samples)
        result = benchmark(
            smiles,
            workers=args.workers,
            repeats=args.repeats,
            featurizer=args.featurizer,
            progress=not args.no_progress,
        )
        print_rows(result, args.corpus, args.featurizer, args.repeats)
    if args.json:
        write_json(args.json, result)
        print(json.dumps({"written": args.json}))
    return 0
