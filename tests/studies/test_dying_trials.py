"""Trials that kill their process, drivers killed alone, and two sweeps sharing one store.

Every process that may die runs as a child of the test (``subprocess``), never the test itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gtransfer.studies.runner import run_sweep
from gtransfer.studies.spec import expand_trials, parse_spec
from gtransfer.studies.store import TrialStore
from tests.study_helpers import probe_spec, write_embedding_study, write_spec

REPO = Path(__file__).resolve().parents[2]
SIGKILL_CAUSE = "WorkerDied: the trial's process killed by signal SIGKILL (9), exit status 137"


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["OMP_NUM_THREADS"] = "1"
    return env


#: run_sweep in a child process; prints the summary as JSON
SWEEP = """
import dataclasses, json, sys, warnings
warnings.simplefilter("ignore")
from gtransfer.studies.runner import run_sweep
from gtransfer.studies.spec import load_spec
from gtransfer.studies.store import TrialStore
with TrialStore(sys.argv[2]) as store:
    summary = run_sweep(load_spec(sys.argv[1]), store, workers=int(sys.argv[3]), progress=False)
print(json.dumps(dataclasses.asdict(summary)))
"""


def _sweep(spec_path: Path, store: Path, workers: int = 1, output: int = subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", SWEEP, str(spec_path), str(store), str(workers)], env=_env(),
                            cwd=spec_path.parent, stdout=output, stderr=output, text=True)


def _dying_spec(folder: Path, how: list[str], name: str = "dying") -> Path:
    write_embedding_study(folder, targets=("t1",))
    raw = probe_spec(
        name=name, kind="dies_on_mid", seeds=[0], l2=[1.0], targets=["t1"], **{"import": "tests.study_helpers"}
    )
    raw["grid"]["how"] = how
    return write_spec(folder, raw)


def test_a_trial_killing_its_worker_is_stored_failed_with_the_cause_and_the_rest_complete(tmp_path):
    spec_path = _dying_spec(tmp_path, ["sigkill", "exit3"])
    from gtransfer.studies.spec import load_spec

    spec = load_spec(spec_path)
    with TrialStore(tmp_path / "r.db") as store:
        with pytest.warns(UserWarning, match=r"2 trial\(s\) failed"):
            summary = run_sweep(spec, store, workers=2, progress=False)
        assert (summary.total, summary.succeeded, summary.failed) == (6, 4, 2)
        failed = {r.params["how"]: r.error for r in store.records(status="failed")}
        assert {r.params["encoder"] for r in store.records(status="failed")} == {"mid"}
        assert {r.params["encoder"] for r in store.records()} == {"weak", "strong"}
    assert failed["sigkill"].startswith(SIGKILL_CAUSE)
    assert failed["exit3"] == "WorkerDied: the trial's process exited with code 3 while running it"


def test_with_one_worker_a_trial_killing_the_driver_is_isolated_on_resume(tmp_path):
    """workers=1 runs trials in the driver: the first run dies (137); the resume runs the trial that was
    running then in a child process, stores it failed with the cause, and finishes the sweep. (A later
    resume retries it in a child process again: ``_died_before`` counts stored WorkerDied errors.)"""
    spec_path = _dying_spec(tmp_path, ["sigkill"])
    store = tmp_path / "r.db"
    first = _sweep(spec_path, store)
    first.communicate(timeout=120)
    assert first.returncode == -signal.SIGKILL  # exit status 137 in a shell
    resume = _sweep(spec_path, store)
    out, err = resume.communicate(timeout=120)
    assert resume.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    # weak was stored before the first run died on mid; strong runs on the resume
    assert (summary["already_done"], summary["succeeded"], summary["failed"]) == (1, 1, 1)
    with TrialStore(store, create=False) as opened:
        (dead,) = opened.records(status="failed")
        assert dead.params["encoder"] == "mid" and dead.error.startswith(SIGKILL_CAUSE) and dead.attempts == 1
        assert {r.params["encoder"] for r in opened.records()} == {"weak", "strong"}
        assert opened.claims() == {}


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has ended; only its parent's reaping is missing


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the driver's children")
def test_workers_and_the_resource_tracker_end_with_a_driver_killed_alone(tmp_path):
    write_embedding_study(tmp_path, targets=("t1",))
    raw = probe_spec(
        name="orphans", kind="slow_probe", seeds=[0], l2=[1.0], targets=["t1"], **{"import": "tests.study_helpers"}
    )
    raw["params"]["sleep_s"] = 120.0  # far longer than the test waits: the workers must not end by finishing
    driver = _sweep(write_spec(tmp_path, raw), tmp_path / "r.db", workers=2, output=subprocess.DEVNULL)
    children: list[int] = []
    try:
        deadline = time.monotonic() + 60
        while len(_children(driver.pid)) < 3 and time.monotonic() < deadline:  # two workers + the resource tracker
            time.sleep(0.2)
        children = _children(driver.pid)
        assert len(children) >= 3, f"the driver did not start its workers: {children}"
        time.sleep(1.0)  # let the workers take their trials
        os.kill(driver.pid, signal.SIGKILL)  # the driver alone: no process group kill
        driver.wait(timeout=30)
        deadline = time.monotonic() + 15
        while any(_running(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [pid for pid in children if _running(pid)] == []
    finally:  # on failure, end what this test started (by pid)
        if driver.poll() is None:
            driver.kill()
        for pid in children:
            if _running(pid):
                os.kill(pid, signal.SIGKILL)


def test_two_sweeps_on_one_store_run_each_trial_once(tmp_path):
    write_embedding_study(tmp_path, targets=("t1",))
    raw = probe_spec(
        name="shared", kind="counted", seeds=[0, 1], l2=[1.0], targets=["t1"], **{"import": "tests.study_helpers"}
    )
    raw["params"]["sleep_s"] = 0.4
    spec_path = write_spec(tmp_path, raw)
    store = tmp_path / "shared.db"
    TrialStore(store).close()  # both sweeps open an existing store
    sweeps = [_sweep(spec_path, store) for _ in range(2)]
    summaries = []
    for sweep in sweeps:
        out, err = sweep.communicate(timeout=180)
        assert sweep.returncode == 0, err
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    runs = (tmp_path / "runs.log").read_text().splitlines()
    executed = [" ".join(line.split()[:3]) for line in runs]
    assert sorted(executed) == sorted(set(executed)) and len(executed) == 6  # every trial ran exactly once
    assert len({line.split()[3] for line in runs}) == 2  # and both sweeps did some of them
    assert sum(s["succeeded"] for s in summaries) == 6
    assert sum(s["claimed_elsewhere"] + s["already_done"] for s in summaries) == 6
    with TrialStore(store, create=False) as opened:
        assert len(opened.records()) == 6 and opened.claims() == {}
    assert {t.key for t in expand_trials(parse_spec(raw, base_dir=tmp_path))} == {
        r.key for r in TrialStore(store).records()
    }


def test_a_pack_whose_process_dies_fails_each_member_and_the_resume_runs_them_alone(tmp_path):
    write_embedding_study(tmp_path, targets=("t1", "t2"))
    raw = probe_spec(
        name="packs",
        kind="packed_dies_on_mid",
        seeds=[0, 1],
        l2=[1.0],
        targets=["t1", "t2"],
        **{"import": "tests.study_helpers"},
    )
    spec = parse_spec(raw, base_dir=tmp_path)
    with TrialStore(tmp_path / "r.db") as store:
        # two packs of six (3 encoders x 2 seeds per target); each holds a 'mid' member that kills its worker
        first = run_sweep(spec, store, workers=2, progress=False)
        assert (first.total, first.succeeded, first.failed) == (12, 0, 12)
        records = store.records(status=None)
        assert all(r.error.startswith(SIGKILL_CAUSE) and "(pack of 6)" in r.worker for r in records)
        # the resume runs every member alone in a child: only the 'mid' ones die again
        second = run_sweep(spec, store, workers=2, progress=False)
        assert (second.succeeded, second.failed) == (8, 4)
        by = {r.key: r for r in store.records(status=None)}
    for trial in expand_trials(spec):
        record = by[trial.key]
        assert (record.status == "ok") == (trial.params["encoder"] != "mid")
        assert "pack of" not in record.worker
