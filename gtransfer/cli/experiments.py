"""The arguments every ``experiments/`` script takes (``--preset small|medium|full`` and where to run)."""

from __future__ import annotations

import argparse

from gtransfer.cli.common import add_data_root_argument

__all__ = ["experiment_parser"]


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
