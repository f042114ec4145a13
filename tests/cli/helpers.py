"""What the CLI tests share: running ``gtransfer score`` on two files, and reading the error lines it printed."""

from __future__ import annotations

import os

from gtransfer.cli import main


def score_files(features: str | os.PathLike, labels: str | os.PathLike, *options: str) -> int:
    """The exit status of ``gtransfer score --features FEATURES --labels LABELS OPTIONS...``."""
    return main(["score", "--features", str(features), "--labels", str(labels), *options])


def error_lines(capsys) -> list[str]:
    """The lines the command printed to stderr since the last read (stripped of the blank ends)."""
    return capsys.readouterr().err.strip().splitlines()
