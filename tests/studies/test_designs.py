"""The study designs in gtransfer/studies/designs/ expand to exactly the trials the experiment scripts expanded
to before the designs moved out of them (keys recorded at commit 1e2a512), and the committed reports' specs
under docs/results/ are the ones the designs produce. No training: specs only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from gtransfer.io.canonical import canonical_json
from gtransfer.studies.designs import graph_source_zoo, metric_timing, source_selection, target_selection, vision
from gtransfer.studies.spec import expand_trials, parse_spec

REPO = Path(__file__).resolve().parents[2]
RECORDED = json.loads((Path(__file__).with_name("design_keys_1e2a512.json")).read_text())["designs"]


def _specs(design: str, preset: str, data_root: str | None = None) -> list[dict]:
    """Every raw spec of ``design``'s ``preset``, built as its experiment script builds them."""
    if design == "source_selection":
        return source_selection.specs(preset, data_root, source_selection.zoo_paths(preset))
    if design == "target_selection":
        return target_selection.specs(preset, data_root)
    if design == "metric_timing":
        return metric_timing.specs(preset)
    if design == "graph_source_zoo":
        return graph_source_zoo.specs(data_root)
    if design.startswith("vision/"):
        return [vision.STUDIES[design.removeprefix("vision/")](preset)]
    raise KeyError(design)


PRESETS = {
    "source_selection": source_selection.PRESETS, "target_selection": target_selection.PRESETS,
    "metric_timing": metric_timing.PRESETS, "graph_source_zoo": graph_source_zoo.PRESETS,
    **{f"vision/{study}": ("small", "full") for study in vision.STUDIES},
}


def _built() -> dict[str, dict]:
    return {f"{design}/{preset}/{raw['name']}": raw
            for design, presets in PRESETS.items() for preset in presets for raw in _specs(design, preset)}


def test_the_designs_and_presets_are_the_recorded_ones():
    assert sorted(_built()) == sorted(RECORDED)


@pytest.mark.parametrize("name", sorted(RECORDED))
def test_every_preset_expands_to_the_recorded_trial_keys(name):
    design, preset, _ = name.rsplit("/", 2)
    raw = {r["name"]: r for r in _specs(design, preset)}[name.rsplit("/", 1)[1]]
    keys = sorted(t.key for t in expand_trials(parse_spec(raw)))
    recorded = RECORDED[name]
    assert len(keys) == recorded["trials"]
    assert hashlib.sha256("\n".join(keys).encode()).hexdigest() == recorded["keys_sha256"]
    # the whole spec, descriptions and report sections included, is the one the script wrote
    assert hashlib.sha256(canonical_json(raw).encode()).hexdigest() == recorded["spec_sha256"]


#: committed reports run with an earlier design than BASE's script (they differ at 1e2a512 too)
STALE = {"target-selection-small": "run in commit 354b0e6 with published encoders, before the source zoo's heads"}
COMMITTED = [pytest.param(p, id=p.stem, marks=[pytest.mark.xfail(strict=True, reason=STALE[p.stem])] if p.stem in STALE
                          else []) for p in sorted((REPO / "docs" / "results").glob("*.yaml"))]


@pytest.mark.parametrize("path", COMMITTED)
def test_the_committed_report_specs_are_what_the_designs_produce(path):
    committed = yaml.safe_load(path.read_text())
    data_root = committed.get("params", {}).get("data_root")
    built = {raw["name"]: raw for design, presets in PRESETS.items() if not design.startswith("vision/")
             for preset in presets for raw in _specs(design, preset, data_root)}
    assert committed == built[committed["name"]]


def test_the_recorded_vision_specs_regenerate_byte_for_byte(tmp_path):
    for path in sorted((REPO / "experiments" / "specs").glob("vision_*_small.yaml")):
        study = path.stem.removeprefix("vision_").removesuffix("_small").replace("_", "-")
        written = vision.write_spec(vision.STUDIES[study]("small", zoo="../../results/vision/zoo-small"),
                                    tmp_path / path.name)
        assert written.read_bytes() == path.read_bytes(), path.name


def test_the_pretraining_zoo_presets_build_every_combination_once():
    from gtransfer.studies.designs.pretrain_zoo import zoo_jobs

    small, full = zoo_jobs("small"), zoo_jobs("full")
    assert len(small) == len(set(small)) == 2 * 4 * 2 and len(full) == len(set(full)) == 4 * 4 * 2 * 2 + 4 * 2
    assert small[0] == ("zinc250k-jtnn-test", 1500, "gin", "attrmask", 0)  # corpus, then arch, strategy, seed
    assert small[-1] == ("moses-test", 1500, "gcn", "graphcl", 0)
    assert full[-8:] == [("ogbg-moltoxcast", None, a, "supervised", s) for a in ("gin", "gcn", "graphsage", "gat")
                         for s in (0, 1)]
