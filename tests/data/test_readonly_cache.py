"""A fully populated cache that cannot be written is read as it is: no lock file, no rebuild.

Tests run as root, for whom permission bits mean nothing, so the reader runs in a child process
as root *without* the capabilities that bypass them (``setpriv --bounding-set=-dac_override,...``):
a folder of mode 0555 then refuses to create the lock file, exactly as for an ordinary user. The
check was seen to fail before the change (PermissionError on ``.processed.lock``).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import warnings
from pathlib import Path

import pandas as pd
import pytest

from gtransfer.data import load_dataset
from gtransfer.data.errors import SkippedMoleculesWarning
from tests.data.test_data_molecules import _write_bbbp

SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(SETPRIV is None or os.geteuid() != 0,
                                reason="needs root and setpriv to drop the permission-bypassing capabilities")

READER = """
import sys, warnings
warnings.simplefilter("error")  # a rebuild warning would be a failure too
warnings.filterwarnings("ignore", category=DeprecationWarning)
from gtransfer.data import load_dataset
root, molecules, cache = sys.argv[1:]
print(len(load_dataset("MUTAG", root=root, cache=cache)), len(load_dataset("Cora", root=root, cache=cache)[0].x),
      len(load_dataset("ogbg-molbbbp", root=molecules, cache=cache, progress=False, verify_size=False)))
"""


def _read_only(path: Path) -> None:
    for folder, _, files in os.walk(path):
        for name in files:
            Path(folder, name).chmod(0o444)
        Path(folder).chmod(0o555)


def test_a_read_only_populated_cache_is_read_without_a_lock(data_root, tmp_path):
    molecules = tmp_path / "molecules"
    _write_bbbp(molecules, pd.read_csv(data_root / "moleculenet" / "bbbp" / "raw" / "BBBP.csv").head(30))
    cache = tmp_path / "cache"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedMoleculesWarning)
        expected = (len(load_dataset("MUTAG", root=data_root, cache=cache)),
                    len(load_dataset("Cora", root=data_root, cache=cache)[0].x),
                    len(load_dataset("ogbg-molbbbp", root=molecules, cache=cache, progress=False, verify_size=False)))
    for lock in cache.rglob(".*.lock"):
        lock.unlink()  # a cache copied onto a read-only share carries no lock files
    _read_only(cache)
    try:
        command = [SETPRIV, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--", sys.executable, "-c", READER,
                   str(data_root), str(molecules), str(cache)]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
        denied = subprocess.run([*command[:3], sys.executable, "-c", f"open({str(cache / 'probe')!r}, 'w')"],
                                capture_output=True, text=True, env=env)
        assert "PermissionError" in denied.stderr  # the child really cannot write the cache
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        assert tuple(int(v) for v in done.stdout.split()) == expected == (188, 2708, 30)
        assert not list(cache.rglob(".*.lock"))
    finally:
        for folder, _, _ in os.walk(cache):
            Path(folder).chmod(stat.S_IRWXU)
