"""``gtransfer sweep`` and ``gtransfer report``: run a study spec's trials into a store, and report on a store."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from gtransfer.cli.common import CommandError

__all__ = ["add_parsers", "run_sweep_command", "run_report_command", "default_report_folder"]


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sweep", help="run a study spec's trials, resumably, into a trial store",
                       description="Expand a study spec (docs/studies.md) into trials, check it before any trial runs,"
                                   " and run every trial the store does not hold as finished, storing each as it ends:"
                                   " a stopped sweep resumes, failed trials are retried. Then `gtransfer report "
                                   "--store STORE`.")
    p.add_argument("spec", help="study spec (YAML)")
    p.add_argument("--store", required=True, help="SQLite trial store (created if missing)")
    p.add_argument("--workers", type=int, default=1, help="parallel worker processes / Ray tasks")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local worker processes (default) or Ray tasks")
    p.add_argument("--devices", help="local engine: GPU ids for the workers, round-robin, e.g. 0,0,1,1")
    p.add_argument("--ray-address", help="Ray cluster address (default: start a local instance)")
    p.add_argument("--ray-cpus", type=int, help="CPUs of the local Ray instance")
    p.add_argument("--gpus-per-trial", type=float, default=0.0, help="Ray: GPU share per trial")
    p.add_argument(
        "--max-trials", dest="max_trials", type=int, help="run at most this many trials now (the rest on a later run)"
    )
    p.add_argument("--limit", dest="max_trials", type=int, help=argparse.SUPPRESS)
    p.add_argument(
        "--pack-size",
        type=int,
        default=None,
        help="most graph_finetune trials trained together as one pack (default: 64 on a GPU, 8 on the CPU; "
        "1: no packs)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_sweep_command)

    p = sub.add_parser("report", help="markdown/CSV tables and PNG plots of the studies in a store",
                       description="Write report.md, CSV tables and PNG plots for each study in a trial store: metric "
                                   "scores against the ground truth (rank correlations with bootstrap intervals), "
                                   "timings. The spec's report: section says which trials score and which are the "
                                   "truth.")
    p.add_argument("--store", required=True, help="SQLite trial store")
    p.add_argument(
        "--out",
        help="output folder, one subfolder per study (default: STORE's name without .db and '-report', beside it)",
    )
    p.add_argument("--study", help="only this study")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (one per study, over its parts)")
    p.set_defaults(func=run_report_command)


def run_sweep_command(args: argparse.Namespace) -> int:
    from gtransfer.studies.runner import SweepInterrupted, run_sweep
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
    with TrialStore(args.store) as store, _sigterm_as_interrupt() as terminated:
        try:
            summary = run_sweep(
                spec,
                store,
                workers=args.workers,
                engine=args.engine,
                progress=not args.no_progress,
                limit=args.max_trials,
                pack_size=args.pack_size,
                **options,
            )
        except SweepInterrupted as stop:
            done = stop.summary
            print(
                f"\n{spec.name}: interrupted{' by SIGTERM' if terminated else ''}; "
                f"{done.already_done + done.succeeded + done.failed} of {done.total} trials are stored in "
                f"{args.store} ({done.succeeded + done.failed} in this run: {done.succeeded} ok, {done.failed} "
                "failed). "
                "Trials that were running are not stored and will run again: rerun the same command to resume.",
                file=sys.stderr,
            )
            return 128 + signal.SIGTERM if terminated else 130
    print(
        f"{spec.name}: {summary.already_done + summary.succeeded}/{summary.total} trials done "
        f"({summary.succeeded} now, {summary.already_done} before, {summary.failed} failed) -> {args.store}"
    )
    if summary.failed:
        print(
            f"hint: see the errors with `gtransfer report --store {args.store}` (in "
            f"{default_report_folder(args.store)}/); "
            "rerun the same command to retry them",
            file=sys.stderr,
        )
        return 1
    return 0


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[list[int]]:
    """Within: SIGTERM (kill's default; Slurm's scancel, docker stop, systemd) stops the sweep as Ctrl-C does.

    The handler raises KeyboardInterrupt in the main thread, so the sweep stops its workers, keeps every
    stored trial, checkpoints the WAL and says what was kept; the yielded list gets the signal's number.
    A second SIGTERM during that clean-up ends the process at once (the default action is restored).
    """
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def handler(signum: int, frame: object) -> None:
        received.append(signum)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield received
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_report_command(args: argparse.Namespace) -> int:
    from gtransfer.studies.report import write_report

    folder = args.out or default_report_folder(args.store)
    for path in write_report(args.store, folder, study=args.study, progress=not args.no_progress):
        print(path)
    return 0


def default_report_folder(store: str) -> str:
    """Where ``gtransfer report`` writes without ``--out``: ``results.db`` -> ``results-report`` beside it."""
    path = Path(store)
    return str(path.with_name(f"{path.stem}-report"))
