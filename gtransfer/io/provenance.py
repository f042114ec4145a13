"""Which code produced a file: recorded in checkpoints and cache entries."""

from __future__ import annotations

import subprocess
from functools import lru_cache
from pathlib import Path

__all__ = ["code_version"]


@lru_cache(maxsize=1)
def code_version() -> str:
    """``gtransfer.__version__`` plus the git commit of the source tree when there is one."""
    import gtransfer

    version = gtransfer.__version__
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=Path(gtransfer.__file__).parent,
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.strip()
        return f"{version}+g{commit}" if commit else version
    except (OSError, subprocess.SubprocessError):
        return version
