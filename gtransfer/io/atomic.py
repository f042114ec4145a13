"""Atomic file writes: the one way gtransfer writes a file that others may read while it is written.

Every write goes to a temporary file in the destination's folder, is flushed and ``fsync``'ed, then
``os.replace``'d over the destination (and the folder is fsync'ed, so the rename itself survives a
power cut). A reader, or a writer killed at any moment, therefore sees either the old file or the
new one, never half a file; two processes writing the same path leave one complete version.

Permissions follow the umask, as a plain ``open`` does (files ``0o666 & ~umask``, folders
``0o777 & ~umask``): ``mkstemp``/``mkdtemp`` would leave 0600/0700, and a group-shared cache or
checkpoint would be unreadable to the group.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["UnwritableFolderError", "atomic_write", "atomic_folder", "build_lock", "copy_file", "save_npy", "save_npz",
           "write_text", "write_json", "writable_folder"]


class UnwritableFolderError(PermissionError):
    """A folder gtransfer must write into cannot be created or written (one line: which, why, the fix)."""


def _unwritable(folder: Path, what: str, error: OSError) -> UnwritableFolderError:
    reason = error.strerror or str(error)
    unwritable = UnwritableFolderError(f"{what} {folder} is not writable ({reason}); make it writable or choose "
                                       "another folder (caches: GTRANSFER_CACHE or the command's --cache option)")
    unwritable.errno = error.errno
    return unwritable


def writable_folder(folder: str | os.PathLike, *, what: str = "folder") -> Path:
    """``folder``, created if needed and checked writable by creating (and removing) a file in it.

    Raises:
        UnwritableFolderError: it cannot be created or written (read-only file system, permissions,
            a file in its place); ``what`` names its role in the message (``"the embedding cache"``).
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise _unwritable(folder, what, error) from None
    return folder


def _umask() -> int:
    """The process umask, read without changing it where Linux shows it (``/proc/self/status``)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    mask = os.umask(0o022)  # elsewhere: read it by setting it (then restore at once)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def _temporary_beside(path: Path) -> Iterator[tuple[IO[bytes], str]]:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _unwritable(path.parent, f"the folder of {path.name}", exc) from None
    try:
        with contextlib.suppress(OSError):  # a file system without modes (some network mounts) keeps its own
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as handle:
            yield handle, tmp
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some platforms cannot open a folder; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], Any]) -> Path:
    """Write ``path`` atomically: ``write(handle)`` fills a temporary binary file that then replaces it.

    Args:
        path: destination; its folder is created if needed.
        write: called once with an open binary handle (``np.save``, ``torch.save``, ``handle.write``...).

    Returns:
        The destination path.

    Raises:
        UnwritableFolderError: the folder cannot be created or written (one line naming it and the fix).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _unwritable(path.parent, f"the folder of {path.name}", exc) from None
    with _temporary_beside(path) as (handle, tmp):
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_folder(path.parent)
    return path


def save_npy(path: str | os.PathLike, array: Any) -> Path:
    """``np.save`` of one array, atomically (no pickled objects: ``allow_pickle=False``)."""
    import numpy as np

    return atomic_write(path, lambda handle: np.save(handle, np.asarray(array), allow_pickle=False))


def save_npz(path: str | os.PathLike, **arrays: Any) -> Path:
    """``np.savez`` of named arrays, atomically."""
    import numpy as np

    return atomic_write(path, lambda handle: np.savez(handle, **arrays))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """A UTF-8 text file, atomically."""
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def copy_file(source: str | os.PathLike, destination: str | os.PathLike) -> Path:
    """Copy ``source`` to ``destination`` atomically (a full disk leaves the old destination, not half a copy)."""
    import shutil

    with open(source, "rb") as reader:
        return atomic_write(destination, lambda handle: shutil.copyfileobj(reader, handle, 1 << 20))


def write_json(path: str | os.PathLike, value: Any, *, indent: int | None = 1) -> Path:
    """A JSON file (keys in the order given), atomically."""
    return write_text(path, json.dumps(value, indent=indent) + "\n")


@contextlib.contextmanager
def build_lock(path: str | os.PathLike) -> Iterator[Path]:
    """Hold an exclusive lock for building ``path`` (a file or folder), across processes.

    The lock is ``fcntl.flock`` on the file ``.<name>.lock`` beside ``path`` (created if needed, never
    removed: removing it would let two processes lock two different files). Check-then-build under
    it: the second of two processes that want the same cache waits, then finds the first one's
    finished cache instead of building (and deleting) it again. The kernel drops the lock when its
    holder dies, so a killed builder never blocks the next one. Where ``fcntl`` does not exist
    (Windows) the lock is a no-op.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield path
        return
    with open(path.parent / f".{path.name}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Build a folder atomically: fill the yielded staging folder; on success it replaces ``path``.

    The staging folder lies beside ``path`` (same file system), so the final ``os.replace`` is one
    rename; on an error the staging folder is removed and ``path`` is left as it was.
    """
    import shutil

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.building-"))
        with contextlib.suppress(OSError):
            staging.chmod(0o777 & ~_umask())
    except OSError as exc:
        raise _unwritable(path.parent, "the folder", exc) from None
    try:
        yield staging
        if path.is_symlink() or (path.exists() and not path.is_dir()):
            path.unlink()  # a file (a damaged entry) where the folder goes: os.replace cannot put a folder over it
        else:
            shutil.rmtree(path, ignore_errors=True)
        os.replace(staging, path)
        _fsync_folder(path.parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
