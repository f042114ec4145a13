"""Reading arrays given on the command line or in trial params, from the files researchers keep them in.

=================  ==========================================================================
``emb.npy``        the array itself (``np.save``)
``vec.npz:key``    the ``key`` array of an ``.npz``; ``vec.npz`` alone takes the caller's default key
``emb.csv``        a numeric table (a header row is detected and skipped); ``.tsv`` too
``y.csv:label``    one column of a table, by header name (or 0-based position when there is no header)
``emb.pt``         a tensor or array saved with ``torch.save``; ``emb.pt:key`` one entry of a saved dict
                   (read with ``weights_only=True``: the file cannot run code); ``.pth`` too
``emb.parquet``    a numeric table, ``emb.parquet:col`` one column (needs pyarrow or fastparquet)
=================  ==========================================================================

A one-column table is returned 1-D (n,), a wider one 2-D (n, columns). Every error names the file,
what was expected and what was found.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["load_array", "ARRAY_FORMATS"]

#: what ``load_array`` reads, for help texts and messages
ARRAY_FORMATS = ".npy, .npz[:key], .csv/.tsv[:column], .pt/.pth[:key] (torch.save), .parquet[:column]"

_KEYED = re.compile(r"^(?P<path>.+\.(?:npz|csv|tsv|pt|pth|parquet)):(?P<key>[^/\\]+)$", re.IGNORECASE)


def _split_key(spec: str) -> tuple[Path, str | None]:
    match = _KEYED.match(spec)
    if match and not Path(spec).is_file():
        return Path(match["path"]), match["key"]
    return Path(spec), None


def load_array(spec: str | Path, default_key: str | None = None, what: str = "array") -> np.ndarray:
    """Load one array from a file named as in the module docstring.

    Args:
        spec: ``path`` or ``path:key`` (the key is a .npz array name, a table column, or a saved dict's entry).
        default_key: the key used for a ``.npz`` or a saved dict when ``spec`` names none.
        what: what the array is, for messages (``"features"``, ``"labels"``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: not a readable array file, no such key or column (the message lists those there),
            non-numeric columns, or a parquet file without pyarrow/fastparquet installed.
    """
    path, key = _split_key(str(spec))
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return _from_table(_read_csv(path, what), path, key, what)
    if suffix == ".parquet":
        return _from_table(_read_parquet(path, what), path, key, what)
    if suffix in (".pt", ".pth"):
        return _from_torch(path, key, default_key, what)
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{what} file {path} is not a readable .npy/.npz array ({exc}); readable formats: {ARRAY_FORMATS}") from None
    if isinstance(loaded, np.lib.npyio.NpzFile):
        with loaded:
            key = key or default_key
            if key is None or key not in loaded.files:
                raise ValueError(
                    f"{what} file {path} has arrays {loaded.files}; name one as {path}:<key>"
                    + (f" (no {key!r})" if key else "")
                )
            return loaded[key]
    if key is not None:
        raise ValueError(f"{what} file {path} is a single .npy array; ':{key}' applies only to .npz, table and torch files")
    return loaded


def _read_csv(path: Path, what: str) -> Any:
    import pandas as pd

    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        first = pd.read_csv(path, sep=sep, header=None, nrows=1)
    except (ValueError, OSError) as exc:  # pandas' EmptyDataError and ParserError are ValueErrors
        raise ValueError(f"{what} file {path} is not a readable table: {exc}") from None
    # a header row is one with a cell that is not a number
    header = 0 if any(pd.to_numeric(first.iloc[0], errors="coerce").isna()) else None
    try:
        return pd.read_csv(path, sep=sep, header=header)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{what} file {path} is not a readable table: {exc}") from None


def _read_parquet(path: Path, what: str) -> Any:
    import importlib.util

    import pandas as pd

    if importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None:
        raise ValueError(
            f"{what} file {path} is a parquet file, and reading parquet needs pyarrow or fastparquet, neither of which is "
            "installed; pip install pyarrow, or save the array as .npy (np.save) or .csv"
        )
    try:
        return pd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{what} file {path} is not a readable parquet table: {exc}") from None


def _from_table(frame: Any, path: Path, key: str | None, what: str) -> np.ndarray:
    import pandas as pd

    columns = [str(c) for c in frame.columns]
    if key is not None:
        if key in columns:
            frame = frame[[frame.columns[columns.index(key)]]]
        else:
            raise ValueError(f"{what} file {path} has no column {key!r}; its columns are {columns[:20]}"
                             + (f" and {len(columns) - 20} more" if len(columns) > 20 else ""))
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = [str(c) for c in frame.columns if numeric[c].isna().sum() > frame[c].isna().sum()]
    if bad:
        raise ValueError(
            f"{what} file {path}: column(s) {bad[:5]} hold text, not numbers; pick the numeric column(s) with {path}:<column> "
            "or drop the text columns"
        )
    array = numeric.to_numpy()
    return array[:, 0] if array.shape[1] == 1 else array


def _from_torch(path: Path, key: str | None, default_key: str | None, what: str) -> np.ndarray:
    import pickle

    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, EOFError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{what} file {path} cannot be read with torch.load(weights_only=True) ({first}); it must hold a tensor, an array "
            "or a dict of them (save one with torch.save(tensor, path))"
        ) from None
    if isinstance(loaded, dict):
        entries = [str(k) for k in loaded]
        chosen = key or (default_key if default_key in loaded else None)
        if chosen is None and len(loaded) == 1:
            chosen = entries[0]
        if chosen is None or chosen not in loaded:
            raise ValueError(f"{what} file {path} holds a dict with entries {entries[:20]}; name one as {path}:<key>"
                             + (f" (no {chosen!r})" if chosen else ""))
        loaded = loaded[chosen]
    elif key is not None:
        raise ValueError(f"{what} file {path} holds one {type(loaded).__name__}, not a dict; ':{key}' does not apply")
    if isinstance(loaded, torch.Tensor):
        return loaded.detach().cpu().numpy()
    if isinstance(loaded, np.ndarray):
        return loaded
    raise ValueError(f"{what} file {path} holds a {type(loaded).__name__}; expected a tensor or an array (or a dict of them)")
