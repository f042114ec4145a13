"""Where data lives: data roots, the embedded ``datasets/`` folder, processed caches, downloads.

Resolution of the data root (first that applies): the ``root`` argument, the ``GTRANSFER_DATA``
environment variable, the user data directory (``$XDG_CACHE_HOME/gtransfer/data``, by default
``~/.cache/gtransfer/data``). The repository's ``datasets/`` folder (small embedded demo sets) is
always searched after it; every file taken from there is checked against
``datasets/MANIFEST.sha256`` first.

A root may be read-only (the shared data folder is). Processed caches never go into a root: they go
to ``GTRANSFER_CACHE`` (default ``~/.cache/gtransfer``) under ``processed/<kind>/<name>/<key>``,
where the key hashes the loader options and the contents of the raw files, so different
featurisers/options, or edited raw files, never collide.

No function here touches the network unless the caller passed ``allow_download=True`` *and* the
files are missing (a library option only: no command downloads). A ``GTRANSFER_DATA`` that is not a
folder is an error naming the variable, never silently ignored.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import urllib.request
from collections.abc import Iterable, Sequence
from pathlib import Path

from gtransfer.io.digests import file_digest

__all__ = [
    "CACHE_FORMAT_VERSION",
    "EMBEDDED_DIR",
    "ExplicitFolders",
    "MissingDataError",
    "cache_dir",
    "data_roots",
    "default_data_root",
    "download_file",
    "find_data_path",
    "processed_dir",
    "verify_embedded",
]

#: Bumped whenever the processed format changes, so stale caches are rebuilt, not misread.
CACHE_FORMAT_VERSION = 2

EMBEDDED_DIR = Path(__file__).resolve().parents[2] / "datasets"
MANIFEST_NAME = "MANIFEST.sha256"


class MissingDataError(FileNotFoundError):
    """A dataset's files are not in any data root (the message names the paths and the source)."""


def _xdg_cache_home() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


def default_data_root() -> Path:
    """The data root used when neither ``root`` nor ``GTRANSFER_DATA`` is given."""
    return _xdg_cache_home() / "gtransfer" / "data"


def cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """The writable cache directory: ``cache``, else ``GTRANSFER_CACHE``, else ``~/.cache/gtransfer``."""
    if cache is not None:
        return Path(cache)
    env = os.environ.get("GTRANSFER_CACHE")
    return Path(env) if env else _xdg_cache_home() / "gtransfer"


def data_roots(root: str | os.PathLike | None = None, *, include_embedded: bool = True) -> list[Path]:
    """Roots searched for raw files, in order: the primary root, then the embedded ``datasets/``.

    Raises:
        MissingDataError: ``GTRANSFER_DATA`` is set to something that is not a folder, or ``root`` is a file.
    """
    if root is not None:
        primary = Path(root).expanduser()
        if primary.exists() and not primary.is_dir():
            raise MissingDataError(
                f"the data root {primary} is a file, not a folder; pass the folder that holds tu/, moleculenet/, "
                "planetoid/ and checkpoints/ (--data-root DIR, root= in Python)"
            )
    elif os.environ.get("GTRANSFER_DATA"):
        primary = Path(os.environ["GTRANSFER_DATA"]).expanduser()
        if not primary.is_dir():
            raise MissingDataError(
                f"the environment variable GTRANSFER_DATA={os.environ['GTRANSFER_DATA']} is not a folder"
                f"{'' if primary.exists() else ' (it does not exist)'}\n"
                "Fix: set GTRANSFER_DATA to the data root (the folder that holds tu/, moleculenet/, planetoid/, "
                f"checkpoints/), pass --data-root DIR, or unset it to use {default_data_root()}"
            )
    else:
        primary = default_data_root()
    roots = [primary.expanduser()]
    if include_embedded and EMBEDDED_DIR.is_dir() and EMBEDDED_DIR.resolve() != roots[0].resolve():
        roots.append(EMBEDDED_DIR)
    return roots


