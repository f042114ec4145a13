"""Where vision data is read from and where decoded arrays are cached.

The data root holds the published files (read-only; never written). The cache holds decoded
arrays as ``.npy`` and must lie outside the data root.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["vision_data_root", "vision_cache_dir"]

_REPO_ROOT = Path(__file__).resolve().parents[2]


def vision_data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding ``mnist/`` and ``cifar10_jpeg/``.

    Resolution order: ``root`` (either the shared data root or its ``vision/`` folder), the
    ``GTRANSFER_DATA`` environment variable (the shared data root), then ``../shared/data`` beside
    the repository. Raises FileNotFoundError when none exists.
    """
    candidates: list[Path] = []
    if root is not None:
        candidates = [Path(root) / "vision", Path(root)]
    else:
        env = os.environ.get("GTRANSFER_DATA")
        if env:
            candidates.append(Path(env) / "vision")
        candidates.append(_REPO_ROOT.parent / "shared" / "data" / "vision")
    for candidate in candidates:
        if (candidate / "mnist").is_dir() or (candidate / "cifar10_jpeg").is_dir():
            return candidate
    raise FileNotFoundError(
        "no vision data root found (looked in: " + ", ".join(str(c) for c in candidates)
        + "); pass root= or set GTRANSFER_DATA to the shared data root"
    )


def vision_cache_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """A writable folder for decoded arrays: ``cache_dir``, ``$GTRANSFER_CACHE/vision`` or ``.cache/vision``.

    Created if missing. Raises ValueError when it is not writable.
    """
    if cache_dir is not None:
        path = Path(cache_dir)
    elif os.environ.get("GTRANSFER_CACHE"):
        path = Path(os.environ["GTRANSFER_CACHE"]) / "vision"
    else:
        path = _REPO_ROOT / ".cache" / "vision"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(f"vision cache dir {path} cannot be created: {exc}") from exc
    if not os.access(path, os.W_OK):
        raise ValueError(f"vision cache dir {path} is not writable (set GTRANSFER_CACHE)")
    return path
