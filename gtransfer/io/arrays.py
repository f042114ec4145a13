"""Reading arrays given on the command line or in trial params: ``.npy``, or ``.npz`` with a key.

``emb.npy`` is the array itself; ``vectors.npz:features`` is the ``features`` array of an ``.npz``;
``vectors.npz`` alone takes the caller's default key (``--labels case.npz`` reads ``labels``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["load_array"]


def load_array(spec: str | Path, default_key: str | None = None, what: str = "array") -> np.ndarray:
    """Load one array from ``path.npy``, ``path.npz:key`` or ``path.npz`` (key ``default_key``).

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: not a readable array file, or the .npz has no such key (the message lists its keys).
    """
    text = str(spec)
    key = None
    if ".npz:" in text:
        text, key = text.rsplit(":", 1)
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"{what} file {path} does not exist")
    try:
        loaded = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{what} file {path} is not a readable .npy/.npz array: {exc}") from None
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
        raise ValueError(f"{what} file {path} is a single .npy array; ':{key}' applies only to .npz files")
    return loaded
