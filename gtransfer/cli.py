"""The ``gtransfer`` command: score, rank, finetune, embed, pretrain, sweep, report, demo.

Errors a user can fix (missing files, bad arrays, bad specs) print one line and a hint, and exit with
status 2; ``--debug`` shows the traceback instead. Each subcommand is a thin front: the work is done
by library functions that the subcommand names in its help.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Callable, Sequence

__all__ = ["main", "build_parser", "CommandError"]


class CommandError(ValueError):
    """A user error with a hint on how to fix it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


# -- score -----------------------------------------------------------------------------------------
def _cmd_score(args: argparse.Namespace) -> int:
    import numpy as np

    from gtransfer.studies.arrays import load_array

    features = load_array(args.features, "features", "features")
    labels = load_array(args.labels, "labels", "labels")
    source_probs = load_array(args.source_probs, "source_probs", "source probabilities") if args.source_probs else None
    if features.ndim != 2:
        raise ValueError(f"features must be a 2-D (n, d) array, got shape {features.shape}")
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(f"labels must have shape ({features.shape[0]},) to match the features, got {labels.shape}")
    if source_probs is not None and (source_probs.ndim != 2 or source_probs.shape[0] != features.shape[0]):
        raise ValueError(f"source probabilities must have shape ({features.shape[0]}, Z), got {source_probs.shape}")
    try:
        from gtransfer.metrics import score_all
    except ImportError as exc:
        raise CommandError(f"the metric core is not available: {exc}", "reinstall gtransfer (pip install -e .)") from None
    metrics = args.metrics.split(",") if args.metrics else None
    scores = score_all(
        np.asarray(features, dtype=np.float64),
        labels,
        source_probs=None if source_probs is None else np.asarray(source_probs, dtype=np.float64),
        metrics=metrics,
    )
    scores = {name: float(value) for name, value in scores.items()}
    if args.format == "json":
        print(json.dumps(scores, indent=1))
    elif args.format == "csv":
        print("metric,value")
        for name, value in scores.items():
            print(f"{name},{value!r}")
    else:
        width = max(map(len, scores), default=6)
        for name, value in scores.items():
            print(f"{name:<{width}}  {value: .10g}")
    return 0


# -- sweep and report --------------------------------------------------------------------------------
def _cmd_sweep(args: argparse.Namespace) -> int:
    from gtransfer.studies.runner import run_sweep
    from gtransfer.studies.spec import load_spec
    from gtransfer.studies.store import TrialStore

    spec = load_spec(args.spec)
    options = {}
    if args.engine == "local" and args.devices:
        options["devices"] = args.devices.split(",")
    if args.engine == "ray":
        options.update(address=args.ray_address, num_cpus=args.ray_cpus, num_gpus_per_trial=args.gpus_per_trial)
    elif args.ray_address or args.ray_cpus:
        raise CommandError("--ray-address/--ray-cpus apply only to --engine ray", "add --engine ray")
    with TrialStore(args.store) as store:
        summary = run_sweep(
            spec, store, workers=args.workers, engine=args.engine, progress=not args.no_progress, limit=args.limit, **options
        )
    print(
        f"{spec.name}: {summary.already_done + summary.succeeded}/{summary.total} trials done "
        f"({summary.succeeded} now, {summary.already_done} before, {summary.failed} failed) -> {args.store}"
    )
    if summary.failed:
        print(f"hint: see the errors with `gtransfer report --store {args.store}`; rerun the same command to retry them", file=sys.stderr)
        return 1
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from gtransfer.studies.report import write_report

    for path in write_report(args.store, args.out, study=args.study):
        print(path)
    return 0


# -- graph fronts (data, models, embeddings) ------------------------------------------------------------
def _cmd_rank(args: argparse.Namespace) -> int:
    from gtransfer.studies.ranking import rank_encoders

    ranking = rank_encoders(
        args.target, args.encoders, metric=args.metric, data_root=args.data_root, max_samples=args.max_samples,
        cache=args.cache, progress=not args.no_progress,
    )
    print(ranking.to_string(index=False))
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from gtransfer.studies.demo import run_demo

    run_demo(data_root=args.data_root, out_dir=args.out, quick=args.quick, workers=args.workers,
             encoders=args.encoders, max_samples=args.max_samples, epochs=args.epochs)
    return 0


