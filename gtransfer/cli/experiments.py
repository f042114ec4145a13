"""The arguments every ``experiments/`` script takes (``--preset small|medium|full`` and where to run)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from gtransfer.cli.common import add_data_root_argument

__all__ = ["device_bundle_parser", "experiment_parser", "run_script", "truths_parser"]


def run_script(main: Callable[[list[str] | None], int], name: str, argv: Sequence[str] | None = None) -> int:
    """Run an ``experiments/`` script's ``main`` as the ``gtransfer`` command runs a subcommand: a missing
    data root, zoo or file is one message and a hint (exit 2), not a traceback; ``--debug`` shows the traceback.
    Ctrl-C exits with 130.
    """
    from gtransfer.cli.app import check_data_root, format_error

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    try:
        if "--data-root" in args[:-1]:
            check_data_root(args[args.index("--data-root") + 1])
        return int(main(args) or 0)
    except KeyboardInterrupt:
        print(f"\n{name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one message and a hint, as the gtransfer command prints them
        if debug:
            raise
        print(format_error(exc, name).replace(f"gtransfer {name}", f"python experiments/{name}"), file=sys.stderr)
        return 2


def experiment_parser(description: str, *, presets: tuple[str, ...] = ("small", "full")) -> argparse.ArgumentParser:
    """``--preset`` (one of ``presets``), ``--out``, ``--workers``, ``--engine``, ``--data-root`` (see
    :func:`gtransfer.studies.experiment.run_experiment`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--preset",
        choices=presets,
        default="small",
        help="small: 2 CPU cores, minutes; medium: 2 CPU cores, at most an hour, enough targets for intervals "
        "that decide; full: GPU, the paper's scale",
    )
    parser.add_argument("--out", help="output folder (default results/<script name>-<preset>)")
    parser.add_argument("--workers", type=int, default=2, help="parallel trials")
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument(
        "--project-only",
        action="store_true",
        help="print the trials and the projected device-hours of the fine-tuning, then stop (printed before "
        "every full preset starts)",
    )
    parser.add_argument(
        "--device-rate",
        type=float,
        metavar="BBBP_EPOCHS_PER_S",
        help="this device's fine-tuning rate, from `python -m gtransfer.bench training`, for the projection",
    )
    add_data_root_argument(parser)
    return parser


def vision_medium_parser() -> argparse.ArgumentParser:
    """The arguments of ``experiments/vision_medium.py``
    (:func:`gtransfer.studies.designs.vision_medium.run_vision_medium`)."""
    parser = argparse.ArgumentParser(description="The vision medium preset: the image claims' studies on 2 CPU cores, "
                                                 "one resumable store, projected before they run.")
    parser.add_argument("--out", default="results/vision/medium",
                        help="folder of the store, the spec files and the reports (default results/vision/medium)")
    parser.add_argument("--zoo", default="results/vision/zoo-medium",
                        help="the zoo folder, built there when incomplete (default results/vision/zoo-medium)")
    parser.add_argument("--cache", default=".cache/vision/embeddings",
                        help="embedding cache folder (default .cache/vision/embeddings)")
    parser.add_argument("--workers", type=int, default=1, help="trials in parallel (worker processes; default 1)")
    parser.add_argument("--project-only", action="store_true",
                        help="print the trials and the fine-tuning work, then stop")
    add_data_root_argument(parser)
    return parser


def truths_parser() -> argparse.ArgumentParser:
    """The arguments of ``experiments/truths.py`` (:func:`gtransfer.studies.designs.truths.run_truths`)."""
    from gtransfer.studies.designs.truths import PRESETS

    parser = argparse.ArgumentParser(description="Truths that can carry the claims: the fine-tuning truth of source "
                                                 "selection and the target-selection truth, projected before they run.")
    parser.add_argument("--preset", choices=PRESETS, default="medium",
                        help="medium: the 2-core CPU, at most 4 hours at the measured rate; large: the medium source "
                        "truth on all molecules for up to 10 epochs (2-core CPU, its scores shared with medium: give "
                        "--store docs/results/truths-medium/truths.db); full: one GPU, packed")
    parser.add_argument("--out", help="output folder (default results/truths-<preset>)")
    parser.add_argument(
        "--store", help="the trial store (default <out>/truths.db); rerun with the same store to resume"
    )
    parser.add_argument(
        "--project-only", action="store_true", help="print the trials and projected device-hours, then stop"
    )
    parser.add_argument(
        "--device-rate",
        type=float,
        metavar="BBBP_EPOCHS_PER_S",
        help="this device's fine-tuning rate, from `python -m gtransfer.bench training`, for the projection",
    )
    parser.add_argument("--part", choices=("all", "source", "target"), default="all",
                        help="which truth: source selection, target selection, or both")
    parser.add_argument("--datasets", nargs="+", metavar="DATASET",
                        help="a slice of the source truth: these source datasets only (e.g. ogbg-molbbbp ogbg-molbace)")
    parser.add_argument("--workers", type=int, default=1, help="parallel trials")
    add_data_root_argument(parser)
    return parser


def device_bundle_parser() -> argparse.ArgumentParser:
    """The arguments of ``experiments/device_bundle.py``
    (:func:`gtransfer.studies.designs.device_bundle.run_device_bundle`): ``build``, ``check``, ``size``, and the two
    steps ``run.sh`` takes on the device, ``unpack`` and ``collect``."""
    parser = argparse.ArgumentParser(description="The device bundle of a truth preset: what a GPU machine without "
                                                 "RDKit and OGB needs to run it, and the one command that does.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the bundle (raw files, processed caches, run.sh) and size it")
    build.add_argument("--preset", choices=("medium", "full"), default="full")
    build.add_argument("--out", help="the bundle folder (default .devbundle at the repository root)")
    build.add_argument("--datasets", nargs="+", metavar="DATASET", help="only these datasets of the preset")
    build.add_argument("--seconds", type=int, default=570,
                       help="seconds run.sh may take by default (the device tool allows 600 a command; default 570)")
    build.add_argument("--gpu-check-seconds", type=int, default=180,
                       help="seconds gpu-check may take before the truth starts (0: skip it; default 180)")
    build.add_argument("--check", action="store_true",
                       help="then unpack it into a temporary folder and load every dataset with RDKit and OGB blocked")
    add_data_root_argument(build)
    check = sub.add_parser("check", help="unpack the bundle and load every dataset with RDKit and OGB blocked")
    check.add_argument("--bundle", help="the bundle folder (default .devbundle at the repository root)")
    check.add_argument("--work", help="where to unpack it (default: a temporary folder, removed after)")
    size = sub.add_parser("size", help="the bundle's and the working tree's sizes against the 64 MiB budget")
    size.add_argument("--bundle", default=".devbundle", help="the bundle folder, relative to the repository root")
    unpack = sub.add_parser("unpack", help="(on the device) unpack the payload and restore resume/")
    unpack.add_argument("--bundle", required=True)
    unpack.add_argument("--to", required=True)
    collect = sub.add_parser("collect", help="(on the device) copy the store, CSVs and source heads into OUT")
    collect.add_argument("--work", required=True, help="the truth's --out folder")
    collect.add_argument("--out", required=True)
    return parser
