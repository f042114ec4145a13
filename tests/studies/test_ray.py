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
    spec = parse_spec(probe_spec(name="ray-study", seeds=[0, 1], l2=[1.0], **{"import": "tests.study_helpers"}), base_dir=tmp_path)
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
