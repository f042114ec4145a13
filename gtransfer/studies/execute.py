"""Running one trial, the same way in every engine (in-process, worker process, Ray task)."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from gtransfer.io.canonical import canonicalize
from gtransfer.studies.registry import get_trial_kind
from gtransfer.studies.spec import Trial

__all__ = ["TrialOutcome", "execute_trial", "working_directory", "describe_error"]


@dataclass(frozen=True)
class TrialOutcome:
    """What a trial produced: ``result`` on success, else ``error`` (the exception type and its whole message)."""

    key: str
    kind: str
    params: dict
    result: dict | None
    error: str | None
    duration_s: float
    worker: str


@contextlib.contextmanager
def working_directory(path: Path | None) -> Iterator[None]:
    """Run the body in ``path`` (``None``: where we are), back to the previous folder after."""
    if path is None:
        yield
        return
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def describe_error(exc: BaseException) -> str:
    """A failure as it is stored and shown: ``Type: message``, the whole message (its later lines -- paths
    tried, valid names, the fix -- are what a user needs); just ``Type`` when there is no message."""
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def execute_trial(trial: Trial, imports: tuple[str, ...] = (), base_dir: str | Path | None = None) -> TrialOutcome:
    """Run ``trial`` with its registered function in ``base_dir``; never raises for a trial's own error.

    A trial that raises, or returns something that is not a JSON-serialisable dict, becomes a failed
    outcome whose ``error`` says why; the sweep records it and goes on (a rerun retries it).
    """
    start = time.perf_counter()
    result: dict | None = None
    error: str | None = None
    try:
        fn = get_trial_kind(trial.kind, imports)
        with working_directory(Path(base_dir) if base_dir is not None else None):
            value = fn(dict(trial.params))
        if not isinstance(value, dict):
            raise TypeError(f"trial kind {trial.kind!r} returned {type(value).__name__}, not a dict")
        result = canonicalize(value, "result", allow_nonfinite=True)
    except Exception as exc:  # noqa: BLE001 - a trial's failure is data, recorded in the store
        error = describe_error(exc)
    return TrialOutcome(
        key=trial.key,
        kind=trial.kind,
        params=trial.params,
        result=result,
        error=error,
        duration_s=time.perf_counter() - start,
        worker=f"{socket.gethostname()}:{os.getpid()}",
    )
