"""Fixtures for the data tests: no network, and proof that the data root is never written.

The machine may run tests as root, for whom a read-only permission bit means nothing, so the root
is checked directly: every file and folder under it (names, sizes, modification times) is recorded
before the data tests and compared after them.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest


class NetworkBlocked(OSError):
    """Raised by any socket connection attempt during the data tests."""


def _refuse(*args, **kwargs):
    raise NetworkBlocked(f"network access attempted during an offline test: {args[:2]}")


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Every data test runs with outgoing connections and name lookups refused."""
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every entry under ``root``, folders included (a new file changes its folder)."""
    entries = {".": (0, root.stat().st_mtime_ns)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath, name)
            info = path.lstat()
            entries[str(path.relative_to(root))] = (info.st_size if path.is_file() else 0, info.st_mtime_ns)
    return entries


@pytest.fixture(scope="session")
def data_root(shared_data) -> Path:
    """The shared data root, checked to be unchanged (read-only in effect) after all data tests."""
    before = snapshot(shared_data)
    yield shared_data
    after = snapshot(shared_data)
    added = sorted(set(after) - set(before))
    removed = sorted(set(before) - set(after))
    changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
    assert not (added or removed or changed), (
        f"the data root was written: added {added[:5]}, removed {removed[:5]}, changed {changed[:5]}"
    )


@pytest.fixture(scope="session")
def data_cache() -> Path:
    """The processed-data cache the library uses by default (GTRANSFER_CACHE or ~/.cache/gtransfer).

    A cold run (CI) builds it; reruns read it. Tests of cache corruption use their own folders.
    """
    from gtransfer.data.roots import cache_dir

    return cache_dir()
