import pytest

from gtransfer.studies.keys import trial_key
from gtransfer.studies.kinds.arrays import probe_trial
from gtransfer.studies.runner import run_sweep
from gtransfer.studies.spec import expand_trials, parse_spec
from gtransfer.studies.store import TrialStore
from tests import study_helpers
from tests.study_helpers import probe_spec, write_embedding_study


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("embeddings")
    write_embedding_study(folder)
    return folder


def _results(store):
    return {r.key: r.result for r in store.records()}


def test_sweep_stores_every_trial_once_with_the_probe_results(study_dir, tmp_path):
    spec = parse_spec(probe_spec(), base_dir=study_dir)
    with TrialStore(tmp_path / "r.db") as store:
        summary = run_sweep(spec, store, workers=1, progress=False)
        assert (summary.total, summary.succeeded, summary.failed, summary.complete) == (24, 24, 0, True)
        stored = _results(store)
    trials = expand_trials(spec)
    assert set(stored) == {t.key for t in trials}
    # reference: the trial function called directly on the same params, in the spec's folder
    trial = trials[5]
    import os

    cwd = os.getcwd()
    os.chdir(study_dir)
    try:
        assert stored[trial.key] == probe_trial(dict(trial.params))
    finally:
        os.chdir(cwd)
    # the stronger embedding separates the classes better (invariant of the fixture)
    by = {
        (t.params["encoder"], t.params["target"], t.params["seed"], t.params["l2"]): stored[t.key]["test_accuracy"]
        for t in trials
    }
    assert by[("strong", "t1", 0, 1.0)] > by[("weak", "t1", 0, 1.0)]


def test_resume_skips_finished_trials_and_limit_splits_the_work(study_dir, tmp_path):
    spec = parse_spec(probe_spec(), base_dir=study_dir)
    with TrialStore(tmp_path / "r.db") as store:
        first = run_sweep(spec, store, progress=False, limit=10)
        assert (first.succeeded, first.already_done, first.complete) == (10, 0, False)
        finished_first = {r.key: r.finished_at for r in store.records()}
        second = run_sweep(spec, store, progress=False)
        assert (second.already_done, second.succeeded) == (10, 14)
        third = run_sweep(spec, store, progress=False)
        assert (third.already_done, third.succeeded) == (24, 0)
        # the first ten were not rerun
        assert {
            k: v for k, v in ((r.key, r.finished_at) for r in store.records()) if k in finished_first
        } == finished_first
        assert all(r.attempts == 1 for r in store.records())


def test_worker_processes_give_identical_results(study_dir, tmp_path):
    spec = parse_spec(probe_spec(seeds=[0], l2=[1.0], **{"import": ["tests.study_helpers"]}), base_dir=study_dir)
    with TrialStore(tmp_path / "one.db") as one, TrialStore(tmp_path / "two.db") as two:
        run_sweep(spec, one, workers=1, progress=False)
        run_sweep(spec, two, workers=2, progress=False)
        assert _results(one) == _results(two)
        workers = {r.worker for r in two.records()}
        assert len(workers) >= 1 and all(":" in w for w in workers)


def test_failed_trials_are_recorded_then_retried(study_dir, tmp_path):
    spec = parse_spec(probe_spec(kind="fails_on_mid", l2=[1.0], **{"import": "tests.study_helpers"}), base_dir=tmp_path)
    with TrialStore(tmp_path / "r.db") as store:
        with pytest.warns(UserWarning, match="4 trial\\(s\\) failed"):
            summary = run_sweep(spec, store, progress=False)
        assert (summary.succeeded, summary.failed) == (8, 4)
        failed = store.records(status="failed")
        assert {r.params["encoder"] for r in failed} == {"mid"}
        assert failed[0].error == "RuntimeError: mid is not allowed yet"
        (tmp_path / "allow_mid").write_text("")
        summary = run_sweep(spec, store, progress=False)
        assert (summary.already_done, summary.succeeded, summary.failed) == (8, 4, 0)
        mid = store.get(trial_key("fails_on_mid", {**failed[0].params}))
        assert (mid.status, mid.attempts, mid.result["value"]) == (
            "ok",
            2,
            study_helpers.SEPARATION["mid"] + mid.params["seed"],
        )


def test_unknown_kind_and_engine_fail_before_running(study_dir, tmp_path):
    with TrialStore(tmp_path / "r.db") as store:
        with pytest.raises(ValueError, match="unknown trial kind 'nope'.*registered kinds: .*probe"):
            run_sweep(parse_spec(probe_spec(kind="nope"), base_dir=study_dir), store, progress=False)
        with pytest.raises(ValueError, match="unknown engine 'spark'"):
            run_sweep(parse_spec(probe_spec(), base_dir=study_dir), store, engine="spark", progress=False)
        with pytest.raises(ValueError, match="cannot import trial module 'no_such_module'"):
            run_sweep(parse_spec(probe_spec(**{"import": "no_such_module"}), base_dir=study_dir), store, progress=False)
        assert len(store) == 0


