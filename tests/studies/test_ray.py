"""The Ray engine gives the same results as the local one, on a local Ray instance."""

import importlib.util

import pytest

from gtransfer.studies.runner import run_sweep
from gtransfer.studies.spec import parse_spec
from gtransfer.studies.store import TrialStore
from tests.study_helpers import probe_spec, write_embedding_study

HAVE_RAY = importlib.util.find_spec("ray") is not None


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_RAY, reason="ray is not installed (pip install 'gtransfer[ray]')")
def test_ray_engine_matches_local_engine(tmp_path):
    write_embedding_study(tmp_path)
    spec = parse_spec(
        probe_spec(name="ray-study", seeds=[0, 1], l2=[1.0], **{"import": "tests.study_helpers"}), base_dir=tmp_path
    )
    with TrialStore(tmp_path / "local.db") as local:
        run_sweep(spec, local, workers=1, progress=False)
        expected = {r.key: r.result for r in local.records()}
    from gtransfer.studies.ray_engine import ray_session

    # one local Ray instance (2 CPUs) for both calls: the second resumes what the first left
    with TrialStore(tmp_path / "ray.db") as store, ray_session(num_cpus=2):
        first = run_sweep(spec, store, engine="ray", workers=2, progress=False, limit=5)
        assert (first.succeeded, first.failed) == (5, 0)
        second = run_sweep(spec, store, engine="ray", workers=2, progress=False)
        assert (second.already_done, second.succeeded, second.failed) == (5, 7, 0)
        got = {r.key: r.result for r in store.records()}
        assert all(r.attempts == 1 for r in store.records())
        # a task that SIGKILLs its Ray worker: a failed trial naming Ray's error, the others complete
        dying = parse_spec(probe_spec(name="ray-dying", kind="dies_on_mid", seeds=[0], l2=[1.0], targets=["t1"],
                                      **{"import": "tests.study_helpers"}), base_dir=tmp_path)
        with pytest.warns(UserWarning, match=r"1 trial\(s\) failed"):
            third = run_sweep(dying, store, engine="ray", workers=2, progress=False)
        assert (third.succeeded, third.failed) == (2, 0 + 1)
        (dead,) = store.records(status="failed")
        assert dead.params["encoder"] == "mid" and dead.error.startswith(
            "WorkerDied: the trial's process died in Ray ("
        )
    assert got == expected


def test_ray_engine_without_ray_says_how_to_install(monkeypatch, tmp_path):
    import builtins

    real_import = builtins.__import__

    def no_ray(name, *args, **kwargs):
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    write_embedding_study(tmp_path)
    spec = parse_spec(probe_spec(name="no-ray"), base_dir=tmp_path)
    with TrialStore(tmp_path / "r.db") as store:
        with pytest.raises(ValueError, match=r"pip install 'gtransfer\[ray\]'"):
            run_sweep(spec, store, engine="ray", progress=False)
        assert store.counts() == {}


def test_a_crashed_ray_worker_becomes_a_failed_trial_with_the_cause(tmp_path):
    """Ray itself is not needed: ``_run`` gets a stand-in module whose task for 'mid' raises WorkerCrashedError."""
    import types

    from gtransfer.studies.execute import execute_trial
    from gtransfer.studies.ray_engine import _run
    from gtransfer.studies.spec import expand_trials

    class RayError(Exception):
        pass

    class WorkerCrashedError(RayError):
        pass

    class Ref:
        def __init__(self, trial, args):
            self.trial, self.args = trial, args

    def remote(**options):
        def wrap(function):
            return types.SimpleNamespace(remote=lambda trial, *args: Ref(trial, (function, trial, *args)))
        return wrap

    def get(ref):
        if ref.trial.params["encoder"] == "mid":
            raise WorkerCrashedError("The worker died unexpectedly while executing this task.\nmore lines")
        function, *args = ref.args
        return function(*args)

    cancelled = []
    fake_ray = types.SimpleNamespace(
        remote=remote,
        get=get,
        wait=lambda refs, num_returns: (refs[:1], refs[1:]),
        cancel=lambda ref, force: cancelled.append(ref),
        exceptions=types.SimpleNamespace(RayError=RayError, WorkerCrashedError=WorkerCrashedError),
    )
    write_embedding_study(tmp_path)
    spec = parse_spec(
        probe_spec(name="ray-crash", kind="fisher_ratio", seeds=[0], l2=[1.0], **{"import": "tests.study_helpers"}),
        base_dir=tmp_path,
    )
    trials = expand_trials(spec)
    outcomes = list(_run(fake_ray, trials, spec.imports, tmp_path, workers=2, num_gpus_per_trial=0.0))
    assert sorted(o.key for o in outcomes) == sorted(t.key for t in trials) and cancelled == []
    for outcome, trial in zip(sorted(outcomes, key=lambda o: o.key), sorted(trials, key=lambda t: t.key)):
        if trial.params["encoder"] == "mid":
            assert outcome.error == ("WorkerDied: the trial's process died in Ray (WorkerCrashedError: The worker died "
                                     "unexpectedly while executing this task.) while running it")
        else:
            assert outcome.error is None and outcome.result == execute_trial(trial, spec.imports, tmp_path).result
