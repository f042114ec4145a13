import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gtransfer.studies.keys import trial_key
from gtransfer.studies.store import TrialStore


def _record(store, seed, result=None, error=None):
    params = {"seed": seed, "lr": 0.1}
    key = trial_key("probe", params)
    return key, store.record(key, "probe", params, result=result, error=error, duration_s=0.5, worker="w")


def test_round_trip_and_persistence(tmp_path):
    path = tmp_path / "sub" / "results.db"
    with TrialStore(path) as store:
        key, changed = _record(store, 0, result={"acc": 0.75, "nan_metric": float("nan"), "n": 10})
        assert changed
        assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with TrialStore(path, create=False) as store:
        record = store.get(key)
        assert record.params == {"seed": 0, "lr": 0.1}
        assert record.result["acc"] == 0.75 and record.result["n"] == 10
        assert record.result["nan_metric"] != record.result["nan_metric"]  # NaN survives
        assert (record.status, record.attempts, record.duration_s) == ("ok", 1, 0.5)
        assert store.finished_keys() == {key}
        assert len(store) == 1


def test_ok_trial_is_never_overwritten(tmp_path):
    with TrialStore(tmp_path / "r.db") as store:
        key, _ = _record(store, 0, result={"acc": 0.5})
        _, changed = _record(store, 0, result={"acc": 0.9})
        assert not changed
        _, changed = _record(store, 0, error="RuntimeError: late failure")
        assert not changed
        assert store.get(key).result == {"acc": 0.5}
        assert store.counts() == {"ok": 1}


def test_failed_trial_is_replaced_on_retry_and_attempts_counted(tmp_path):
    with TrialStore(tmp_path / "r.db") as store:
        key, _ = _record(store, 1, error="RuntimeError: boom")
        assert store.finished_keys() == set()
        assert store.records(status="failed")[0].error == "RuntimeError: boom"
        _record(store, 1, error="RuntimeError: boom again")
        _, changed = _record(store, 1, result={"acc": 0.6})
        assert changed
        record = store.get(key)
        assert (record.status, record.attempts, record.error, record.result) == ("ok", 3, None, {"acc": 0.6})


def test_studies_and_membership(tmp_path):
    with TrialStore(tmp_path / "r.db") as store:
        k0, _ = _record(store, 0, result={"acc": 0.5})
        k1 = trial_key("probe", {"seed": 1, "lr": 0.1})
        store.register_study("s", {"name": "s", "v": 1}, [k0])
        store.register_study("s", {"name": "s"}, [k0, k1, k1])  # a new version replaces the old
        store.register_study("other", {"name": "other"}, [])
        assert store.studies() == {"s": {"name": "s"}, "other": {"name": "other"}}
        assert store.study_keys("s") == {k0, k1}
        store.register_study("s", {"name": "s"}, [k1])
        assert store.study_keys("s") == {k1} and store.get(k0) is not None  # the trial stays in the store
        store.register_study("s", {"name": "s"}, [k0, k1])
        assert [r.key for r in store.records(study="s")] == [k0]
        assert store.records(study="other") == []
        with pytest.raises(ValueError, match="study 'missing' is not in"):
            store.records(study="missing")


def test_record_needs_exactly_one_outcome_and_a_dict(tmp_path):
    with TrialStore(tmp_path / "r.db") as store:
        with pytest.raises(ValueError, match="exactly one"):
            store.record("k", "probe", {}, result={"a": 1}, error="x")
        with pytest.raises(ValueError, match="must return a dict"):
            store.record("k", "probe", {}, result=[1, 2])
        assert len(store) == 0


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        TrialStore(tmp_path / "nope.db", create=False)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ValueError, match="not a gtransfer trial store"):
        TrialStore(junk)
    with pytest.raises(ValueError, match="is a directory"):
        TrialStore(tmp_path)


def test_corrupt_row_is_reported_with_its_key(tmp_path):
    path = tmp_path / "r.db"
    with TrialStore(path) as store:
        key, _ = _record(store, 0, result={"acc": 0.5})
    conn = sqlite3.connect(path)
    conn.execute("UPDATE trials SET result = '{broken' WHERE key = ?", (key,))
    conn.commit()
    conn.close()
    with TrialStore(path) as store:
        with pytest.raises(ValueError, match=f"corrupt row for trial {key}"):
            store.records()


