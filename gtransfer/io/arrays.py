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

Tables: a header row is one with a cell that is not a number, or (three columns or more) the column
numbers 0, 1, 2, ... that ``pd.DataFrame(array).to_csv(index=False)`` writes. An index column, as
pandas writes by default (``df.to_csv(path)``: an empty header cell over the row labels), is dropped,
and so is a headerless first column holding exactly 0..n-1 beside other columns; ``on_read`` is told
what was read (rows, columns, header yes/no, index column dropped yes/no, columns dropped on request).

Hostile or damaged files end in a ``ValueError`` that names the file, never in a MemoryError: a
``.npy`` header must declare exactly the bytes that follow it, an ``.npz`` member (or its header) may
declare at most ``MAX_NPZ_EXPANSION`` times the file's size (or ``MIN_NPZ_MEMBER_BOUND``, whichever is
larger) and exactly what its header implies, and arrays must hold real numbers (bool, integers,
floats; bfloat16 tensors become float32; complex, text, dates and sparse tensors are refused).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

__all__ = ["load_array", "split_spec", "ARRAY_FORMATS", "MAX_NPZ_EXPANSION", "MIN_NPZ_MEMBER_BOUND"]

#: an ``.npz`` member may declare at most this many times the file's size uncompressed (DEFLATE rarely
#: exceeds 10x on real arrays; a deflate bomb reaches about 1000x) ...
MAX_NPZ_EXPANSION = 100
#: ... or this many bytes, whichever is larger, so that small files of repetitive labels still load
MIN_NPZ_MEMBER_BOUND = 256 * 2**20

#: what ``load_array`` reads, for help texts and messages
ARRAY_FORMATS = ".npy, .npz[:key], .csv/.tsv[:column], .pt/.pth[:key] (torch.save), .parquet[:column]"

_KEYED = re.compile(r"^(?P<path>.+\.(?:npz|csv|tsv|pt|pth|parquet)):(?P<key>[^/\\]+)$", re.IGNORECASE)


def split_spec(spec: str | Path) -> tuple[Path, str | None]:
    """``(path, key)`` of ``path[:key]`` as :func:`load_array` reads it (an existing file named with a colon is a
    path)."""
    spec = str(spec)
    match = _KEYED.match(spec)
    if match and not Path(spec).is_file():
        return Path(match["path"]), match["key"]
    return Path(spec), None


def load_array(
    spec: str | Path,
    *,
    default_key: str | None = None,
    what: str = "array",
    drop_columns: Sequence[str] = (),
    on_read: Callable[[str], None] | None = None,
) -> np.ndarray:
    """Load one array from a file named as in the module docstring.

    Args:
        spec: ``path`` or ``path:key`` (the key is a .npz array name, a table column, or a saved dict's entry).
        default_key: the key used for a ``.npz`` or a saved dict when ``spec`` names none.
        what: what the array is, for messages (``"features"``, ``"labels"``).
        drop_columns: table columns (by header name) to leave out, e.g. the label column of a file that
            holds both features and labels.
        on_read: called with one line saying what was read from a table (rows, columns, header,
            index column, dropped columns).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: not a readable array file (truncated, damaged, a header that does not match the file,
            a member that would expand beyond the bound), no such key or column (the message lists
            those there), non-numeric columns or dtypes, or a parquet file without pyarrow/fastparquet.
    """
    path, key = split_spec(spec)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv", ".parquet"):
        frame, header = (_read_csv(path, what) if suffix != ".parquet" else (_read_parquet(path, what), True))
        return _check_dtype(_from_table(frame, path, key, what, header, drop_columns, on_read), path, what)
    if suffix in (".pt", ".pth"):
        return _check_dtype(_from_torch(path, key, default_key, what), path, what)
    return _check_dtype(_from_numpy(path, key, default_key, what), path, what)


def _unreadable(path: Path, what: str, problem: str) -> ValueError:
    return ValueError(
        f"{what} file {path} is not a readable .npy/.npz array ({problem}); readable formats: {ARRAY_FORMATS}"
    )


def _npy_header(stream: IO[bytes]) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, data bytes declared) of the ``.npy`` stream's header; the stream is left at the data."""
    version = np.lib.format.read_magic(stream)
    read = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}.get(version)
    if read is None:
        raise ValueError(f"unsupported .npy format version {version}")
    shape, _, dtype = read(stream)
    if dtype.hasobject:
        raise ValueError("it holds Python objects, which are not read (they could run code)")
    return shape, dtype, int(np.prod(shape, dtype=object)) * dtype.itemsize


