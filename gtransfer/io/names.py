"""File and folder names made from free text (study names, trial kinds, metric names), safely.

``safe_name`` is injective and never leaves its folder: a name made only of letters, digits, ``_``,
``-`` and inner dots, not starting with a dot, is used as it is; any other text becomes a readable
slug followed by ``~`` and 12 hex digits of its SHA-256. ``~`` never occurs in a name used as it is,
so ``exp/1``, ``exp_1`` and ``exp 1`` get three different names (``exp_1~<hash>``, ``exp_1``,
``exp_1~<other hash>``), and ``..`` or ``/etc`` become ordinary names inside the folder.
"""

from __future__ import annotations

import hashlib
import re

__all__ = ["safe_name"]

_SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,79}")


def safe_name(text: object) -> str:
    """A file or folder name for ``text`` (see the module docstring): ``text`` itself when already safe."""
    text = str(text)
    if _SAFE.fullmatch(text):
        return text
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", text).lstrip(".")[:60] or "name"
    return f"{slug}~{hashlib.sha256(text.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}"
