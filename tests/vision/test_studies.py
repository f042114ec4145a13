"""The vision study specs are valid for the shared engine and the committed YAML files match them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gtransfer.studies.designs.vision import STUDIES
from gtransfer.studies.spec import expand_trials, parse_spec
from gtransfer.vision.targets import parse_target
from gtransfer.vision.zoo import PRESETS

SPEC_DIR = Path(__file__).resolve().parents[2] / "experiments" / "specs"


@pytest.mark.parametrize("study", sorted(STUDIES))
@pytest.mark.parametrize("preset", ["small", "full"])
def test_specs_expand_on_the_shared_engine(study, preset):
    raw = STUDIES[study](preset)
    spec = parse_spec(raw)
    trials = expand_trials(spec)
    encoders, targets = raw["encoders"], raw["targets"]
    seeds = raw["stages"][1]["seeds"]
    assert len(trials) == len(encoders) * len(targets) * (1 + len(seeds))
    assert {t.kind for t in trials} == {"vision_score", "vision_finetune"}
    assert set(encoders) <= {s.name for s in PRESETS[preset]}, "every encoder is built by the same zoo preset"
    assert len(set(targets)) == len(targets)
    for name in targets:
        parse_target(name)


def test_target_selection_targets_are_small_next_to_d_512():

    spec = STUDIES["target-selection"]("small")
    from gtransfer.vision.models import build_encoder

    dims = {s.name: build_encoder(s.arch, **s.config).embedding_dim for s in PRESETS["small"]}
    assert {dims[e] for e in spec["encoders"]} == {512}
    refs = [parse_target(t) for t in spec["targets"]]
    # 60 % of at most K * max_per_class images train: from tens to at most 900 for K = 10, n = 150
    assert max(0.6 * (r.num_classes or len(r.classes)) * r.max_per_class for r in refs) <= 900
    assert sum(0.6 * (r.num_classes or len(r.classes)) * r.max_per_class < 512 for r in refs) > len(refs) // 2


@pytest.mark.parametrize("study", sorted(STUDIES))
def test_committed_spec_files_are_the_generated_ones(study):
    path = SPEC_DIR / f"vision_{study.replace('-', '_')}_small.yaml"
    committed = yaml.safe_load(path.read_text())
    assert committed == STUDIES[study]("small", zoo="../../results/vision/zoo-small")


def test_unknown_preset_is_refused():
    with pytest.raises(ValueError, match="unknown preset"):
        STUDIES["source-selection"]("huge")
