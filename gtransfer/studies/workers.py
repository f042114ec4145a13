"""Worker processes for the local engine that survive a trial killing its process.

A trial can take its whole process down: the out-of-memory killer (SIGKILL), a native crash
(SIGSEGV), ``os._exit``. ``concurrent.futures.ProcessPoolExecutor`` answers the first such death with
``BrokenProcessPool`` for *every* future, so the trials on the other workers are lost and nothing says
which trial did it. :class:`WorkerPool` instead gives each worker one trial at a time over its own
pipe and watches each worker's process sentinel:

* a worker that dies while it holds a trial makes that trial a failed
  :class:`~gtransfer.studies.execute.TrialOutcome` whose error names the cause
  (``WorkerDied: the trial's process was killed by signal SIGKILL (9) ...`` or ``... exited with
  code 3``); the worker is replaced and the sweep goes on; the other workers' trials are untouched;
* every worker asks the kernel to kill it when the driver dies (Linux ``PR_SET_PDEATHSIG``, with a
  watchdog thread polling ``os.getppid()`` where that is unavailable), so a SIGKILL of the driver
  alone leaves no orphan worker computing for nobody, and multiprocessing's resource tracker, whose
  pipe the workers hold open, ends with them.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path

from gtransfer.studies.execute import TrialOutcome, execute_trial
from gtransfer.studies.registry import import_trial_modules
from gtransfer.studies.spec import Trial

__all__ = ["WorkerPool", "worker_engine", "death_cause", "die_with_parent", "pin_worker", "slot_device",
           "worker_died_outcome"]

#: ``prctl`` option number from <linux/prctl.h>
_PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> str:
    """Make this process end when ``parent_pid`` (the process that started it) ends; returns how.

    Linux: ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, then a check that the parent did not die before the
    call (the kernel would not signal then). Elsewhere: a daemon thread that kills this process once
    ``os.getppid()`` stops being ``parent_pid``.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) == 0:
                if os.getppid() != parent_pid:  # the parent died before prctl: nobody will signal us
                    os._exit(1)
                return "prctl"
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, name="gtransfer-parent-watchdog", daemon=True).start()
    return "watchdog"


def death_cause(exitcode: int | None) -> str:
    """Words for a process's end: ``killed by signal SIGKILL (9), exit status 137`` or ``exited with code 3``."""
    if exitcode is None:
        return "ended without an exit status"
    if exitcode < 0:
        number = -exitcode
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        hint = " (the out-of-memory killer sends SIGKILL)" if number == signal.SIGKILL else ""
        return f"killed by signal {name} ({number}), exit status {128 + number}{hint}"
    return f"exited with code {exitcode}"


def worker_died_outcome(trial: Trial, cause: str, worker: str, duration_s: float) -> TrialOutcome:
    """The failed outcome of a trial whose process died; its error starts with ``WorkerDied:``."""
    return TrialOutcome(
        key=trial.key, kind=trial.kind, params=trial.params, result=None,
        error=f"WorkerDied: the trial's process {cause} while running it",
        duration_s=duration_s, worker=worker,
    )


def slot_device(devices: Sequence[str] | None, slot: int) -> str | None:
    """The GPU of worker slot ``slot``: ``devices`` round-robin (None without devices)."""
    return str(devices[slot % len(devices)]) if devices else None


def pin_worker(device: str | None, threads: int) -> None:
    """Pin this process's BLAS/torch threads and (when given) its GPU, before any trial imports torch."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if device is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = device


def _worker_main(conn: Connection, parent_pid: int, device: str | None, threads: int, imports: tuple[str, ...]) -> None:
    """A worker: die with the driver, pin threads and GPU, then run trials from ``conn`` until told to stop.

    Ctrl-C reaches the whole process group; only the driver acts on it (it stops the workers), so a
    trial interrupted that way is not stored as a dead worker's.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)
    pin_worker(device, threads)
    import_trial_modules(imports)
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the driver closed the pipe
            return
        if message is None:
            return
        trial, base_dir = message
        conn.send(execute_trial(trial, imports, base_dir))


@dataclass
class _Worker:
    slot: int
    process: multiprocessing.process.BaseProcess
    conn: Connection
    trial: Trial | None = None
    started: float = field(default_factory=time.perf_counter)


