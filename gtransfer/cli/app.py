"""Assembles the ``gtransfer`` command from the subcommand modules and runs it.

Errors a user can fix (missing files, bad arrays, bad specs) print one line and a hint, and exit with
status 2; ``--debug`` shows the traceback instead. Each subcommand is a thin front: the work is done
by library functions that the subcommand names in its help.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from gtransfer.cli import corpus, demo, embed, finetune, pretrain, rank, score, sweep
from gtransfer.cli.common import CommandError

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``gtransfer`` command."""
    parser = argparse.ArgumentParser(prog="gtransfer", description="Transferability metrics and studies for graph encoders.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    score.add_parser(sub)
    rank.add_parser(sub)
    finetune.add_parser(sub)
    embed.add_parser(sub)
    pretrain.add_parser(sub)
    corpus.add_parser(sub)
    sweep.add_parsers(sub)
    demo.add_parser(sub)
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
