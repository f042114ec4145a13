"""Kill a sweep with SIGKILL at random moments, resume it, and compare with an uninterrupted run."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from gtransfer.studies.runner import run_sweep
from gtransfer.studies.spec import expand_trials, load_spec
from gtransfer.studies.store import TrialStore
from tests.study_helpers import probe_spec, write_embedding_study, write_spec

REPO = Path(__file__).resolve().parents[2]


def _sweep_command(spec_path: Path, store: Path) -> list[str]:
    return [
        sys.executable, "-m", "gtransfer.cli", "sweep", str(spec_path), "--store", str(store), "--workers", "2",
        "--no-progress",
    ]


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    return env


def _stored(store_path: Path) -> dict:
    if not store_path.exists():
        return {}
    with TrialStore(store_path) as store:
        return {r.key: r.result for r in store.records()}


@pytest.mark.slow
def test_sigkill_at_random_points_loses_only_in_flight_trials(tmp_path):
    write_embedding_study(tmp_path)
    raw = probe_spec(name="killed", kind="slow_probe", l2=[0.5, 1.0], **{"import": "tests.study_helpers"})
    raw["params"]["sleep_s"] = 0.2  # 24 trials of ~0.25 s on 2 workers: kills land mid-sweep
    spec_path = write_spec(tmp_path, raw)
    spec = load_spec(spec_path)
    expected_keys = {t.key for t in expand_trials(spec)}
    assert len(expected_keys) == 24

    store_path = tmp_path / "killed.db"
    rng = np.random.default_rng(2024)
    kills = 0
    progress = []
    for attempt in range(3):
        before = _stored(store_path)
        process = subprocess.Popen(
            _sweep_command(spec_path, store_path), env=_env(), cwd=tmp_path, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        if attempt == 0:
            time.sleep(float(rng.uniform(0.2, 2.0)))  # anywhere, start-up included
        else:
            # a random moment after this run has stored at least two trials: mid-sweep for sure
            deadline = time.monotonic() + 60
            while len(_stored(store_path)) < len(before) + 2 and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(float(rng.uniform(0.0, 0.3)))
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)  # the driver and its worker processes, no clean-up
            kills += 1
        process.wait(timeout=30)
        after = _stored(store_path)
        # nothing finished before is lost or changed by a kill
        assert {k: after[k] for k in before} == before
        progress.append(len(after))
        if store_path.exists():
            conn = sqlite3.connect(store_path)
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.close()
    assert kills >= 3, f"the sweep finished before it could be killed enough times (progress {progress})"
    assert any(0 < count < 24 for count in progress), f"no kill landed mid-sweep (progress {progress})"
    print("finished trials after each kill:", progress)

    finish = subprocess.run(
        _sweep_command(spec_path, store_path), env=_env(), cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert finish.returncode == 0, finish.stderr

    conn = sqlite3.connect(store_path)
    rows = conn.execute("SELECT key, COUNT(*) FROM trials GROUP BY key").fetchall()
    attempts = conn.execute("SELECT MAX(attempts), COUNT(*) FROM trials WHERE status = 'ok'").fetchone()
    conn.close()
    assert {key for key, _ in rows} == expected_keys
    assert all(count == 1 for _, count in rows)
    assert attempts == (1, 24)  # no trial was ever recorded twice

    # the uninterrupted reference, in this process
    reference_path = tmp_path / "reference.db"
    with TrialStore(reference_path) as reference:
        run_sweep(spec, reference, workers=1, progress=False)
    assert _stored(store_path) == _stored(reference_path)
