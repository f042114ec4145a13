"""The arguments every ``experiments/`` script takes (``--preset small|medium|full`` and where to run)."""

from __future__ import annotations

import argparse

from gtransfer.cli.common import add_data_root_argument

__all__ = ["experiment_parser", "truths_parser"]


def experiment_parser(description: str, presets: tuple[str, ...] = ("small", "full")) -> argparse.ArgumentParser:
    """``--preset`` (one of ``presets``), ``--out``, ``--workers``, ``--engine``, ``--data-root`` (see :func:`gtransfer.studies.experiment.run_experiment`)."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--preset", choices=presets, default="small",
                        help="small: 2 CPU cores, minutes; medium: 2 CPU cores, at most an hour, enough targets for intervals "
                             "that decide; full: GPU, the paper's scale")
    parser.add_argument("--out", help="output folder (default results/<script name>-<preset>)")
    parser.add_argument("--workers", type=int, default=2, help="parallel trials")
    parser.add_argument("--engine", choices=("local", "ray"), default="local")
    parser.add_argument("--project-only", action="store_true",
                        help="print the trials and the projected device-hours of the fine-tuning, then stop (printed before "
                             "every full preset starts)")
    parser.add_argument("--device-rate", type=float, metavar="BBBP_EPOCHS_PER_S",
                        help="this device's fine-tuning rate, from `python -m gtransfer.bench training`, for the projection")
    add_data_root_argument(parser)
    return parser


def truths_parser() -> argparse.ArgumentParser:
    """The arguments of ``experiments/truths.py`` (:func:`gtransfer.studies.designs.truths.run_truths`)."""
    parser = argparse.ArgumentParser(description="Truths that can carry the claims: the fine-tuning truth of source "
                                                 "selection and the target-selection truth, projected before they run.")
    parser.add_argument("--preset", choices=("medium", "full"), default="medium",
                        help="medium: the 2-core CPU, at most 4 hours at the measured rate; full: one GPU, packed")
    parser.add_argument("--out", help="output folder (default results/truths-<preset>)")
    parser.add_argument("--store", help="the trial store (default <out>/truths.db); rerun with the same store to resume")
    parser.add_argument("--project-only", action="store_true", help="print the trials and projected device-hours, then stop")
    parser.add_argument("--device-rate", type=float, metavar="BBBP_EPOCHS_PER_S",
                        help="this device's fine-tuning rate, from `python -m gtransfer.bench training`, for the projection")
    parser.add_argument("--part", choices=("all", "source", "target"), default="all",
                        help="which truth: source selection, target selection, or both")
    parser.add_argument("--datasets", nargs="+", metavar="DATASET",
                        help="a slice of the source truth: these source datasets only (e.g. ogbg-molbbbp ogbg-molbace)")
    parser.add_argument("--workers", type=int, default=1, help="parallel trials")
    add_data_root_argument(parser)
    return parser
