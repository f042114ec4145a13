"""Run a study end to end: write its spec, sweep it into a store (resumably), write its report.

Shared by the ``experiments/`` scripts (their arguments: :func:`gtransfer.cli.experiments.experiment_parser`)
and ``gtransfer demo``; rerunning the same call resumes.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import yaml

__all__ = ["run_study", "run_experiment"]


def run_study(
    spec: dict,
    out_dir: str | os.PathLike,
    *,
    workers: int = 1,
    engine: str = "local",
    progress: bool = True,
    store_name: str = "results.db",
) -> Path:
    """Write ``out_dir/<name>.yaml``, sweep it into ``out_dir/<store_name>``, report into ``out_dir/report/``.

    ``<name>`` is :func:`gtransfer.io.names.safe_name` of the spec's name (no name leads outside ``out_dir``).

    Returns:
        the study's ``report.md``.

    Raises:
        RuntimeError: some trials failed (their errors are in the store; rerun to retry them).
    """
    from gtransfer.io.atomic import write_text
    from gtransfer.io.names import safe_name
    from gtransfer.studies.report import write_report
    from gtransfer.studies.runner import run_sweep
    from gtransfer.studies.spec import load_spec
    from gtransfer.studies.store import TrialStore

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    spec_path = out / f"{safe_name(spec['name'])}.yaml"
    write_text(spec_path, yaml.safe_dump(spec, sort_keys=False))
    store_path = out / store_name
    with TrialStore(store_path) as store:
        summary = run_sweep(load_spec(spec_path), store, workers=workers, engine=engine, progress=progress)
        if summary.failed:
            errors = sorted({r.error for r in store.records(study=spec["name"], status="failed")})
            raise RuntimeError(
                f"{summary.failed} trial(s) of {spec['name']} failed, e.g. {errors[:3]}; rerun to retry them"
            )
    return write_report(store_path, out / "report", study=spec["name"])[0]


def run_experiment(
    specs: list[dict], args: argparse.Namespace, default_out: str, *, prepare: Callable[[], object] | None = None
) -> list[Path]:
    """Run each spec with :func:`run_study` into one folder and store; print the report paths.

    A full preset (``args.preset == "full"``) first prints its trials and the device-hours its
    fine-tuning projects to (:mod:`gtransfer.studies.projection`); ``args.project_only`` stops there.
    ``prepare`` (e.g. pretraining the zoo the specs name) runs after that and before the first sweep.
    """
    import sys
    import time

    out = Path(args.out or default_out)
    if getattr(args, "project_only", False) or getattr(args, "preset", None) == "full":
        from gtransfer.studies.projection import project_finetuning, projection_lines
        from gtransfer.studies.spec import parse_spec

        projection = project_finetuning(parse_spec(spec, base_dir=out, source=spec["name"]) for spec in specs)
        print(
            "\n".join(
                [
                    f"{getattr(args, 'preset', '')} preset, before it starts:",
                    *projection_lines(projection, measured_rate=getattr(args, "device_rate", None)),
                ]
            )
        )
        if getattr(args, "project_only", False):
            return []
    if prepare is not None:
        prepare()
    reports = []
    for spec in specs:
        start = time.perf_counter()
        try:
            report = run_study(spec, out, workers=args.workers, engine=args.engine)
        except RuntimeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None
        print(f"{spec['name']}: {time.perf_counter() - start:.0f} s -> {report}")
        reports.append(report)
    return reports