class WorkerPool:
    """``workers`` processes (spawned) running trials one at a time each; see the module docstring.

    Args:
        devices: GPU ids; worker slot ``i`` gets ``devices[i % len(devices)]`` (a replacement keeps
            its slot's GPU). None: no ``CUDA_VISIBLE_DEVICES`` is set.
        threads: BLAS/torch threads per worker.
        imports: the spec's ``import:`` modules, imported by each worker before any trial.
    """

    def __init__(self, workers: int, imports: tuple[str, ...], base_dir: Path, *, devices: Sequence[str] | None = None,
                 threads: int = 1) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self._context = multiprocessing.get_context("spawn")
        self._imports = tuple(imports)
        self._base_dir = base_dir
        self._devices = list(devices) if devices else None
        self._threads = threads
        self._workers = [self._start(slot) for slot in range(workers)]

    def _start(self, slot: int) -> _Worker:
        driver_end, worker_end = self._context.Pipe(duplex=True)
        device = slot_device(self._devices, slot)
        process = self._context.Process(target=_worker_main, name=f"gtransfer-worker-{slot}", daemon=True,
                                        args=(worker_end, os.getpid(), device, self._threads, self._imports))
        process.start()
        worker_end.close()
        return _Worker(slot, process, driver_end)

    def run(self, trials: Iterable[Trial]) -> Iterator[TrialOutcome]:
        """Run ``trials`` (pulled lazily, one per idle worker), yielding each outcome as it arrives."""
        pending = iter(trials)
        for worker in self._workers:
            self._assign(worker, pending)
        while any(w.trial is not None for w in self._workers):
            busy = [w for w in self._workers if w.trial is not None]
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            for worker in busy:
                outcome = self._collect(worker)
                if outcome is None:
                    continue
                yield outcome
                self._assign(worker, pending)

    def _assign(self, worker: _Worker, pending: Iterator[Trial]) -> None:
        trial = next(pending, None)
        if trial is None:
            return
        if not worker.process.is_alive():
            worker = self._replace(worker)
        worker.trial, worker.started = trial, time.perf_counter()
        try:
            worker.conn.send((trial, self._base_dir))
        except (BrokenPipeError, ConnectionResetError, EOFError):
            pass  # it died between trials: the sentinel reports it, and the trial with it

    def _collect(self, worker: _Worker) -> TrialOutcome | None:
        """The worker's outcome if it sent one, a WorkerDied outcome if it died, else None (still running)."""
        trial = worker.trial
        assert trial is not None
        if worker.conn.poll():
            try:
                outcome = worker.conn.recv()
            except (EOFError, ConnectionResetError, OSError):
                outcome = None
            if outcome is not None:
                worker.trial = None
                return outcome
        if worker.process.is_alive():
            return None
        worker.process.join()
        outcome = worker_died_outcome(trial, death_cause(worker.process.exitcode), f"pid {worker.process.pid}",
                                      time.perf_counter() - worker.started)
        worker.trial = None  # replaced by _assign when it gets the next trial
        return outcome

    def _replace(self, worker: _Worker) -> _Worker:
        worker.conn.close()
        fresh = self._start(worker.slot)
        self._workers[self._workers.index(worker)] = fresh
        return fresh

    def close(self) -> None:
        """Stop every worker: ask politely, then terminate what is left after a few seconds."""
        for worker in self._workers:
            try:
                worker.conn.send(None)
            except (BrokenPipeError, ConnectionResetError, EOFError, OSError):
                pass
        deadline = time.monotonic() + 5.0
        for worker in self._workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()) if worker.trial is None else 0.0)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join(timeout=5.0)
            worker.conn.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def worker_engine(
    trials: Iterable[Trial],
    imports: tuple[str, ...],
    base_dir: Path,
    *,
    workers: int = 1,
    isolate: Collection[str] = (),
    devices: Sequence[str] | None = None,
    threads_per_worker: int | None = None,
) -> Iterator[TrialOutcome]:
    """The worker engine (:class:`~gtransfer.studies.execute.Engine`): trials in ``workers`` processes of a
    :class:`WorkerPool`, outcomes as they arrive. Every trial runs in a child process, so ``isolate`` asks
    nothing more.

    Args:
        devices: GPU ids given to worker slots round-robin through ``CUDA_VISIBLE_DEVICES``; list an
            id several times (or use more workers than ids) to put several workers on one GPU.
        threads_per_worker: BLAS/torch threads per worker (default: cores // workers, at least 1).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
    with WorkerPool(workers, imports, Path(base_dir), devices=devices, threads=threads) as pool:
        yield from pool.run(trials)