def test_a_schema_1_store_migrates_old_image_target_names_to_the_one_grammar(tmp_path):
    """Stores written before the target grammar was unified keep their finished trials."""
    import sqlite3

    from gtransfer.studies.spec import expand_trials, parse_spec

    old, new = "cifar10-test/k3/r4/n100/s0", "cifar10-test:k=3,ratio=4,max=100,seed=0"
    old_params = {"encoder": "c10-cnn", "target": old, "seed": 0, "zoo": "zoo"}
    old_key = trial_key("vision_score", old_params)
    spec_raw = {"name": "v", "import": ["vision.trials"], "kind": "vision_score", "encoders": ["c10-cnn"],
                "targets": [old, "mnist-test:k=2,ratio=1,max=50,seed=0"], "params": {"zoo": "zoo"}}
    path = tmp_path / "old.db"
    with TrialStore(path) as store:
        store.register_study("v", spec_raw, [old_key])
        store.record(old_key, "vision_score", old_params, result={"h_score": 1.5})
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '1' WHERE name = 'schema_version'")
    conn.commit()
    conn.close()

    with TrialStore(path) as store:
        new_spec = parse_spec(store.studies()["v"])
        assert new_spec.raw["targets"][0] == new
        wanted = {t.key for t in expand_trials(new_spec)}
        assert old_key not in wanted, "the new spelling gives a new key: the migration is what keeps the result"
        finished = store.finished_keys()
        assert trial_key("vision_score", {**old_params, "target": new}) in finished and old_key not in finished
        assert finished <= wanted and store.study_keys("v") == finished
        record = store.get(trial_key("vision_score", {**old_params, "target": new}))
        assert record.params["target"] == new and record.result == {"h_score": 1.5}
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT value FROM meta WHERE name = 'schema_version'").fetchone()[0] == "2"


# -- claims, checkpoints, read-only and damaged stores ------------------------------------------------
def test_claims_are_leases_taken_over_only_when_their_driver_is_gone(tmp_path):
    with TrialStore(tmp_path / "r.db") as store:
        a, b = store.new_owner(), store.new_owner()
        assert store.claim("k1", a, 60.0) == "new"
        assert store.claim("k1", b, 60.0) is None  # live claim of another driver (this very process)
        assert store.claim_states(["k1", "k2"]) == {"k1": "live"}
        store._conn.execute("UPDATE claims SET expires_at = 0 WHERE key = 'k1'")  # the lease ran out
        assert store.claim_states(["k1"]) == {"k1": "stale"}
        assert store.claim("k1", b, 60.0) == "stale" and store.claims() == {"k1": b}
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        store._conn.execute(
            "UPDATE claims SET pid = ? WHERE key = 'k1'", (dead.pid,)
        )  # a driver that died on this host
        assert store.claim("k1", a, 60.0) == "stale"
        if sys.platform.startswith("linux"):  # a killed driver nobody has reaped yet (a zombie) counts as dead
            zombie = subprocess.Popen([sys.executable, "-c", "pass"])
            deadline = time.monotonic() + 30
            while (
                Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
            store._conn.execute("UPDATE claims SET pid = ?, owner = 'other' WHERE key = 'k1'", (zombie.pid,))
            assert store.claim("k1", a, 60.0) == "stale"
            zombie.wait()
        key, _ = _record(store, 0, result={"acc": 1.0})
        assert store.claim(key, a, 60.0) == "ok" and key not in store.claims()  # finished meanwhile: nothing to claim
        assert store.claim("k2", a, 60.0) == "new"
        store.record("k2", "probe", {"seed": 9}, result={"acc": 0.5}, owner=a)  # recording releases the claim
        assert store.claims() == {"k1": a}
        assert store.renew(a, 60.0) == 1
        store.release(a)
        assert store.claims() == {}


def test_the_db_file_alone_holds_every_result_after_a_sweep(tmp_path):
    from gtransfer.studies.runner import run_sweep
    from gtransfer.studies.spec import parse_spec
    from tests.study_helpers import probe_spec, write_embedding_study

    write_embedding_study(tmp_path, targets=("t1",))
    spec = parse_spec(
        probe_spec(kind="fisher_ratio", seeds=[0], l2=[1.0], targets=["t1"], **{"import": "tests.study_helpers"}),
        base_dir=tmp_path,
    )
    store = TrialStore(tmp_path / "r.db")
    run_sweep(spec, store, progress=False)  # the store stays open, as after a SIGKILL right after the sweep
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "r.db").read_bytes())  # the .db alone, without -wal
    conn = sqlite3.connect(copy)
    assert conn.execute("SELECT COUNT(*) FROM trials WHERE status = 'ok'").fetchone()[0] == 3
    conn.close()
    store.close()
    assert not (tmp_path / "r.db-wal").exists() or (tmp_path / "r.db-wal").stat().st_size == 0