def test_probe_rejects_bad_inputs(tmp_path):
    import numpy as np

    np.save(tmp_path / "f.npy", np.array([[1.0, np.nan], [0.0, 1.0]]))
    np.save(tmp_path / "y.npy", np.array([0, 1]))
    np.save(tmp_path / "y3.npy", np.array([0, 1, 1]))
    with pytest.raises(ValueError, match="1 NaN/inf"):
        probe_trial({"features": str(tmp_path / "f.npy"), "labels": str(tmp_path / "y.npy")})
    with pytest.raises(ValueError, match=r"labels must have shape \(2,\)"):
        probe_trial({"features": str(tmp_path / "f.npy"), "labels": str(tmp_path / "y3.npy")})
    with pytest.raises(FileNotFoundError, match="features file .*missing.npy does not exist"):
        probe_trial({"features": str(tmp_path / "missing.npy"), "labels": str(tmp_path / "y.npy")})
    with pytest.raises(ValueError, match="refers to 'encoder'"):
        probe_trial({"features": "{encoder}.npy", "labels": "y.npy"})


def test_workers_get_gpus_round_robin_and_pinned_threads(monkeypatch):
    import os

    from gtransfer.studies.workers import pin_worker, slot_device

    for var in ("CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        monkeypatch.setenv(var, "unset")
    seen = []
    for slot in range(5):  # what five worker processes would each do at start-up
        pin_worker(slot_device(["0", "0", "1"], slot), 3)
        seen.append(os.environ["CUDA_VISIBLE_DEVICES"])
    assert seen == ["0", "0", "1", "0", "0"]  # two workers on GPU 0 per round, one on GPU 1
    assert os.environ["OMP_NUM_THREADS"] == os.environ["OPENBLAS_NUM_THREADS"] == "3"
    assert slot_device(None, 3) is None


def test_every_engine_has_the_one_engine_signature():
    """The local, worker and Ray engines take what ``Engine.__call__`` states: three positional arguments, then
    ``workers`` and ``isolate`` by keyword with the same defaults (mypy checks the same: they assign to ``Engine``)."""
    import inspect

    from gtransfer.studies.execute import Engine
    from gtransfer.studies.ray_engine import ray_engine
    from gtransfer.studies.runner import ENGINES, engine_named, local_engine
    from gtransfer.studies.workers import worker_engine

    stated = list(inspect.signature(Engine.__call__).parameters.values())[1:]  # without self
    for engine in (local_engine, worker_engine, ray_engine):
        params = inspect.signature(engine).parameters
        for want in stated:
            got = params[want.name]
            assert (got.kind, got.default) == (want.kind, want.default), (engine.__name__, want.name)
        extra = [p for p in params.values() if p.name not in {w.name for w in stated}]
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty for p in extra)
    assert [engine_named(name) for name in ENGINES] == [local_engine, ray_engine]


def test_claims_are_renewed_through_the_absolute_store_path_while_trials_run_in_the_spec_folder(tmp_path, monkeypatch):
    """``sweep sub/spec.yaml --store sub/r.db``: the trials run inside sub/, where the relative ``sub/r.db`` named
    nothing, so every renewal warned that the store "does not exist" (and the lease was never renewed)."""
    import warnings

    from gtransfer.studies import runner
    from gtransfer.studies.spec import load_spec
    from tests.study_helpers import write_spec

    sub = tmp_path / "sub"
    write_embedding_study(sub, targets=("t1",))
    raw = probe_spec(name="renewed", kind="slow_probe", seeds=[0], l2=[1.0], targets=["t1"],
                     **{"import": "tests.study_helpers"})
    raw["params"]["sleep_s"] = 1.0
    spec = load_spec(write_spec(sub, raw))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(runner, "LEASE_S", 1.0)  # a renewal every 0.1 s, about ten during each 1 s trial
    renewed: list[int] = []
    renew = TrialStore.renew
    monkeypatch.setattr(TrialStore, "renew",
                        lambda self, owner, lease_s: renewed.append(renew(self, owner, lease_s)) or renewed[-1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with TrialStore("sub/r.db") as store:
            summary = run_sweep(spec, store, progress=False)
    assert summary.succeeded == 3 and summary.failed == 0
    assert not [str(w.message) for w in caught if "could not renew" in str(w.message)]
    assert renewed and max(renewed) == 1  # each renewal found the running trial's claim
