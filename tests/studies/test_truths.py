"""The truth presets (studies/designs/truths.py): their pool, the disjoint-source rule, and their projections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gtransfer.data.targets import parse_target
from gtransfer.studies.designs import truths
from gtransfer.studies.projection import BBBP_TRAIN_GRAPHS, project_finetuning
from gtransfer.studies.spec import expand_trials, parse_spec


def _projection(specs: list[dict]):
    return project_finetuning(parse_spec(s, base_dir=".", source=s["name"]) for s in specs)


def test_the_pool_is_the_published_nine_the_shipped_gin_and_one_random_control():
    assert len(truths.POOL) == 11
    assert sum(e.startswith("published:") for e in truths.POOL) == 9
    assert [e for e in truths.POOL if e.startswith("random:")] == [truths.RANDOM_CONTROL]
    assert "zoo/gin3x128_contextpred_moses.pt" in truths.POOL


def test_source_truth_is_one_multitask_finetune_per_dataset_encoder_and_seed():
    specs = truths.source_truth_specs("medium")
    trials = [t for s in specs for t in expand_trials(parse_spec(s, base_dir=".", source=s["name"]))
              if t.kind == "graph_finetune"]
    assert len(trials) == 6 * 11 * 3
    assert {t.params["target"] for t in trials} == {"ogbg-molbbbp", "ogbg-molbace", "ogbg-molclintox", "ogbg-molsider",
                                                    "ogbg-moltox21", "ogbg-molhiv"}
    assert all(parse_target(t.params["target"])[1] is None for t in trials)  # the whole dataset, no single task
    assert {t.params["seed"] for t in trials} == {0, 1, 2}
    # HIV's subsample is larger (6 test positives at 2,000 molecules), the others' stay as they ran
    assert {(t.params["target"] == "ogbg-molhiv", t.params["max_samples"]) for t in trials} == {(True, 2000),
                                                                                              (False, 400)}
    with pytest.raises(ValueError, match="not source datasets of the medium preset"):
        truths.source_truth_specs("medium", datasets=["ogbg-molmuv"])


def test_every_target_comes_from_the_target_half_and_every_source_head_from_the_source_half():
    heads = {f"zoo/{s.name}.pt": s.task for s in truths.source_zoo_specs("medium")}
    (spec,) = truths.target_truth_specs("medium")
    trials = [t for t in expand_trials(parse_spec(spec, base_dir=".", source=spec["name"]))
              if t.kind == "graph_finetune"]
    assert trials and all(t.params["class_weight"] == "balanced" and t.params["head"] == "softmax" for t in trials)
    for trial in trials:
        dataset, _, options = parse_target(trial.params["target"])
        assert options["part"] == "target"
        assert heads[trial.params["encoder"]] == f"{dataset}:part=source"
    strata = {(parse_target(t.params["target"])[0], parse_target(t.params["target"])[2]["k"],
               parse_target(t.params["target"])[2]["ratio"]) for t in trials}
    per_stratum = pd.Series([(parse_target(t.params["target"])[0], parse_target(t.params["target"])[2]["k"],
                              parse_target(t.params["target"])[2]["ratio"]) for t in trials]).value_counts()
    assert len(strata) == 24 and per_stratum.nunique() == 1  # the same number of targets in every stratum


def test_medium_fits_four_hours_at_the_measured_rate_and_full_nine_minutes_at_the_packing_target(capsys):
    medium = _projection(truths.truth_specs("medium"))
    source = _projection(truths.source_truth_specs("medium"))
    assert source.finetune_trials == 198
    assert source.bbbp_epochs == pytest.approx((165 * 400 + 33 * 2000) * 3 * 0.8 / BBBP_TRAIN_GRAPHS)  # HIV: 2,000
    assert medium.hours(truths.CPU_RATE) <= 4.0
    full = _projection(truths.truth_specs("full"))
    assert full.hours(37.0) * 60 < 9.0
    report = truths.run_truths("medium", out="unused", project_only=True)
    printed = capsys.readouterr().out
    assert report["hours"] == pytest.approx(medium.hours(truths.CPU_RATE))
    assert f"trials: {medium.finetune_trials} graph_finetune" in printed
    assert (
        f"{medium.hours(truths.CPU_RATE):,.1f} device-hours at 0.27 BBBP epochs/s (measured on the unshared" in printed
    )
    truths.run_truths("full", out="unused", project_only=True, device_rate=37.0)
    assert f"{full.hours(37.0):,.1f} device-hours at 37 BBBP epochs/s (measured here" in capsys.readouterr().out


def test_seed_reliability_is_the_split_half_reliability_of_each_dataset():
    from gtransfer.evaluation.reliability import split_half_reliability

    rng = np.random.default_rng(0)
    rows = []
    truth = {}
    for dataset in ("a", "b"):
        quality = rng.normal(size=6)
        truth[dataset] = quality[:, None] + rng.normal(scale=0.5, size=(6, 3))
        for e in range(6):
            for seed in range(3):
                rows.append({"dataset": dataset, "encoder": f"e{e}", "seed": seed, "task": "t",
                             "dataset_roc_auc": truth[dataset][e, seed]})
    rows.append({"dataset": "a", "encoder": "e9", "seed": 0, "task": "t", "dataset_roc_auc": 0.5})  # one seed only
    table = truths.seed_reliability(pd.DataFrame(rows))
    for dataset in ("a", "b"):
        expected = split_half_reliability(truth[dataset])
        assert table.loc[dataset, "r_half"] == pytest.approx(expected.r_half, abs=1e-12)
        assert table.loc[dataset, "ceiling"] == pytest.approx(expected.ceiling, abs=1e-12)
        assert table.loc[dataset, "encoders"] == 6
    assert table.loc["a", "encoders_missing_a_seed"] == 1 and table.loc["b", "encoders_missing_a_seed"] == 0


def test_a_source_head_trains_on_the_source_half_and_fine_tunes_on_a_target_half_subset(tmp_path):
    """End to end on MUTAG: the zoo trains on MUTAG:part=source; graph_finetune (softmax head, balanced class
    weights) runs on a class subset of the target half and reports balanced accuracy beside accuracy."""
    from gtransfer.pretrain.source_zoo import GraphSourceSpec, build_graph_source_zoo
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    spec = GraphSourceSpec("mutag-gin-source", "MUTAG:part=source", layers=2, dim=16, epochs=1, patience=1)
    (path,) = build_graph_source_zoo(tmp_path, (spec,), progress=False)
    result = graph_finetune_trial({"encoder": str(path), "target": "MUTAG:k=2,ratio=2,seed=0,part=target", "seed": 0,
                                   "epochs": 1, "head": "softmax", "class_weight": "balanced", "batch_size": 16})
    assert {"test_accuracy", "test_balanced_accuracy", "majority_accuracy"} <= set(result)
    assert 0.0 <= result["test_balanced_accuracy"] <= 1.0


def _keys(preset: str, kind: str) -> list[str]:
    return sorted(t.key for s in truths.truth_specs(preset) for t in expand_trials(parse_spec(s, base_dir=".",
                                                                                                source=s["name"]))
                  if t.kind == kind)


def test_the_score_stages_leave_the_stored_fine_tuning_keys_as_they_were():
    """The fine-tuning trials' keys, hashed before the score stages were added (2026-12-07, 66 of them stored in
    docs/results/truths-medium/truths.db): a store of either preset resumes instead of starting over."""
    import hashlib

    expected = {"medium": (309, "557beac360527b99e34e4297c60f347d5f556aa8f09483aa9feb45d6af30bd9c"),
                "full": (342, "cb88e6f77da788cf6492b6fce737c507170bbdc0ff6f54de1db1825a3c978ff8")}
    added_since = {"medium": ["ogbg-molhiv"], "full": []}  # HIV joined the medium preset later (2026-12-07, 23:10)
    for preset, (count, digest) in expected.items():
        specs = [s for s in truths.truth_specs(preset) if not any(s["name"].endswith(d.removeprefix("ogbg-mol"))
                                                                  for d in added_since[preset])]
        keys = sorted(t.key for s in specs for t in expand_trials(parse_spec(s, base_dir=".", source=s["name"]))
                      if t.kind == "graph_finetune")
        assert (len(keys), hashlib.sha256("\n".join(keys).encode()).hexdigest()) == (count, digest)
    assert len(_keys("medium", "graph_finetune")) == 309 + 33


def test_every_task_of_every_source_dataset_and_every_target_is_scored_once_per_encoder():
    specs = truths.truth_specs("medium")
    scores = [t for s in specs for t in expand_trials(parse_spec(s, base_dir=".", source=s["name"]))
              if t.kind == "graph_score"]
    source = [t for t in scores if t.params["target"].startswith("ogbg-")]
    assert len(source) == (1 + 1 + 2 + 27 + 12 + 1) * 11  # BBBP, BACE, ClinTox, SIDER, Tox21, HIV tasks x the pool
    assert all(t.params["max_samples"] == (2000 if t.params["target"] == "ogbg-molhiv" else 400)
               and "epochs" not in t.params for t in source)  # scores read the subsample that fine-tuning reads
    assert set(source[0].params["metrics"]) >= {"h_score", "shrinkage_h_score", "logme"}
    target = [t for t in scores if not t.params["target"].startswith("ogbg-")]
    finetuned = {(t.params["encoder"], t.params["target"]) for s in specs
                 for t in expand_trials(parse_spec(s, base_dir=".", source=s["name"]))
                 if t.kind == "graph_finetune" and not t.params["target"].startswith("ogbg-")}
    assert {(t.params["encoder"], t.params["target"]) for t in target} == finetuned
    assert all(t.params["source"] == "head" and {"nce", "leep"} <= set(t.params["metrics"]) for t in target)


def _finetune_result(tasks: list[str], values: list[float | None], positives: list[int]) -> dict:
    finite = [v for v in values if v is not None]
    return {"tasks": tasks, "test_roc_auc_tasks": values, "test_positives_tasks": positives,
            "test_roc_auc": sum(finite) / len(finite), "best_epoch": 1}


def test_source_scores_and_truth_joins_each_task_score_to_that_tasks_seed_mean_truth(tmp_path):
    from gtransfer.studies.store import TrialStore

    path = tmp_path / "truths.db"
    rng = np.random.default_rng(0)
    expected = {}
    with TrialStore(path) as store:
        keys = []
        for e, encoder in enumerate(["a", "b", "c"]):
            for seed in range(3):
                values = [float(rng.random()), None if (e, seed) == (2, 1) else float(rng.random())]
                for t, value in enumerate(values):
                    expected.setdefault((f"ogbg-molclintox:{t}", encoder), []).append(value)
                params = {"encoder": encoder, "target": "ogbg-molclintox", "seed": seed}
                store.record(f"f{e}{seed}", "graph_finetune", params,
                             result=_finetune_result(["FDA", "CT_TOX"], values, [7, 3]))
                keys.append(f"f{e}{seed}")
            for t in range(2):
                params = {"encoder": encoder, "target": f"ogbg-molclintox:{t}", "seed": 0}
                store.record(f"s{e}{t}", "graph_score", params,
                             result={"h_score": 10.0 * e + t, "n": 320, "d": 300, "num_classes": 2,
                                     "imbalance_ratio": 3.0, "label_entropy": 0.5})
                keys.append(f"s{e}{t}")
        store.register_study("truth-source-medium-clintox", {}, keys)
    frame = truths.source_scores_and_truth(path)
    assert len(frame) == 6
    for _, row in frame.iterrows():
        values = expected[(row["target"], row["encoder"])]
        task = int(row["target"].split(":")[1])
        assert row["h_score"] == 10.0 * "abc".index(row["encoder"]) + task  # the task's own score
        assert [row[f"test_roc_auc_seed{s}"] for s in range(3)] == pytest.approx(
            [np.nan if v is None else v for v in values], nan_ok=True)
        if None in values:  # a seed without a ROC-AUC leaves the mean undefined, not the mean of the others
            assert np.isnan(row["test_roc_auc"]) and row["truth_seeds"] == 2
        else:
            assert row["test_roc_auc"] == pytest.approx(np.mean(values), abs=1e-12) and row["truth_seeds"] == 3
        assert row["test_positives"] == [7, 3][task]
    with pytest.raises(ValueError, match="--part source"):
        truths.source_scores_and_truth(_empty_store(tmp_path))


def _empty_store(tmp_path):
    from gtransfer.studies.store import TrialStore

    path = tmp_path / "empty.db"
    with TrialStore(path):
        pass
    return path


def test_every_pool_member_has_a_pretraining_size_and_only_the_random_control_has_none():
    assert set(truths.PRETRAINING_MOLECULES) == set(truths.POOL)
    assert [e for e, n in truths.PRETRAINING_MOLECULES.items() if n == 0] == [truths.RANDOM_CONTROL]


def test_the_full_preset_scores_toxcast_on_the_twelve_tasks_of_target_selection_only():
    from gtransfer.studies.designs.target_selection import TOXCAST_TASKS

    assert truths.dataset_tasks("ogbg-moltoxcast") == [f"ogbg-moltoxcast:{t}" for t in TOXCAST_TASKS]
    assert len(_keys("full", "graph_score")) == (1 + 1 + 2 + 27 + 12 + 12) * 11 + 48


@pytest.mark.parametrize("preset", truths.PRESETS)
def test_every_truth_spec_passes_the_sweeps_own_check(preset):
    """What ``run_sweep`` checks before any trial runs (kinds, params, report fields; not the files): the target
    truth's ``family`` param once failed it, found only when the run began."""
    from gtransfer.studies import validate
    from gtransfer.studies.registry import get_trial_kind

    for raw in truths.truth_specs(preset):
        spec = parse_spec(raw, base_dir=".", source=raw["name"])
        shared = validate._shared_parameters(spec)
        problems = validate._report_problems(spec)
        for index, stage in enumerate(spec.stages):
            get_trial_kind(stage["kind"], modules=spec.imports)
            problems += validate._parameter_problems(stage, f"stage {index}", spec, shared)
        assert problems == [], raw["name"]


