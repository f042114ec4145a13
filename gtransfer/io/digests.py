"""Content digests of files: the identity of a checkpoint or a raw data file in cache keys."""

from __future__ import annotations

import hashlib
import os

__all__ = ["file_digest", "file_sha256"]


def file_digest(path: str | os.PathLike, *, algorithm: str = "sha256") -> str:
    """Hex digest of a file's contents, read in 1 MiB blocks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes."""
    return file_digest(path, algorithm="sha256")
