"""Ctrl-C on `gtransfer sweep`: prompt, exit 130, and a truthful count of what is stored."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.study_helpers import probe_spec, write_embedding_study, write_spec

REPO = Path(__file__).resolve().parents[2]


def _stored_ok(store: Path) -> int:
    if not store.exists():
        return 0
    try:
        with sqlite3.connect(store, timeout=1) as conn:
            return conn.execute("SELECT COUNT(*) FROM trials WHERE status = 'ok'").fetchone()[0]
    except sqlite3.OperationalError:  # the schema is not there yet
        return 0


def _slow_sweep_with_two_stored(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    """A sweep of 12 one-second trials in its own process group, once 2 of its trials are stored."""
    write_embedding_study(tmp_path)
    spec = probe_spec(name="slow", seeds=[0, 1], l2=[1.0], kind="slow_probe", **{"import": ["tests.study_helpers"]})
    spec["params"]["sleep_s"] = 1.0
    path = write_spec(tmp_path, spec)
    store = tmp_path / "r.db"
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [
        sys.executable,
        "-m",
        "gtransfer.cli",
        "sweep",
        str(path),
        "--store",
        str(store),
        "--no-progress",
        *extra,
    ]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while _stored_ok(store) < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    return process, store


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGINT to a process group")
def test_ctrl_c_on_a_sweep_stops_promptly_and_says_what_is_stored(tmp_path):
    process, store = _slow_sweep_with_two_stored(tmp_path)
    interrupted_at = time.monotonic()
    os.killpg(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - interrupted_at < 10  # a running trial sleeps 1 s: it is not waited for beyond that
    stored = _stored_ok(store)
    assert process.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (
        f"slow: interrupted; {stored} of 12 trials are stored in {store} ({stored} in this run: {stored} ok, 0 "
        "failed). "
        "Trials that were running are not stored and will run again: rerun the same command to resume."
    )
    assert 2 <= stored < 12


@pytest.mark.skipif(sys.platform == "win32", reason="sends SIGTERM to a process group")
@pytest.mark.parametrize("workers", [1, 2])
def test_sigterm_on_a_sweep_stops_it_like_ctrl_c_with_a_wal_checkpoint_and_status_143(tmp_path, workers):
    """kill's default signal (Slurm's scancel, docker stop, systemd) ended a sweep with no message and no WAL
    checkpoint.
    Sent to the whole process group, as scancel does: with worker processes, they get it too."""
    process, store = _slow_sweep_with_two_stored(tmp_path, "--workers", str(workers))
    wal = store.with_name("r.db-wal")
    assert wal.exists() and wal.stat().st_size > 0  # results the sweep has not checkpointed yet
    terminated_at = time.monotonic()
    os.killpg(process.pid, signal.SIGTERM)
    out, err = process.communicate(timeout=60)
    assert time.monotonic() - terminated_at < 10
    assert process.returncode == 143  # 128 + SIGTERM, as a shell reports a process that SIGTERM ended
    assert "Traceback" not in err
    stored = _stored_ok(store)
    assert err.strip().splitlines()[-1] == (
        f"slow: interrupted by SIGTERM; {stored} of 12 trials are stored in {store} ({stored} in this run: {stored} "
        "ok, 0 failed). "
        "Trials that were running are not stored and will run again: rerun the same command to resume."
    )
    assert 2 <= stored < 12
    assert not wal.exists() or wal.stat().st_size == 0  # checkpointed into r.db: the .db file alone holds every result