def _from_numpy(path: Path, key: str | None, default_key: str | None, what: str) -> np.ndarray:
    """A ``.npy`` or ``.npz`` array, its header checked against the file before anything is allocated."""
    size = path.stat().st_size
    with path.open("rb") as stream:
        magic = stream.read(6)
        stream.seek(0)
        if magic == b"\x93NUMPY":
            if key is not None:
                raise ValueError(
                    f"{what} file {path} is a single .npy array; ':{key}' applies only to .npz, table and torch files"
                )
            try:
                shape, dtype, declared = _npy_header(stream)
            except (ValueError, EOFError, OSError) as exc:
                raise _unreadable(path, what, f"damaged header: {exc}") from None
            if declared != size - stream.tell():
                raise _unreadable(path, what, f"its header declares shape {shape} of {dtype} = {declared:,} bytes, but "
                                              f"{size - stream.tell():,} bytes follow the header: truncated or damaged")
    if magic == b"\x93NUMPY":
        try:
            return np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError, MemoryError) as exc:
            raise _unreadable(path, what, str(exc) or type(exc).__name__) from None
    if not zipfile.is_zipfile(path):
        found = "a zip archive (.npz) without its directory: truncated or damaged" if magic[:2] == b"PK" else \
            "neither a .npy header nor a zip archive (.npz)" if size else "an empty file"
        raise _unreadable(path, what, found)
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
            chosen = key or default_key
            if chosen is None or chosen not in members:
                raise ValueError(f"{what} file {path} has arrays {list(members)}; name one as {path}:<key>"
                                 + (f" (no {chosen!r})" if chosen else ""))
            info = archive.getinfo(members[chosen])
            _check_npz_member(archive, info, size, path, what)
            with archive.open(info) as member:
                return np.lib.format.read_array(member, allow_pickle=False)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, MemoryError) as exc:
        raise _unreadable(path, what, f"damaged .npz: {str(exc) or type(exc).__name__}") from None
    except ValueError as exc:
        if str(exc).startswith(f"{what} file {path}"):
            raise
        raise _unreadable(path, what, f"damaged .npz: {exc}") from None


def _check_npz_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, file_size: int, path: Path, what: str) -> None:
    """Refuse a member that would expand beyond the bound, or whose header disagrees with its declared size."""
    bound = max(MIN_NPZ_MEMBER_BOUND, MAX_NPZ_EXPANSION * file_size)
    name = info.filename[:-4]
    if info.file_size > bound:
        raise _unreadable(
            path,
            what,
            f"member {name!r} declares {info.file_size:,} bytes uncompressed from {info.compress_size:,} "
            f"compressed, more than the bound of {bound:,} (max({MIN_NPZ_MEMBER_BOUND:,}, "
            f"{MAX_NPZ_EXPANSION} x the file's {file_size:,} bytes)): refused as a possible "
            "decompression bomb; save large arrays uncompressed, with np.save or np.savez",
        )
    with archive.open(info) as member:
        shape, dtype, declared = _npy_header(member)
        header_bytes = member.tell()
    if header_bytes + declared != info.file_size:
        raise _unreadable(
            path,
            what,
            f"member {name!r}: its header declares shape {shape} of {dtype} = {declared:,} bytes, but "
            f"the member holds {info.file_size - header_bytes:,} after its header: damaged",
        )


def _check_dtype(array: np.ndarray, path: Path, what: str) -> np.ndarray:
    """Real numbers only (bool, integers, floats): complex, text, dates and objects are refused by name."""
    if array.dtype.kind not in "biuf":
        kind = {
            "c": "complex numbers",
            "U": "text",
            "S": "bytes",
            "M": "dates",
            "m": "time spans",
            "O": "Python objects",
            "V": "records",
        }.get(array.dtype.kind, "values")
        raise ValueError(
            f"{what} file {path} holds {kind} (dtype {array.dtype}), not real numbers; save {what} as a float "
            "or integer array (labels as integers 0..C-1: np.unique(y, return_inverse=True)[1])"
        )
    return array


def _read_csv(path: Path, what: str) -> tuple[Any, bool]:
    """(the table, whether its first row was a header)."""
    import pandas as pd

    sep = "\t" if path.suffix.lower() == ".tsv" else ","
    try:
        first = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
    except (ValueError, OSError, UnicodeDecodeError) as exc:  # pandas' EmptyDataError and ParserError are ValueErrors
        raise ValueError(f"{what} file {path} is not a readable table: {exc}") from None
    cells = [str(cell).strip() for cell in first.iloc[0]]
    numbers = pd.to_numeric(pd.Series(cells), errors="coerce")
    names = cells[1:] if cells and cells[0] == "" else cells
    # a header: a cell that is not a number (an empty one too), or the column numbers DataFrame(array).to_csv writes
    header = bool(numbers.isna().any()) or (len(names) >= 3 and names == [str(i) for i in range(len(names))])
    try:
        return pd.read_csv(path, sep=sep, header=0 if header else None), header
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} file {path} is not a readable table: {exc}") from None


