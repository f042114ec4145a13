"""Stable trial keys: the SHA-256 of the canonical JSON (:mod:`gtransfer.io.canonical`) of ``(kind, params)``.

A trial's key must not change between runs, machines or Python versions, so that a rerun of a sweep
finds the trials it already finished. ``1`` and ``1.0`` are different values and give different keys:
write a spec consistently.
"""

from __future__ import annotations

import hashlib

from gtransfer.io.canonical import canonical_json

__all__ = ["trial_key"]


def trial_key(kind: str, params: dict) -> str:
    """The stable key of a trial: hex SHA-256 of ``canonical_json({"kind": kind, "params": params})``."""
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"trial kind must be a non-empty string, got {kind!r}")
    if not isinstance(params, dict):
        raise ValueError(f"trial params must be a dict, got {type(params).__name__}")
    text = canonical_json({"kind": kind, "params": params})
    return hashlib.sha256(text.encode("ascii")).hexdigest()
