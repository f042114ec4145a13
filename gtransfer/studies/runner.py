"""Resumable sweeps: expand a spec, skip what the store has, run the rest, store each as it finishes.

Engines yield :class:`~gtransfer.studies.execute.TrialOutcome` objects; this module alone writes them,
one transaction per trial, so the local and the Ray engine share the store logic exactly. Killing the
driver at any moment (SIGKILL included) loses only the trials in flight; rerunning the same command
skips every trial stored as ``ok`` and retries failed ones.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gtransfer.studies.execute import TrialOutcome, execute_trial
from gtransfer.studies.registry import import_trial_modules
from gtransfer.studies.spec import StudySpec, Trial, expand_trials
from gtransfer.studies.store import TrialStore
from gtransfer.studies.validate import check_spec

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

    from tqdm.auto import tqdm

__all__ = ["SweepSummary", "SweepInterrupted", "run_sweep", "local_engine", "ENGINES"]


@dataclass(frozen=True)
class SweepSummary:
    """Counts of one ``run_sweep`` call."""

    total: int
    already_done: int
    succeeded: int
    failed: int

    @property
    def complete(self) -> bool:
        return self.already_done + self.succeeded == self.total


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`run_sweep`; ``summary`` counts what was stored before it."""

    def __init__(self, summary: SweepSummary, workers: int) -> None:
        super().__init__(f"sweep interrupted after {summary.succeeded + summary.failed} trial(s) stored in this run")
        self.summary = summary
        self.workers = workers


# -- local engine -----------------------------------------------------------------------------------

def _init_worker(counter: Synchronized[int], devices: Sequence[str] | None, threads: int, imports: tuple[str, ...]) -> None:
    """Pin a worker's BLAS/torch threads and (round-robin) its GPU before any trial imports torch.

    Workers ignore Ctrl-C: the driver handles it and terminates them (no worker tracebacks).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if devices:
        with counter.get_lock():
            index = counter.value
            counter.value += 1
        os.environ["CUDA_VISIBLE_DEVICES"] = str(devices[index % len(devices)])
    import_trial_modules(imports)


def local_engine(
    trials: Sequence[Trial],
    imports: tuple[str, ...],
    base_dir: Path,
    workers: int = 1,
    devices: Sequence[str] | None = None,
    threads_per_worker: int | None = None,
) -> Iterator[TrialOutcome]:
    """Run trials in ``workers`` processes (in this process when ``workers == 1``), yield outcomes.

    Args:
        devices: GPU ids given to workers round-robin through ``CUDA_VISIBLE_DEVICES``; list an id
            several times (or use more workers than ids) to put several workers on one GPU.
        threads_per_worker: BLAS/torch threads per worker (default: cores // workers, at least 1).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers == 1 and not devices:
        for trial in trials:
            yield execute_trial(trial, imports, base_dir)
        return
    threads = threads_per_worker or max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    counter = context.Value("i", 0)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(counter, list(devices) if devices else None, threads, imports),
    )
    pending = iter(trials)
    in_flight: set[Future] = set()
    try:
        # keep a bounded queue: a kill loses at most the trials already handed to workers
        for trial in _take(pending, 2 * workers):
            in_flight.add(pool.submit(execute_trial, trial, imports, base_dir))
        while in_flight:
            done, in_flight = wait(in_flight, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                for trial in _take(pending, 1):
                    in_flight.add(pool.submit(execute_trial, trial, imports, base_dir))
    except BaseException:  # Ctrl-C, or the driver closing this generator: stop now, not after the running trials
        for process in list(getattr(pool, "_processes", None) or {}):
            with contextlib.suppress(Exception):
                pool._processes[process].terminate()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _take(iterator: Iterator[Trial], count: int) -> list[Trial]:
    out = []
    for _ in range(count):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


def _ray_engine(
    trials: Sequence[Trial],
    imports: tuple[str, ...],
    base_dir: Path,
    workers: int = 1,
    devices: Sequence[str] | None = None,
    threads_per_worker: int | None = None,
    **options,
) -> Iterator[TrialOutcome]:
    from gtransfer.studies.ray_engine import ray_engine

    return ray_engine(trials, imports, base_dir, workers=workers, **options)


ENGINES: dict[str, Callable[..., Iterable[TrialOutcome]]] = {"local": local_engine, "ray": _ray_engine}


# -- the sweep ----------------------------------------------------------------------------------------
def run_sweep(
    spec: StudySpec,
    store: TrialStore,
    workers: int = 1,
    engine: str = "local",
    progress: bool = True,
    limit: int | None = None,
    **engine_options,
) -> SweepSummary:
    """Run every trial of ``spec`` that ``store`` does not hold as ``ok`` yet; store each outcome.

    Args:
        spec: the parsed study spec.
        store: where results go (and where finished trials are looked up).
        workers: parallel workers (processes locally, concurrent tasks on Ray).
        engine: ``"local"`` or ``"ray"``.
        progress: show a tqdm bar.
        limit: run at most this many trials now (the rest on a later call).
        engine_options: passed to the engine (``devices``, ``threads_per_worker``; Ray: ``address``,
            ``num_cpus``, ``num_gpus_per_trial``).

    Returns:
        the counts; failed trials are in the store with their error and are retried next time.

    Raises:
        ValueError: unknown engine, or the spec names an unknown trial kind, parameter, target or
            encoder (:func:`gtransfer.studies.validate.check_spec`, before any trial runs).
    """
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {sorted(ENGINES)}")
    check_spec(spec)  # unknown kinds, parameters, targets and encoders: before any trial runs
    trials = expand_trials(spec)
    store.register_study(spec.name, spec.raw, (t.key for t in trials))
    done = store.finished_keys()
    todo = [t for t in trials if t.key not in done]
    already = len(trials) - len(todo)
    if limit is not None:
        todo = todo[:limit]
    succeeded = failed = 0
    bar = _progress_bar(total=len(trials), initial=already, desc=spec.name, enabled=progress)
    outcomes = ENGINES[engine](todo, spec.imports, spec.base_dir, workers=workers, **engine_options)
    try:
        for outcome in outcomes:
            store.record(
                outcome.key,
                outcome.kind,
                outcome.params,
                result=outcome.result,
                error=outcome.error,
                duration_s=outcome.duration_s,
                worker=outcome.worker,
            )
            if outcome.error is None:
                succeeded += 1
            else:
                failed += 1
            bar.update(1)
            bar.set_postfix(failed=failed, refresh=False)
    except KeyboardInterrupt:
        # every outcome yielded so far is stored (one transaction each); what was in flight is not
        with contextlib.suppress(BaseException):
            getattr(outcomes, "close", lambda: None)()  # the engine stops its workers now
        raise SweepInterrupted(SweepSummary(len(trials), already, succeeded, failed), workers) from None
    finally:
        bar.close()
    if failed:
        warnings.warn(f"study {spec.name!r}: {failed} trial(s) failed; their errors are in the store", stacklevel=2)
    return SweepSummary(len(trials), already, succeeded, failed)


def _progress_bar(total: int, initial: int, desc: str, enabled: bool) -> tqdm:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="trial", disable=not enabled, dynamic_ncols=True)