def _index_column(frame: Any, header: bool) -> str | None:
    """Why the first column is a row index that pandas wrote (None: it is data)."""
    import pandas as pd

    if frame.shape[1] < 2:
        return None
    name, column = str(frame.columns[0]), frame.iloc[:, 0]
    if header and (name == "" or name.startswith("Unnamed: 0")):
        return "an index column (empty header cell, as pandas' to_csv writes the row index)"
    values = pd.to_numeric(column, errors="coerce").to_numpy()
    for start in (0, 1):
        if (not header or name.lower() == "index") and np.array_equal(values, np.arange(start, start + len(values))):
            return f"an index column (it holds exactly {start}..{start + len(values) - 1})"
    return None


def _read_parquet(path: Path, what: str) -> Any:
    import importlib.util

    import pandas as pd

    if importlib.util.find_spec("pyarrow") is None and importlib.util.find_spec("fastparquet") is None:
        raise ValueError(
            f"{what} file {path} is a parquet file, and reading parquet needs pyarrow or fastparquet, neither of which "
            "is installed; pip install pyarrow, or save the array as .npy (np.save) or .csv"
        )
    try:
        return pd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{what} file {path} is not a readable parquet table: {exc}") from None


def _from_table(frame: Any, path: Path, key: str | None, what: str, header: bool, drop_columns: Sequence[str] = (),
                on_read: Callable[[str], None] | None = None) -> np.ndarray:
    import pandas as pd

    notes = [f"header: {'yes' if header else 'no'}"]
    index = _index_column(frame, header)
    if index is not None:
        frame = frame.iloc[:, 1:]
        notes.append(f"dropped {index}")
    else:
        notes.append("index column: none")
    columns = [str(c) for c in frame.columns]
    dropped = [name for name in drop_columns if name in columns and name != key]
    if dropped:
        frame = frame[[c for c, name in zip(frame.columns, columns) if name not in dropped]]
        columns = [str(c) for c in frame.columns]
        notes.append(f"dropped column(s) {dropped}")
    if key is not None:
        if key in columns:
            frame = frame[[frame.columns[columns.index(key)]]]
            notes.append(f"column {key!r}")
        else:
            raise ValueError(f"{what} file {path} has no column {key!r}; its columns are {columns[:20]}"
                             + (f" and {len(columns) - 20} more" if len(columns) > 20 else ""))
    numeric = frame.apply(pd.to_numeric, errors="coerce")
    bad = [str(c) for c in frame.columns if numeric[c].isna().sum() > frame[c].isna().sum()]
    if bad:
        raise ValueError(
            f"{what} file {path}: column(s) {bad[:5]} hold text, not numbers; pick the numeric column(s) with "
            f"{path}:<column> or drop the text columns"
        )
    array = numeric.to_numpy()
    if on_read is not None:
        on_read(f"{what}: read {path}: {array.shape[0]} rows, {array.shape[1]} column(s); " + "; ".join(notes))
    return array[:, 0] if array.shape[1] == 1 else array


def _from_torch(path: Path, key: str | None, default_key: str | None, what: str) -> np.ndarray:
    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any failure to read a damaged or hostile file is the same answer
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(
            f"{what} file {path} cannot be read with torch.load(weights_only=True) ({first}); it must hold a tensor, "
            "an array or a dict of them (save one with torch.save(tensor, path))"
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
        if loaded.layout != torch.strided:
            raise ValueError(f"{what} file {path} holds a sparse tensor ({loaded.layout}); save it dense: "
                             "torch.save(tensor.to_dense(), path)")
        if loaded.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds every bfloat16 value exactly
            loaded = loaded.float()
        try:
            return loaded.detach().cpu().numpy()
        except TypeError as exc:
            raise ValueError(
                f"{what} file {path} holds a tensor of dtype {loaded.dtype}, which numpy cannot hold ({exc}); "
                "save a float or integer tensor"
            ) from None
    if isinstance(loaded, np.ndarray):
        return loaded
    raise ValueError(
        f"{what} file {path} holds a {type(loaded).__name__}; expected a tensor or an array (or a dict of them)"
    )
