"""The vision medium preset (issue 25): what its zoo and studies contain, its projection, the score kind's
train_samples, and a run that resumes (tiny zoo and targets on scikit-learn's digits: no image files needed)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gtransfer.studies.designs import vision_medium as medium
from gtransfer.studies.spec import expand_trials, parse_spec
from gtransfer.vision.models import build_encoder
from gtransfer.vision.targets import load_target, parse_target
from gtransfer.vision.zoo import PRESETS, SourceSpec

ZOO = PRESETS["medium"]


def _dims() -> dict[str, int]:
    return {s.name: build_encoder(s.arch, **s.config).embedding_dim for s in ZOO}


def test_the_zoo_has_15_or_more_varied_sources_and_one_random_control():
    names = [s.name for s in ZOO]
    assert len(names) == len(set(names)) == 17
    assert [s.name for s in ZOO if s.epochs == 0] == ["random-resnet16"], "exactly one random control"
    trained = [s for s in ZOO if s.epochs > 0]
    assert len(trained) >= 15
    dims = _dims()
    assert {s.arch for s in trained} == {"resnet", "cnn"}
    assert {s.dataset for s in trained} == {"cifar10", "mnist"}
    assert {dims[s.name] for s in trained} == {32, 64, 128, 512}
    assert {s.epochs for s in trained} == {1, 2, 3, 4}
    assert len({(s.dataset, s.classes) for s in trained}) == 5  # CIFAR-10 all, animals, vehicles; MNIST all, 0-4
    assert {s.config.get("blocks", 1) for s in trained if s.arch == "resnet"} == {1, 2}
    assert {len(s.config["widths"]) for s in trained if s.arch == "resnet"} == {3, 5}


def test_source_selection_six_or_more_targets_five_sizes_and_one_seeded_truth():
    specs = medium.source_selection_specs("zoo", "cache")
    assert [s["name"] for s in specs] == [f"vision-source-selection-medium-n{n}" for n in (50, 100, 300, 600, "all")]
    targets = medium.SOURCE_TARGETS
    assert len(targets) == len(set(targets)) >= 6
    assert {parse_target(t).dataset for t in targets} == {"cifar10", "mnist", "digits"}
    sizes = {t: medium.train_images(t) for t in targets}
    assert min(sizes.values()) < 512 and sum(n > 600 for n in sizes.values()) == 3  # (a'): 2 cells above d = 512
    finetune_keys = []
    for raw in specs:
        assert raw["encoders"] == [s.name for s in ZOO] and raw["targets"] == targets
        assert raw["stages"][1] == {"kind": "vision_finetune", "seeds": [0, 1, 2], "params": medium.SOURCE_FINETUNE}
        trials = expand_trials(parse_spec(raw))
        assert len(trials) == len(ZOO) * len(targets) * (1 + 3)
        finetune_keys.append({t.key for t in trials if t.kind == "vision_finetune"})
        scores = [t for t in trials if t.kind == "vision_score"]
        assert {t.params.get("train_samples") for t in scores} == {medium.SIZES[specs.index(raw)]}
    assert all(keys == finetune_keys[0] for keys in finetune_keys), "the truth's trials are shared by every size"


def test_target_selection_six_d512_families_in_strata_with_their_own_targets():
    raw = medium.target_selection_spec("zoo", "cache")
    dims = _dims()
    encoders = [e for e, _ in medium.FAMILIES]
    assert len(encoders) == len(set(encoders)) == 6 and {dims[e] for e in encoders} == {512}
    trials = expand_trials(parse_spec(raw))
    targets = {}
    for trial in trials:
        targets.setdefault(trial.params["encoder"], set()).add(trial.params["target"])
    assert all(len(t) == 12 for t in targets.values())
    assert len(set.union(*targets.values())) == 6 * 12, "no two families share a target"
    for family in targets.values():
        strata = {(parse_target(t).num_classes, parse_target(t).imbalance_ratio) for t in family}
        assert strata == {(k, float(r)) for k in (2, 3, 5, 10) for r in (1, 2, 5)}
    seeds = sorted(t.params["seed"] for t in trials if t.kind == "vision_finetune")
    assert seeds == sorted([0, 1, 2] * 72)
    assert raw["report"]["candidate"] == "target" and raw["report"]["group"] == "encoder"


def test_projection_counts_each_trial_once_and_the_work_per_encoder():
    projection = medium.project_medium(parse_spec(s) for s in medium.medium_specs("zoo", "cache"))
    assert projection.trials == {"vision_score": 17 * 8 * 5 + 72, "vision_finetune": 17 * 8 * 3 + 6 * 12 * 3}
    source_work = 3 * 3 * sum(medium.train_images(t) for t in medium.SOURCE_TARGETS)
    family_work = 5 * 3 * sum(medium.train_images(t) for t in medium.family_targets(1, "cifar10"))
    assert projection.image_epochs["c10-resnet8-e3"] == source_work
    assert projection.image_epochs["c10-cnn512-e4"] == source_work + family_work
    rates = {e: 0.002 for e in projection.image_epochs}
    assert projection.cpu_hours(rates) == pytest.approx(0.002 * sum(projection.image_epochs.values()) / 3600)
    with pytest.raises(KeyError, match="no rate"):
        projection.cpu_hours({})


@pytest.mark.parametrize("target", ["digits:k=3,ratio=2,max=170,seed=1", "digits:k=10,ratio=1,max=150,seed=0"])
def test_train_images_is_the_targets_training_part(target):
    assert medium.train_images(target) == len(load_target(target).train)


def test_the_score_kind_scores_from_train_samples_rows_drawn_as_the_graph_kinds_draw_them(tmp_path):
    from gtransfer.data.splits import stratified_sample
    from gtransfer.metrics import score_all
    from gtransfer.studies.kinds.arrays import score_trial

    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), [40, 25, 15])
    features = rng.normal(size=(80, 6)) + labels[:, None]
    np.save(tmp_path / "f.npy", features)
    np.save(tmp_path / "y.npy", labels)
    params = {"features": str(tmp_path / "f.npy"), "labels": str(tmp_path / "y.npy"), "metrics": ["h_score", "logme"]}
    cut = score_trial({**params, "train_samples": 30, "sample_seed": 2})
    rows = stratified_sample(labels, 30, seed=2)
    expected = score_all(features[rows], labels[rows], metrics=["h_score", "logme"])
    assert cut["n"] == 30 and cut["logme"] == expected["logme"] and cut["h_score"] == expected["h_score"]
    assert score_trial({**params, "train_samples": 80}) == score_trial(params) != cut


TINY = [SourceSpec("tiny-cnn", "digits", (0, 1, 2, 3), "cnn", {"width": 4, "embedding_dim": 16, "input_size": 8},
                   epochs=2, max_per_class=30, batch_size=16, lr=1e-2),
        SourceSpec("tiny-cnn-e1", "digits", (4, 5, 6), "cnn", {"width": 4, "embedding_dim": 16, "input_size": 8},
                   epochs=1, max_per_class=30, batch_size=16, lr=1e-2),
        SourceSpec("tiny-random", "digits", (0, 1, 2), "cnn", {"width": 4, "embedding_dim": 16, "input_size": 8},
                   epochs=0, max_per_class=30)]


def test_a_tiny_run_fills_its_store_and_a_rerun_runs_nothing(tmp_path, monkeypatch, capsys):
    from gtransfer.studies.store import TrialStore

    torch.set_num_threads(1)
    monkeypatch.setitem(PRESETS, "medium", TINY)
    monkeypatch.setattr(medium, "SOURCE_TARGETS",
                        ["digits:k=2,ratio=1,max=20,seed=0", "digits:k=3,ratio=1,max=20,seed=1"])
    monkeypatch.setattr(medium, "SIZES", (10, None))
    monkeypatch.setattr(medium, "FAMILIES", (("tiny-cnn", "digits"),))
    monkeypatch.setattr(medium, "STRATA", {"k": (2, 3), "ratio": (1, 2), "max": 20})
    monkeypatch.setattr(medium, "SOURCE_FINETUNE", {**medium.SOURCE_FINETUNE, "epochs": 1})
    monkeypatch.setattr(medium, "TARGET_FINETUNE", {**medium.TARGET_FINETUNE, "epochs": 1})
    options = {"out": tmp_path / "out", "zoo": tmp_path / "zoo", "cache": tmp_path / "cache", "progress": False,
               "reports": False}  # the shared report is tested with the engine; here it would take minutes
    first = medium.run_vision_medium(**options)
    printed = capsys.readouterr().out
    # 3 encoders x 2 targets x 3 seeds + 4 family targets x 3 seeds; 3 x 2 targets x 2 sizes + 4 family scores
    assert "trials: 30 vision_finetune, 16 vision_score" in printed
    assert "CPU-hours on one core" in printed and "| tiny-random | cnn | 16 | 3 | 0 |" in printed
    assert (tmp_path / "out" / "zoo.md").read_text().startswith("| encoder | arch | d |")
    names = ["vision-source-selection-medium-n10", "vision-source-selection-medium-nall",
             "vision-target-selection-medium"]
    assert list(first["summaries"]) == names and all(s.complete for s in first["summaries"].values())
    # the truth ran once: the second size study found its fine-tunes done
    assert first["summaries"][names[1]].already_done == 18
    assert all((tmp_path / "out" / f"{name}.yaml").is_file() for name in names)
    with TrialStore(tmp_path / "out" / "results.db", create=False, read_only=True) as store:
        stored = len(store)
        cut = [r.result["n"] for r in store.records(kind="vision_score") if r.params.get("train_samples") == 10]
    assert stored == 30 + 16 and cut == [10] * 6
    second = medium.run_vision_medium(**options)
    assert all(s.already_done == s.total and s.succeeded == 0 for s in second["summaries"].values())
    with TrialStore(tmp_path / "out" / "results.db", create=False, read_only=True) as store:
        assert len(store) == stored


def test_the_committed_specs_are_the_designs_and_the_store_holds_every_trial_ok():
    from pathlib import Path

    import yaml

    from gtransfer.studies.store import TrialStore

    folder = Path(__file__).resolve().parents[2] / "docs" / "results" / "vision-medium"
    built = medium.medium_specs("../../../results/vision/zoo-medium", "../../../.cache/vision/embeddings")
    keys = set()
    for raw in built:
        assert yaml.safe_load((folder / f"{raw['name']}.yaml").read_text()) == raw, raw["name"]
        keys |= {t.key for t in expand_trials(parse_spec(raw))}
    with TrialStore(folder / "results.db", create=False, read_only=True) as store:
        assert {r.key for r in store.records(status="ok")} == keys and len(keys) == 752 + 624