def _read_manifest() -> dict[str, str]:
    manifest = EMBEDDED_DIR / MANIFEST_NAME
    if not manifest.is_file():
        raise FileNotFoundError(f"{manifest} is missing: the embedded datasets cannot be verified")
    entries = {}
    for line_no, line in enumerate(manifest.read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ValueError(f"{manifest}:{line_no}: expected '<sha256>  <relative path>', got {line!r}")
        entries[parts[1].strip().lstrip("*")] = parts[0].lower()
    return entries


def verify_embedded(path: str | os.PathLike) -> None:
    """Check a file under ``datasets/`` against the manifest; raise ``ValueError`` on any mismatch."""
    path = Path(path).resolve()
    relative = path.relative_to(EMBEDDED_DIR.resolve()).as_posix()
    expected = _read_manifest().get(relative)
    if expected is None:
        raise ValueError(f"embedded file {path} is not listed in {EMBEDDED_DIR / MANIFEST_NAME}")
    actual = file_digest(path)
    if actual != expected:
        raise ValueError(
            f"embedded file {path} fails its checksum (sha256 {actual}, manifest says {expected}): "
            "the file is corrupted or was edited; restore it from git"
        )


def _is_embedded(path: Path) -> bool:
    try:
        path.resolve().relative_to(EMBEDDED_DIR.resolve())
    except ValueError:
        return False
    return True


def find_data_path(
    candidates: Sequence[str],
    roots: Iterable[Path],
    *,
    what: str,
    source: str,
) -> Path:
    """First existing ``root / candidate`` (roots in order, then candidates in order).

    When the hit lies in the embedded ``datasets/`` folder, every file of its folder is verified
    against the manifest first. Raises :class:`MissingDataError` naming every path tried and the public
    source when nothing is found.
    """
    roots = list(roots)
    for root in roots:
        for candidate in candidates:
            path = root / candidate
            if path.exists():
                if _is_embedded(path):
                    # a dataset is its whole folder: verify every file beside the one probed
                    folder = path if path.is_dir() else path.parent
                    for file in sorted(p for p in folder.rglob("*") if p.is_file()):
                        verify_embedded(file)
                return path
    tried = "\n  ".join(str(root / candidate) for root in roots for candidate in candidates)
    raise MissingDataError(
        f"{what}: no file found. Expected one of:\n  {tried}\n"
        f"Public source: {source}\n"
        "Fix: put the files at one of those paths, or point the data root at a folder that has them "
        "(--data-root DIR on the command line, root= in Python, or the GTRANSFER_DATA variable)."
    )


def processed_dir(
    kind: str, name: str, options: dict, raw_files: Iterable[Path], *, cache: str | os.PathLike | None = None
) -> Path:
    """Cache folder for one processed dataset, keyed by options, raw contents and format version."""
    key_source = {
        "format": CACHE_FORMAT_VERSION,
        "options": options,
        "raw": sorted((Path(f).name, file_digest(f)) for f in raw_files),
    }
    key = hashlib.sha256(json.dumps(key_source, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return cache_dir(cache) / "processed" / kind / name / key


def download_file(url: str, destination: str | os.PathLike, *, timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` atomically (temporary file, then rename).

    Only called by loaders when the files are missing and the caller allowed downloads.
    """
    from gtransfer.io.atomic import atomic_write

    destination = Path(destination)
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            atomic_write(destination, lambda out: shutil.copyfileobj(response, out))
    except Exception as error:
        raise OSError(f"download of {url} to {destination} failed: {error}") from error
    return destination


class ExplicitFolders:
    """Mixin for PyG datasets that read raw files from one folder and cache in another.

    The subclass sets ``_raw_folder`` and ``_processed_folder`` before calling the PyG constructor;
    ``download`` never fetches anything: missing raw files are a ``MissingDataError``.
    """

    _raw_folder: str
    _processed_folder: str

    @property
    def raw_dir(self) -> str:
        return self._raw_folder

    @property
    def processed_dir(self) -> str:
        return self._processed_folder

    def download(self) -> None:
        raise MissingDataError(f"{type(self).__name__} {self.name}: raw files missing in {self.raw_dir}")
