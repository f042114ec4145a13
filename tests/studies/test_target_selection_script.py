"""The target-selection design (gtransfer/studies/designs/target_selection.py, behind experiments/target_selection.py):
the medium preset's design can decide the NCE/LEEP target-selection claim
(several head sources, many targets spanning label counts 2-6 and imbalance ratios 1-10, fine-tuned truth);
the small and full presets still expand. No training: specs only."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gtransfer.data.targets import parse_target
from gtransfer.pretrain.source_zoo import SMALL_SOURCE_ZOO
from gtransfer.studies.designs import target_selection
from gtransfer.studies.spec import expand_trials, parse_spec

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def script():
    return target_selection


def _label_design(target: str) -> tuple[int, float]:
    """(classes, imbalance ratio) a target string asks for; a molecule task is binary with its natural ratio (NaN)."""
    _, _, options = parse_target(target)
    return (options["k"], options.get("ratio", 1.0)) if options else (2, float("nan"))


def test_medium_design_has_head_sources_many_targets_and_spans_labels_and_imbalance(script):
    raw, timing = script.specs("medium", None)
    stages = raw["stages"]
    scores = [s for s in stages if s["kind"] == "graph_score"]
    truths = [s for s in stages if s["kind"] != "graph_score"]
    assert {s["kind"] for s in truths} == {"graph_finetune"} and raw["report"]["truth"] == "graph_finetune"
    assert all(s["params"]["head"] == "softmax" and len(s["seeds"]) >= 2 for s in truths), (
        "binary targets judged by accuracy too"
    )
    assert all(s["params"]["source"] == "head" for s in scores), "NCE/LEEP from each source model's head"
    zoo = {spec.name for spec in SMALL_SOURCE_ZOO}
    sources = {Path(e).stem for s in stages for e in s["encoders"]}
    assert all(e.startswith("zoo/") for s in stages for e in s["encoders"]) and sources <= zoo
    assert len(sources) >= 3
    assert {s.name for s in script.zoo_members("medium")} == sources, "the script builds exactly the sources it reads"
    timed = {(Path(s["encoders"][0]).stem, s["targets"][0]) for s in timing["stages"]}
    assert {s["kind"] for s in timing["stages"]} == {"graph_metric_timing"} and {e for e, _ in timed} == sources
    assert ("enzymes-gin", "ENZYMES:k=6,ratio=1,seed=0") in timed, "each family's largest subset is timed"
    # every family is scored and fine-tuned on the same targets with one encoder, and has enough targets to rank
    families: dict[str, list[str]] = {}
    for score, truth in zip(scores, truths):
        assert score["params"]["family"] == truth["params"]["family"] and score["targets"] == truth["targets"]
        assert score["encoders"] == truth["encoders"] and len(score["encoders"]) == 1
        families[score["params"]["family"]] = score["targets"]
    assert min(len(t) for t in families.values()) >= 8
    targets = [t for ts in families.values() for t in ts]
    assert len(targets) == len(set(targets)) >= 40
    design = [_label_design(t) for t in targets]
    assert {k for k, _ in design} == {2, 3, 4, 5, 6}
    ratios = {r for _, r in design if r == r}
    assert min(ratios) == 1 and max(ratios) == 10
    for family in ("ENZYMES", "IMDB-MULTI", "PROTEINS", "NCI1"):  # imbalance varies within each class-subset family
        assert {_label_design(t)[1] for t in families[family]} >= {1, 10}
    assert set(raw["report"]["truth_metrics"]) >= {"test_accuracy", "relative_accuracy"}
    assert {"nce", "leep", "nce_normalized", "leep_normalized"} <= set(raw["params"]["metrics"])


@pytest.mark.parametrize("preset", ["small", "medium", "full"])
def test_every_preset_expands_on_the_engine(script, preset):
    raw = script.specs(preset, "/data")[0]
    trials = expand_trials(parse_spec(raw))
    per_stage = sum(len(s["encoders"]) * len(s["targets"]) * len(s["seeds"]) for s in raw["stages"])
    assert len(trials) == per_stage
    assert raw["params"]["data_root"] == "/data"
    if preset == "full":
        assert {t.params["device"] for t in trials if t.kind == "graph_finetune"} == {"cuda"}


def test_medium_is_a_preset_choice_and_unknown_presets_are_refused(script):
    assert script.PRESETS == ("small", "medium", "full")
    with pytest.raises(ValueError, match="preset must be one of"):
        script.specs("huge", None)


def test_the_recorded_medium_spec_is_the_generated_one(script):
    recorded = yaml.safe_load((REPO / "docs" / "results" / "target-selection-medium.yaml").read_text())
    raw = script.specs("medium", recorded["params"].get("data_root"))[0]
    assert recorded == raw