def _cmd_graph_front(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from gtransfer.studies import fronts

        return getattr(fronts, f"run_{name}")(args)

    return run


# -- parser and entry point ---------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gtransfer`` command."""
    parser = argparse.ArgumentParser(prog="gtransfer", description="Transferability metrics and studies for graph encoders.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("score", help="every transferability metric on one embedding matrix")
    p.add_argument("--features", required=True, help="(n, d) features: F.npy or F.npz[:key]")
    p.add_argument("--labels", required=True, help="(n,) integer labels 0..C-1: y.npy or y.npz[:key]")
    p.add_argument("--source-probs", help="(n, Z) source-model probabilities for LEEP/NCE: P.npy or P.npz[:key]")
    p.add_argument("--metrics", help="comma-separated metric names (default: all that apply)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.set_defaults(func=_cmd_score)

    p = sub.add_parser("rank", help="rank encoders for a target by their metric scores")
    p.add_argument("--target", required=True, help="DATASET[:TASK], e.g. ogbg-molbbbp, ogbg-moltox21:NR-AR, ENZYMES:k=3,ratio=2")
    p.add_argument("--encoders", required=True, nargs="+", help="encoder checkpoints (published .pth, gtransfer or DGL encoder checkpoints), published:NAME or random:ARCH")
    p.add_argument("--metric", default="shrinkage_h_score", help="metric to rank by (default shrinkage_h_score)")
    p.add_argument("--data-root", help="data root (default: GTRANSFER_DATA or ../shared/data)")
    p.add_argument("--max-samples", type=int, default=None, help="embed at most this many target graphs")
    p.add_argument("--cache", help="folder caching the embeddings (default: none)")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_rank)

    for name, help_text in (
        ("finetune", "fine-tune an encoder on a target (gtransfer.finetune)"),
        ("embed", "embed a target with an encoder and save the features as .npy (gtransfer.embed)"),
        ("pretrain", "pretrain an encoder on a molecule corpus or a dataset (gtransfer.pretrain)"),
    ):
        p = sub.add_parser(name, help=help_text)
        from gtransfer.studies import fronts

        getattr(fronts, f"add_{name}_arguments")(p)
        p.set_defaults(func=_cmd_graph_front(name))

    p = sub.add_parser("sweep", help="run a study spec's trials, resumably, into a trial store")
    p.add_argument("spec", help="study spec (YAML)")
    p.add_argument("--store", required=True, help="SQLite trial store (created if missing)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes / Ray tasks")
    p.add_argument("--engine", choices=("local", "ray"), default="local")
    p.add_argument("--devices", help="local engine: GPU ids for the workers, round-robin, e.g. 0,0,1,1")
    p.add_argument("--ray-address", help="Ray cluster address (default: start a local instance)")
    p.add_argument("--ray-cpus", type=int, help="CPUs of the local Ray instance")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="Ray: GPU share per trial")
    p.add_argument("--limit", type=int, help="run at most this many trials now")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("report", help="markdown/CSV tables and PNG plots of the studies in a store")
    p.add_argument("--store", required=True, help="SQLite trial store")
    p.add_argument("--out", required=True, help="output folder (one subfolder per study)")
    p.add_argument("--study", help="only this study")
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("demo", help="rank published and zoo encoders for a shipped molecule target, check against fine-tuning")
    p.add_argument("--data-root", help="data root (default: GTRANSFER_DATA or ../shared/data)")
    p.add_argument("--out", default="results/demo", help="output folder")
    p.add_argument("--quick", action="store_true", help="fewer encoders, molecules and epochs (a smoke run)")
    p.add_argument("--encoders", nargs="+", help="candidates instead of the published encoders and the zoo")
    p.add_argument("--max-samples", type=int, help="BACE molecules to use (default 600; quick 300)")
    p.add_argument("--epochs", type=int, help="fine-tuning epochs (default 4; quick 2)")
    p.add_argument("--workers", type=int, default=2, help="parallel trials (default 2)")
    p.set_defaults(func=_cmd_demo)
    return parser


_HINTS = {
    FileNotFoundError: "check the path (relative paths in a spec are relative to the spec's folder)",
    ValueError: "run `gtransfer COMMAND --help` for the expected inputs",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gtransfer`` console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("gtransfer: interrupted; finished trials are stored, rerun the command to resume", file=sys.stderr)
        return 130
    except (CommandError, FileNotFoundError, ValueError, ImportError) as exc:
        if args.debug:
            raise
        hint = getattr(exc, "hint", None) or _hint_for(exc, args.command)
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"gtransfer {args.command}: error: {message}", file=sys.stderr)
        print(f"hint: {hint}", file=sys.stderr)
        return 2


def _hint_for(exc: BaseException, command: str) -> str:
    if isinstance(exc, ImportError):
        return "a dependency is missing; install gtransfer with its extras (pip install -e '.[dev]')"
    for kind, hint in _HINTS.items():
        if isinstance(exc, kind):
            return hint.replace("COMMAND", command)
    return "rerun with --debug for the traceback"


if __name__ == "__main__":
    sys.exit(main())
