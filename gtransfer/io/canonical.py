"""Canonical JSON: one text for one value, whatever the machine, Python version or dict order.

Keys sorted, no whitespace, ASCII only, tuples written as lists, numpy scalars and arrays converted to
plain Python values, and non-finite floats rejected (JSON has no NaN, and ``NaN != NaN`` would break
equality of keys). ``1`` and ``1.0`` are different values. Trial keys, embedding-cache keys and the
store's JSON columns are all built from it.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["canonicalize", "canonical_json"]


def canonicalize(value: Any, *, path: str = "params", allow_nonfinite: bool = False) -> Any:
    """Convert ``value`` to plain JSON types (dict with str keys, list, str, int, float, bool, None).

    ``allow_nonfinite`` lets NaN and infinities through (for trial *results*, where a metric may
    legitimately be NaN; Python's json writes and reads them back). Parameters never allow them.

    Raises:
        ValueError: on a non-finite float, a non-string dict key or a type JSON cannot hold; the
            message names where in ``value`` the problem is.
    """
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not allow_nonfinite and not math.isfinite(value):
            raise ValueError(f"{path} is {value!r}; trial parameters must be finite numbers")
        return float(value)
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{path} has a non-string key {key!r}; use string keys")
            out[key] = canonicalize(item, path=f"{path}.{key}", allow_nonfinite=allow_nonfinite)
        return out
    if isinstance(value, (list, tuple)):
        return [
            canonicalize(item, path=f"{path}[{i}]", allow_nonfinite=allow_nonfinite) for i, item in enumerate(value)
        ]
    # numpy scalars and arrays, without importing numpy here
    if hasattr(value, "tolist") and hasattr(value, "dtype"):
        return canonicalize(value.tolist(), path=path, allow_nonfinite=allow_nonfinite)
    raise ValueError(f"{path} has type {type(value).__name__}, which a trial parameter cannot have")


def canonical_json(value: Any) -> str:
    """The canonical JSON text of ``value`` (see the module docstring)."""
    return json.dumps(canonicalize(value), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
