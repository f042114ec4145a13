"""Where image data is read from and where decoded arrays are cached: the graph side's one rule.

Data roots are :func:`gtransfer.data.roots.data_roots` (the ``root`` argument, else ``GTRANSFER_DATA``,
else ``~/.cache/gtransfer/data``); image files live in a root's ``vision/`` folder (``vision/mnist/``,
``vision/cifar10_jpeg/``). Decoded arrays go to :func:`gtransfer.data.roots.cache_dir` ``/vision``.
"""

from __future__ import annotations

import os
from pathlib import Path

from gtransfer.data.roots import cache_dir, data_roots

__all__ = ["vision_data_root", "vision_cache_dir"]


def vision_data_root(root: str | os.PathLike | None = None) -> Path:
    """The folder holding ``mnist/`` and ``cifar10_jpeg/``: ``<data root>/vision`` (or the root itself).

    Raises:
        FileNotFoundError: no data root has them (the message lists where it looked).
    """
    candidates: list[Path] = []
    for base in data_roots(root, include_embedded=False):
        candidates += [base / "vision", base]
    for candidate in candidates:
        if (candidate / "mnist").is_dir() or (candidate / "cifar10_jpeg").is_dir():
            return candidate
    raise FileNotFoundError(
        "no image data found: looked for mnist/ or cifar10_jpeg/ in " + ", ".join(str(c) for c in candidates)
        + "; pass root= (the data root) or set GTRANSFER_DATA to the folder that holds vision/"
    )


def vision_cache_dir(cache: str | os.PathLike | None = None) -> Path:
    """A writable folder for decoded arrays: ``cache`` itself, else ``<gtransfer cache>/vision``.

    Raises:
        ValueError: the folder cannot be created or is not writable.
    """
    path = Path(cache) if cache is not None else cache_dir() / "vision"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValueError(
            f"vision cache folder {path} cannot be created: {exc}; set GTRANSFER_CACHE to a writable folder"
        ) from None
    if not os.access(path, os.W_OK):
        raise ValueError(f"vision cache folder {path} is not writable; set GTRANSFER_CACHE to a writable folder")
    return path
