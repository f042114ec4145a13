"""Sweeps run graph_finetune trials in packs: one row per trial, keys and results independent of packing."""

from __future__ import annotations

import pytest

from gtransfer.studies.packing import PACK_KIND, plan_units
from gtransfer.studies.runner import run_sweep
from gtransfer.studies.spec import expand_trials, parse_spec
from gtransfer.studies.store import TrialStore

ENCODERS = [
    "random:gin:layers=2,dim=16,seed=0",
    "random:gin:layers=2,dim=16,seed=1",
    "random:gcn:layers=2,dim=16,seed=0",
]


def _spec(tmp_path, encoders=ENCODERS, targets=("MUTAG",), extra=None):
    raw = {
        "name": "packs",
        "stages": [
            {
                "kind": "graph_finetune",
                "encoders": list(encoders),
                "targets": list(targets),
                "seeds": [0, 1],
                "params": {"epochs": 2, "patience": 2, "batch_size": 32, "dtype": "float64", "device": "cpu"},
                "grid": {"lr": [0.01, 0.001]},
            },
            *(extra or []),
        ],
    }
    return parse_spec(raw, base_dir=tmp_path)


def test_plan_units_groups_what_can_share_a_pack(tmp_path):
    spec = _spec(
        tmp_path,
        targets=("MUTAG", "PROTEINS"),
        extra=[{"kind": "graph_score", "encoders": ENCODERS[:1], "targets": ["MUTAG"]}],
    )
    trials = expand_trials(spec)
    units = plan_units(trials, max_members=5)
    packs = [u for u in units if u.kind == PACK_KIND]
    # 3 encoders x 2 seeds x 2 lrs = 12 trials per target, in packs of at most 5: 5 + 5 + 2 per target
    assert sorted(len(p.params["members"]) for p in packs) == [2, 2, 5, 5, 5, 5]
    for pack in packs:
        targets = {m["params"]["target"] for m in pack.params["members"]}
        assert len(targets) == 1
    singles = [u for u in units if u.kind != PACK_KIND]
    assert [u.kind for u in singles] == ["graph_score"]
    # every trial is in exactly one unit, under its own key
    keys = [m["key"] for p in packs for m in p.params["members"]] + [u.key for u in singles]
    assert sorted(keys) == sorted(t.key for t in trials)
    assert plan_units(trials, max_members=1) == trials
    with pytest.raises(ValueError, match="pack size must be >= 1"):
        plan_units(trials, max_members=0)


def test_a_packed_sweep_stores_what_an_unpacked_one_does(tmp_path):
    spec = _spec(tmp_path)
    with TrialStore(tmp_path / "packed.db") as packed_store, TrialStore(tmp_path / "alone.db") as alone_store:
        packed = run_sweep(spec, packed_store, progress=False)
        alone = run_sweep(spec, alone_store, progress=False, pack_size=1)
        assert (
            (packed.total, packed.succeeded, packed.failed)
            == (alone.total, alone.succeeded, alone.failed)
            == (12, 12, 0)
        )
        ours = {r.key: r for r in packed_store.records()}
        theirs = {r.key: r for r in alone_store.records()}
    assert set(ours) == set(theirs) == {t.key for t in expand_trials(spec)}
    assert all(r.kind == "graph_finetune" for r in ours.values())
    assert sum("(pack of 8)" in r.worker for r in ours.values()) == 8  # the two GIN checkpoints x seeds x lrs: one pack
    assert sum("(pack of 4)" in r.worker for r in ours.values()) == 4  # the GCN: its own pack
    for key, record in ours.items():
        other = theirs[key].result
        assert record.result["test_metric"] == pytest.approx(other["test_metric"], abs=1e-6)
        assert record.result["valid_metric"] == pytest.approx(other["valid_metric"], abs=1e-6)
        assert record.result["train_loss"] == pytest.approx(other["train_loss"], rel=1e-5)
        assert record.result["epochs_run"] == other["epochs_run"]
    # the members were not one model trained eight times
    assert len({round(r.result["train_loss"][0], 6) for r in ours.values()}) > 4


def test_a_member_that_fails_fails_alone_and_a_failing_pack_fails_each_member(tmp_path):
    # both pass the spec checks (the file exists, the dataset exists) and fail only when the trials run
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    spec = _spec(tmp_path, encoders=[ENCODERS[0], "broken.pt"], targets=("MUTAG", "MUTAG:k=5"))
    with TrialStore(tmp_path / "r.db") as store:
        with pytest.warns(UserWarning, match="trial"):
            summary = run_sweep(spec, store, progress=False)
        records = store.records(status=None)
    assert summary.total == 16
    by = {(r.params["encoder"], r.params["target"]): r for r in records}
    assert len(records) == 16 and all(r.kind == "graph_finetune" for r in records)
    assert by[(ENCODERS[0], "MUTAG")].status == "ok"
    assert "broken.pt" in by[("broken.pt", "MUTAG")].error
    failed_pack = [r for r in records if r.params["target"] == "MUTAG:k=5"]
    assert len(failed_pack) == 8 and all(r.status != "ok" for r in failed_pack)
    # the target is every member's error, except for members whose encoder failed on its own first
    assert all(
        r.error.startswith("ValueError: num_classes must be in [2, 2]")
        for r in failed_pack
        if r.params["encoder"] != "broken.pt"
    )
    assert summary.failed == 4 + 8 and summary.succeeded == 4
