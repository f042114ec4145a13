"""A JSON-lines file that a run appends to one finished record at a time and resumes from.

One record is one line, written with its newline in one ``write`` and made durable (flush, fsync) before
:func:`append_record` returns, so every line that ends in a newline is a finished record. A process killed
mid-write can leave a torn final line: bytes with no newline after them. :func:`read_records` ignores it
(with a :class:`TornLineWarning` that counts its bytes), and the next :func:`append_record` cuts it off
before writing, so the torn record is neither read nor left in front of the next one. A line that ends in a
newline and is not a JSON object is damage, not a torn write: it is refused with the file and line number.

Used by the scripts that resume from a file of their own (``experiments/finetune_reference.py``,
``experiments/finetune_against_random.py``); a study sweep resumes through its trial store instead.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from gtransfer.io.atomic import _fsync_folder

__all__ = ["TornLineWarning", "append_record", "read_records"]


class TornLineWarning(UserWarning):
    """A JSON-lines file ended in a torn line (an append cut short); it was ignored."""


def _split(data: bytes, path: Path) -> tuple[list[dict[str, Any]], int]:
    """The finished records of ``data`` and the length of its torn tail (0 when it ends in a newline)."""
    finished, newline, tail = data.rpartition(b"\n")
    records = []
    for number, line in enumerate(finished.split(b"\n") if newline else [], 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ValueError(f"{path}: line {number} is not JSON ({error}); the file is damaged before its last "
                             "line: repair or remove that line, or start a new file") from None
        if not isinstance(record, dict):
            raise ValueError(f"{path}: line {number} is a JSON {type(record).__name__}, not a record (an object); "
                             "repair or remove that line, or start a new file")
        records.append(record)
    return records, len(tail)


def read_records(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The finished records of the JSON-lines file ``path`` (none when it does not exist), in file order.

    A torn final line (bytes after the last newline) is left out with a :class:`TornLineWarning` saying how
    many bytes were ignored; the next :func:`append_record` removes them.

    Examples:
        >>> import tempfile, warnings
        >>> path = Path(tempfile.mkdtemp()) / "runs.jsonl"
        >>> append_record(path, {"seed": 0, "auc": 0.7})
        >>> _ = path.open("a").write('{"seed": 1, "au')  # a write cut short
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     records = read_records(path)
        >>> records, [str(w.message).split(": ", 1)[1] for w in caught]
        ([{'seed': 0, 'auc': 0.7}], ['1 torn final line (15 bytes) ignored; the next append removes it'])
    """
    path = Path(path)
    if not path.is_file():
        return []
    records, torn = _split(path.read_bytes(), path)
    if torn:
        warnings.warn(f"{path}: 1 torn final line ({torn} bytes) ignored; the next append removes it",
                      TornLineWarning, stacklevel=2)
    return records


def append_record(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Append ``record`` to ``path`` as one JSON line and make it durable (flush, fsync) before returning.

    The folder is created when missing, and a torn final line left by an earlier append is cut off first.
    ``record`` must be a JSON object whose values JSON can write (``TypeError`` otherwise, nothing written).
    """
    if not isinstance(record, dict):
        raise TypeError(f"append_record writes a dict (one JSON object per line), got {type(record).__name__}")
    line = (json.dumps(record) + "\n").encode()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    if not created:
        data = path.read_bytes()
        if data and not data.endswith(b"\n"):  # a torn final line: cut it off, keep every finished record
            with open(path, "rb+") as handle:
                handle.truncate(data.rfind(b"\n") + 1)
    with open(path, "ab") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    if created:
        _fsync_folder(path.parent)