def test_the_large_preset_shares_every_medium_score_trial_and_fine_tunes_on_all_molecules():
    """The large CPU truth (registered 2026-12-08): the same score trials as medium (same keys, so the medium store
    skips them), new fine-tunes on whole datasets (Tox21 2,000) for up to 10 epochs, and no target truth of its own."""
    medium = {s["name"].rsplit("-", 1)[1]: s for s in truths.source_truth_specs("medium")}
    for spec in truths.source_truth_specs("large"):
        dataset = spec["name"].rsplit("-", 1)[1]
        trials = list(expand_trials(parse_spec(spec, base_dir=".", source=spec["name"])))
        mine = {t.key for t in trials if t.kind == "graph_score"}
        theirs = {t.key for t in expand_trials(parse_spec(medium[dataset], base_dir=".", source=dataset))
                  if t.kind == "graph_score"}
        assert mine and mine == theirs, dataset
        tunes = [t for t in trials if t.kind == "graph_finetune"]
        assert len(tunes) == 33 and {t.params["epochs"] for t in tunes} == {10}
        assert {t.params.get("max_samples") for t in tunes} == ({2000} if dataset == "tox21" else {None}), dataset
    assert set(_keys("large", "graph_finetune")).isdisjoint(_keys("medium", "graph_finetune"))
    assert [s["name"] for s in truths.truth_specs("large")] == [f"truth-source-large-{d}" for d in
                                                                ("bbbp", "bace", "clintox", "sider", "tox21")]
    with pytest.raises(ValueError, match="no target truth of its own"):
        truths.truth_specs("large", part="target")
    large = _projection(truths.truth_specs("large"))
    assert large.hours(truths.CPU_RATE) <= 4.0  # a CPU preset: at most 4 hours at the measured rate