def test_a_read_only_store_is_read_without_writing(tmp_path):
    path = tmp_path / "r.db"
    with TrialStore(path) as store:
        key, _ = _record(store, 0, result={"acc": 0.75})
    before = sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.iterdir())
    with TrialStore(path, create=False, read_only=True) as store:
        assert store.read_only and store.get(key).result == {"acc": 0.75} and store.counts() == {"ok": 1}
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            _record(store, 1, result={"acc": 0.5})
    assert sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in tmp_path.iterdir()) == before
    with pytest.raises(FileNotFoundError):
        TrialStore(tmp_path / "none.db", read_only=True)


def test_damaged_pages_are_one_line_damaged_store_errors(tmp_path):
    from gtransfer.studies.store import DamagedStoreError

    path = tmp_path / "r.db"
    with TrialStore(path) as store:
        for seed in range(300):
            _record(store, seed, result={"acc": seed / 300, "pad": "x" * 200})
    data = bytearray(path.read_bytes())
    page = 4096
    data[3 * page: 6 * page] = b"\xff" * (3 * page)  # three pages of the trials table overwritten
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedStoreError) as error:
        with TrialStore(path, create=False) as store:
            store.records()
    message = str(error.value)
    assert message.startswith(f"damaged store {path}: ") and "\n" not in message and "restore it" in message


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to run a child as the unprivileged 'nobody'"
)
def test_a_store_in_a_read_only_folder_is_read_by_an_unprivileged_user(tmp_path):
    """Root ignores permission bits, so the reader runs as 'nobody' on a store in a 0555 folder."""
    import pwd
    import shutil
    import stat
    import tempfile

    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no user 'nobody' on this machine")
    folder = Path(tempfile.mkdtemp(prefix="gtransfer-ro-store-"))
    # 'nobody' may not read the checkout (a clone under a 0700 `mktemp -d`): it imports a readable copy
    package = Path(tempfile.mkdtemp(prefix="gtransfer-ro-package-"))
    try:
        shutil.copytree(Path(__file__).resolve().parents[2] / "gtransfer", package / "gtransfer",
                        ignore=shutil.ignore_patterns("__pycache__"))
        package.chmod(0o755)
        path = folder / "results.db"
        with TrialStore(path) as store:
            key, _ = _record(store, 0, result={"acc": 0.75})
        path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
        folder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        code = (
            "import sys\nfrom gtransfer.studies.store import TrialStore\n"
            "with TrialStore(sys.argv[1], create=False, read_only=None) as store:\n"
            "    print(store.read_only, store.get(sys.argv[2]).result['acc'])\n"
            "try:\n    TrialStore(sys.argv[1])\n"
            "except ValueError as error:\n    print(str(error), len(str(error).splitlines()))\n"
        )
        env = {**os.environ, "PYTHONPATH": str(package)}

        def demote():
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)

        result = None
        for python in (sys.executable, "/usr/bin/python3"):  # the store needs the standard library only
            try:
                result = subprocess.run([python, "-c", code, str(path), key], capture_output=True, text=True, env=env,
                                        preexec_fn=demote, cwd=folder, timeout=120)
                break
            except (PermissionError, FileNotFoundError):
                continue
        if result is None:
            pytest.skip("no Python interpreter that 'nobody' may run")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert lines[0] == "True 0.75"
        assert lines[1].startswith(f"trial store {path} is read-only") and lines[1].endswith(" 1")
        assert sorted(p.name for p in folder.iterdir()) == ["results.db"]  # nothing written beside it
    finally:
        folder.chmod(stat.S_IRWXU)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.rmtree(package, ignore_errors=True)


@pytest.mark.skipif(shutil.which("unshare") is None or not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root and unshare to make a read-only bind mount")
def test_a_finished_store_on_a_read_only_mount_is_opened_read_only_not_called_foreign(tmp_path):
    """A real read-only file system: the folder is bind-mounted read-only in a private mount namespace."""
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "results.db"
    with TrialStore(path) as store:
        key, _ = _record(store, 0, result={"acc": 0.75})
    code = (
        "import sys\nfrom gtransfer.studies.store import TrialStore\n"
        "with TrialStore(sys.argv[1], create=False) as store:\n"
        "    print(store.read_only, store.get(sys.argv[2]).result['acc'])\n"
        "try:\n    TrialStore(sys.argv[1])\n"
        "except ValueError as error:\n    print(str(error).split(';')[0], len(str(error).splitlines()))\n"
    )
    script = (f'mount --bind "{folder}" "{folder}" && mount -o remount,ro,bind "{folder}" "{folder}" && '
              f'"{sys.executable}" -c "$0" "{path}" {key}')
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, code], capture_output=True, text=True, env=env, timeout=120
    )
    if "mount" in result.stderr and result.returncode != 0 and "Traceback" not in result.stderr:
        pytest.skip(f"cannot make a read-only bind mount here: {result.stderr.strip()[:200]}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "True 0.75",
        f"trial store {path} is read-only (unable to open database file) 1",
    ]
