"""experiments/vision_studies.py writes under --out and leaves the repository's files alone by default (the
command line, run as a script); the study behind it is gtransfer/studies/designs/vision.py."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _run(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, str(REPO / "experiments" / "vision_studies.py"), *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300, check=True)


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.yaml"))}


def test_the_spec_goes_to_out_with_paths_relative_to_it(tmp_path):
    recorded = REPO / "experiments" / "specs"
    before = _digests(recorded)
    # the defaults are relative to the current folder, never the repository
    done = _run("source-selection", "--spec-only", "--out", "o", "--zoo", "zoos/small", cwd=tmp_path)
    assert done.stdout.strip() == "spec: o/spec.yaml"
    spec = yaml.safe_load((tmp_path / "o" / "spec.yaml").read_text())
    assert spec["name"] == "vision-source-selection-small"
    assert spec["params"] == {"zoo": "../zoos/small", "cache": "../.cache/vision/embeddings"}
    assert _digests(recorded) == before  # nothing in experiments/specs/ was touched
    _run("target-selection", "--spec-only", cwd=tmp_path)
    assert (tmp_path / "results" / "vision" / "target-selection-small" / "spec.yaml").is_file()
