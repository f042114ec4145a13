"""experiments/vision_studies.py writes under --out and leaves the repository's files alone by default."""

from __future__ import annotations

import hashlib
from pathlib import Path

import yaml

from tests.study_helpers import load_experiment_script

REPO = Path(__file__).resolve().parents[2]


def _script():
    return load_experiment_script("vision_studies")


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.yaml"))}


def test_the_spec_goes_to_out_with_paths_relative_to_it(tmp_path, monkeypatch, capsys):
    recorded = REPO / "experiments" / "specs"
    before = _digests(recorded)
    monkeypatch.chdir(tmp_path)  # the defaults are relative to the current folder, never the repository
    assert _script().main(["source-selection", "--spec-only", "--out", "o", "--zoo", "zoos/small"]) == 0
    assert capsys.readouterr().out.strip() == "spec: o/spec.yaml"
    spec = yaml.safe_load((tmp_path / "o" / "spec.yaml").read_text())
    assert spec["name"] == "vision-source-selection-small"
    assert spec["params"] == {"zoo": "../zoos/small", "cache": "../.cache/vision/embeddings"}
    assert _digests(recorded) == before  # nothing in experiments/specs/ was touched
    assert _script().main(["target-selection", "--spec-only"]) == 0
    assert (tmp_path / "results" / "vision" / "target-selection-small" / "spec.yaml").is_file()
