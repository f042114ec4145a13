"""Reading the raw files of a data root, where every failure is one line naming the file and the fix.

Raw files come from outside: a download cut short, a disk copy that stopped early, a path that is a
folder. pandas, gzip and zipfile report those as ``EOFError``, ``BadGzipFile``, ``zlib.error`` or a
parser traceback that names no file; :func:`read_table` and :func:`open_zip` turn them into
:class:`DamagedFileError` (a ``ValueError``) whose message says which file and what to do.
"""

from __future__ import annotations

import gzip
import os
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["DamagedFileError", "check_is_file", "open_zip", "read_table"]

#: what reading a damaged file raises, before it is turned into one line
_READ_ERRORS = (EOFError, OSError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError, pd.errors.ParserError,
                pd.errors.EmptyDataError, zipfile.BadZipFile, ValueError)


class DamagedFileError(ValueError):
    """A raw file is truncated, damaged, empty or not a file (the message names it and the fix)."""


def _fix(source: str | None) -> str:
    return (
        f"restore it from {source}"
        if source
        else "restore it from its published source (see the folder's PROVENANCE.md)"
    )


def check_is_file(path: str | os.PathLike, *, source: str | None = None) -> Path:
    """``path`` as a Path; :class:`DamagedFileError` when it is a folder or something else than a file."""
    path = Path(path)
    if path.is_dir():
        raise DamagedFileError(
            f"{path} is a folder, not a data file; put the file itself at this path ({_fix(source)})"
        )
    if path.exists() and not path.is_file():
        raise DamagedFileError(f"{path} is not a regular file; {_fix(source)}")
    return path


def read_table(path: str | os.PathLike, *, source: str | None = None, **read_csv: Any) -> pd.DataFrame:
    """``pandas.read_csv(path, **read_csv)`` (``.gz`` decompressed) with one-line errors.

    Raises:
        DamagedFileError: ``path`` is a folder, or it cannot be read to its end (truncated ``.gz``,
            bad bytes, a torn line); the message names the file and says to restore it.
        FileNotFoundError: ``path`` does not exist.
    """
    path = check_is_file(path, source=source)
    try:
        return pd.read_csv(path, **read_csv)
    except FileNotFoundError:
        raise
    except _READ_ERRORS as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise DamagedFileError(
            f"{path} is damaged or truncated ({type(error).__name__}: {first}); {_fix(source)}"
        ) from None


def open_zip(path: str | os.PathLike, *, source: str | None = None) -> zipfile.ZipFile:
    """The zip archive at ``path``, checked whole (every member's CRC) before anything is extracted.

    Raises:
        DamagedFileError: not a zip, truncated, or a member fails its CRC; names the file and the fix.
    """
    path = check_is_file(path, source=source)
    try:
        archive = zipfile.ZipFile(path)
        bad = archive.testzip()
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as error:
        raise DamagedFileError(
            f"{path} is not a whole zip archive ({type(error).__name__}: {error}); {_fix(source)}"
        ) from None
    if bad is not None:
        archive.close()
        raise DamagedFileError(f"{path}: member {bad!r} fails its CRC check (the archive is damaged); {_fix(source)}")
    return archive
