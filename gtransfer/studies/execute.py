"""Running one trial, the same way in every engine (in-process, worker process, Ray task), and the one
signature every engine has (:class:`Engine`)."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gtransfer.io.canonical import canonicalize
from gtransfer.io.errors import describe_error
from gtransfer.studies.registry import get_trial_kind
from gtransfer.studies.spec import Trial

__all__ = ["TrialOutcome", "Engine", "execute_trial", "working_directory", "describe_error"]


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


class Engine(Protocol):
    """What runs a sweep's trials: the local engine (:func:`gtransfer.studies.runner.local_engine`, in this
    process), the worker engine (:func:`gtransfer.studies.workers.worker_engine`, worker processes) and the
    Ray engine (:func:`gtransfer.studies.ray_engine.ray_engine`, Ray tasks).

    Called with the trials (an iterable the engine pulls lazily, one trial just before it runs: pulling
    claims it in the store), the spec's ``import:`` modules, the spec's folder (each trial runs there), the
    number of trials run at once and the keys to ``isolate`` (run in a child process even where the engine
    would run in-process: trials that were running when an earlier driver died). Each engine may take
    options of its own as further keywords (``devices``, ``threads_per_worker``; Ray's ``address``, ...).

    Yields one :class:`TrialOutcome` per trial pulled, in any order, as each finishes; it never raises for
    a trial's own failure (:func:`execute_trial`), and a trial whose process dies is a failed outcome whose
    error starts with ``WorkerDied:``. Closing the returned iterator stops the engine's workers.
    """

    def __call__(self, trials: Iterable[Trial], imports: tuple[str, ...], base_dir: Path, *, workers: int = 1,
                 isolate: Collection[str] = ()) -> Iterator[TrialOutcome]: ...


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


def execute_trial(trial: Trial, imports: tuple[str, ...], base_dir: str | Path | None) -> TrialOutcome:
    """Run ``trial`` with its registered function in ``base_dir``; never raises for a trial's own error.

    A trial that raises, or returns something that is not a JSON-serialisable dict, becomes a failed
    outcome whose ``error`` says why; the sweep records it and goes on (a rerun retries it).
    """
    start = time.perf_counter()
    result: dict | None = None
    error: str | None = None
    try:
        fn = get_trial_kind(trial.kind, modules=imports)
        with working_directory(Path(base_dir) if base_dir is not None else None):
            value = fn(dict(trial.params))
        if not isinstance(value, dict):
            raise TypeError(f"trial kind {trial.kind!r} returned {type(value).__name__}, not a dict")
        result = canonicalize(value, path="result", allow_nonfinite=True)
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
