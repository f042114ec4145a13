"""What every subcommand shares: the user-error type and the arguments that mean the same everywhere."""

from __future__ import annotations

import argparse

__all__ = ["CommandError", "add_data_root_argument", "add_max_samples_argument", "check_output_file", "DATA_ROOT_HELP"]

DATA_ROOT_HELP = (
    "data root (default: $GTRANSFER_DATA if set, else $XDG_CACHE_HOME/gtransfer/data, which is ~/.cache/gtransfer/data "
    "when XDG_CACHE_HOME is unset; the shipped datasets/ folder is searched after it)"
)


class CommandError(ValueError):
    """A user error with a hint on how to fix it."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def add_data_root_argument(parser: argparse.ArgumentParser) -> None:
    """``--data-root`` (``--root`` is accepted as a hidden alias)."""
    parser.add_argument("--data-root", dest="data_root", default=None, metavar="DIR", help=DATA_ROOT_HELP)
    parser.add_argument("--root", dest="data_root", help=argparse.SUPPRESS)


def add_max_samples_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``--max-samples N`` (``--limit`` is accepted as a hidden alias)."""
    parser.add_argument("--max-samples", dest="max_samples", type=int, default=None, metavar="N", help=help)
    parser.add_argument("--limit", dest="max_samples", type=int, help=argparse.SUPPRESS)


def check_output_file(path: str, *, option: str = "--out") -> None:
    """Before any work: ``path`` can be written as a file (not a folder, its folder creatable and writable), so a
    long run never ends by failing to save what it made."""
    from pathlib import Path

    from gtransfer.io.atomic import writable_folder

    target = Path(path)
    if target.is_dir():
        raise CommandError(f"{option} {path} is a folder; it must name a file",
                           f"give a file path, e.g. {target / 'out'}")
    writable_folder(target.parent if str(target.parent) else ".", what=f"the folder of {option}")
