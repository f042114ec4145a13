"""Assembles the ``gtransfer`` command from the subcommand modules and runs it.

Errors a user can fix (missing files, bad arrays, bad specs) print the whole message, one fact a line
(what failed, where it looked, the valid names, the fix), then a hint, and exit with status 2;
``--debug`` shows the traceback instead. Building the parser imports neither torch nor PyG, so
``gtransfer --help`` and ``--version`` are fast. Each subcommand is a thin front: the work is done
by library functions that the subcommand names in its help.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gtransfer.cli import corpus, demo, embed, finetune, pretrain, rank, rank_sources, score, sweep
from gtransfer.cli.common import CommandError

__all__ = ["main", "build_parser", "check_data_root"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gtransfer`` command (built without importing torch or PyG)."""
    from gtransfer import __version__

    parser = argparse.ArgumentParser(
        prog="gtransfer", description="Transferability metrics and studies for graph encoders."
    )
    parser.add_argument("--version", action="version", version=f"gtransfer {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of the error messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    score.add_parser(sub)
    rank.add_parser(sub)
    rank_sources.add_parser(sub)
    finetune.add_parser(sub)
    embed.add_parser(sub)
    pretrain.add_parser(sub)
    corpus.add_parser(sub)
    sweep.add_parsers(sub)
    demo.add_parser(sub)
    return parser


#: the hint of an error by its kind (the first that matches, in this order); anything else is unexpected
_HINTS: dict[type[BaseException], str] = {
    FileNotFoundError: "check the path; a dataset or published encoder is looked for under --data-root "
    "(or $GTRANSFER_DATA), relative paths in a spec are relative to the spec's folder",
    ValueError: "run `gtransfer COMMAND --help` for the expected inputs",
    TypeError: "run `gtransfer COMMAND --help` for the expected inputs",
    PermissionError: "check that you may read the inputs and write the output folder (or choose another, e.g. --out)",
    MemoryError: "the input is larger than this machine's memory allows: use fewer samples (--max-samples) or a "
    "bigger machine",
    EOFError: "a file ended early: it is truncated or damaged; write it again",
    OSError: "an operating-system error (disk full, a file system gone read-only, too many open files): free space or "
    "fix the file system, then rerun the same command",
}
_EXPECTED = (CommandError, ValueError, TypeError, OSError, MemoryError, EOFError, ImportError)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gtransfer`` console script; returns the exit status.

    An error prints ``gtransfer COMMAND: error:`` and the whole message (every line of it: the
    paths tried, the valid names), then one ``hint:`` line, and returns 2: user errors, operating-system
    errors (a full disk, a permission), damaged files, memory, and unexpected ones alike (those say
    to rerun with ``--debug``, which shows the traceback instead). Ctrl-C returns 130; a
    command with something to say about what was kept (a sweep, the corpus builder) says it itself.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_data_root(getattr(args, "data_root", None))
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(f"\ngtransfer {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every error is one message and a hint; --debug shows the traceback
        if args.debug:
            raise
        print(format_error(exc, args.command), file=sys.stderr)
        return 2


def check_data_root(data_root: str | None) -> None:
    """Refuse a ``--data-root`` that is not a folder, as ``GTRANSFER_DATA`` is refused (never ignored without a word).

    Raises:
        MissingDataError: ``data_root`` does not exist or is a file.
    """
    if data_root is None:
        return
    from pathlib import Path

    from gtransfer.data.roots import MissingDataError, default_data_root

    root = Path(data_root).expanduser()
    if not root.is_dir():
        raise MissingDataError(
            f"--data-root {data_root} is not a folder{'' if root.exists() else ' (it does not exist)'}\n"
            "Fix: pass the data root (the folder that holds tu/, moleculenet/, planetoid/, checkpoints/) as "
            "--data-root DIR, "
            f"or leave it out to use $GTRANSFER_DATA or {default_data_root()}"
        )


def format_error(exc: BaseException, command: str) -> str:
    """``gtransfer COMMAND: error: <the whole message>`` and a ``hint:`` line, as the CLI prints them.

    An error of a kind that is not a user's to fix (a bug) names its type, and its hint says to rerun
    with ``--debug`` for the traceback.
    """
    import zipfile
    import zlib

    hint = getattr(exc, "hint", None) or _hint_for(exc, command)
    message = str(exc).strip()
    damaged = isinstance(exc, (zipfile.BadZipFile, zlib.error))
    if damaged:
        message, hint = (
            f"a damaged zip or compressed file: {message}",
            "the file is truncated or damaged; write it again",
        )
    expected = damaged or isinstance(exc, _EXPECTED)
    if not expected:
        hint = "this looks like a bug in gtransfer: rerun with --debug for the traceback, and report it"
    if not message or not expected or isinstance(exc, MemoryError):
        message = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return f"gtransfer {command}: error: {message}\nhint: {hint}"


def _hint_for(exc: BaseException, command: str) -> str:
    from gtransfer.data.roots import MissingDataError

    if isinstance(exc, MissingDataError):
        return (f"`gtransfer {command} --help` shows where --data-root points by default; docs/data.md lists the "
                "layout of a data root")
    if isinstance(exc, ImportError):
        return "a dependency is missing; install gtransfer with its extras (pip install -e '.[dev]')"
    for kind, hint in _HINTS.items():
        if isinstance(exc, kind):
            return hint.replace("COMMAND", command)
    return "rerun with --debug for the traceback"
