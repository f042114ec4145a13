"""The spec YAML a study run writes is atomic: a full disk leaves the previous spec, not half of it.

The disk is really full: the child process mounts a 256 KiB tmpfs in a private mount namespace
(``unshare -m``), fills it, and asks :func:`gtransfer.studies.experiment.run_study` to write a larger
spec over the one there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("unshare") is None or not hasattr(os, "geteuid") or os.geteuid() != 0,
                                reason="needs root and unshare to mount a small tmpfs")

CHILD = """
import errno, pathlib, sys
from gtransfer.studies.experiment import run_study
out = pathlib.Path(sys.argv[1])
(out / "s.yaml").write_text("name: s\\nkind: probe\\n")
with open(out / "filler", "wb", buffering=0) as filler:
    try:
        while True:
            filler.write(b"x" * 4096)
    except OSError as error:
        assert error.errno == errno.ENOSPC
try:
    run_study({"name": "s", "kind": "probe", "params": {"pad": "y" * 100_000}}, out, progress=False)
except OSError as error:
    print("failed with errno", error.errno == errno.ENOSPC)
print(repr((out / "s.yaml").read_text()))
print(sorted(p.name for p in out.iterdir()))
"""


def test_a_full_disk_leaves_the_previous_spec_yaml(tmp_path):
    folder = tmp_path / "small"
    folder.mkdir()
    script = f'mount -t tmpfs -o size=256k tmpfs "{folder}" && "{sys.executable}" -c "$0" "{folder}"'
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(["unshare", "-m", "sh", "-c", script, CHILD], capture_output=True, text=True, env=env,
                            timeout=300)
    if result.returncode != 0 and "mount" in result.stderr and "Traceback" not in result.stderr:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "failed with errno True",
        repr("name: s\nkind: probe\n"),
        "['filler', 's.yaml']",
    ]
