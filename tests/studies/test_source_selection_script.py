"""The source-selection design (gtransfer/studies/designs/source_selection.py, behind experiments/source_selection.py):
the medium preset's design can decide claims (a) and (b) -- at least 20
encoders of every kind, at least 40 targets, scores from n = 50..all against one truth, fine-tuning truth
on several targets -- and the full preset is the same design at GPU scale. No training: specs only."""

from __future__ import annotations

import pytest

from gtransfer.models.specs import PUBLISHED_ENCODERS
from gtransfer.pretrain import STRATEGIES
from gtransfer.studies.designs import source_selection
from gtransfer.studies.spec import expand_trials, parse_spec


@pytest.fixture(scope="module")
def script():
    return source_selection


def _studies(script, preset: str) -> dict[str, dict]:
    return {raw["name"]: raw for raw in script.specs(preset, None, script.zoo_paths(preset))}


@pytest.mark.parametrize("preset", ["medium", "full"])
def test_sized_design_ranks_enough_encoders_on_enough_targets_from_every_size(script, preset):
    studies = _studies(script, preset)
    sizes = [f"source-selection-{preset}-n{n}" for n in ("50", "100", "300", "1000", "all")]
    assert set(sizes) <= set(studies)
    trials = {name: expand_trials(parse_spec(studies[name], source=name)) for name in sizes}
    for expanded in trials.values():
        scores = [t for t in expanded if t.kind == "graph_score"]
        encoders = {t.params["encoder"] for t in scores}
        assert len(encoders) >= 20 and len({t.params["target"] for t in scores}) >= 40
        assert {f"published:{p}" for p in PUBLISHED_ENCODERS} <= encoders
        assert {e.split(":")[1] for e in encoders if e.startswith("random:")} == {"gin", "gcn", "graphsage", "gat"}
        zoo_strategies = {
            e.removeprefix("zoo/gin_").removesuffix(".pt").split("_")[0] for e in encoders if e.startswith("zoo/")
        }
        assert zoo_strategies == set(STRATEGIES), "a zoo member of every pretraining strategy"
    # one truth for every size: the probe trials are the same keys, only the scores see fewer molecules
    probes = [{t.key for t in expanded if t.kind == "graph_probe"} for expanded in trials.values()]
    assert all(p == probes[0] for p in probes) and len(probes[0]) >= 20 * 40
    wanted = [
        {t.params.get("train_samples") for t in expanded if t.kind == "graph_score"} for expanded in trials.values()
    ]
    assert wanted == [{50}, {100}, {300}, {1000}, {None}]
    finetune = [
        t
        for t in expand_trials(parse_spec(studies[f"source-selection-{preset}-finetune"]))
        if t.kind == "graph_finetune"
    ]
    assert len({t.params["target"] for t in finetune}) >= 8 and len({t.params["encoder"] for t in finetune}) >= 20
    timing = expand_trials(parse_spec(studies[f"source-selection-{preset}-timing"]))
    assert {t.kind for t in timing} == {"graph_metric_timing"} and len(timing) >= 20


def test_medium_caps_what_the_cpu_cannot_afford_and_full_does_not(script):
    medium, full = _studies(script, "medium"), _studies(script, "full")
    hiv = [s for s in medium["source-selection-medium-nall"]["stages"] if s["targets"] == ["ogbg-molhiv"]]
    assert {s["params"]["max_samples"] for s in hiv} == {4000}
    assert all("max_samples" not in s["params"] for s in full["source-selection-full-nall"]["stages"])
    ft = [s for s in full["source-selection-full-finetune"]["stages"] if s["kind"] == "graph_finetune"][0]
    assert ft["params"]["device"] == "cuda" and ft["params"]["epochs"] == 100 and len(ft["seeds"]) == 3
