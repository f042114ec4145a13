"""Resumable sweeps: expand a spec, skip what the store has, run the rest, store each as it finishes.

Engines yield :class:`~gtransfer.studies.execute.TrialOutcome` objects; this module alone writes them,
one transaction per trial, so the local and the Ray engine share the store logic exactly. Killing the
driver at any moment (SIGKILL included) loses only the trials in flight; rerunning the same command
skips every trial stored as ``ok`` and retries failed ones.

Trials that kill their process (out-of-memory killer, native crash, ``os._exit``):

* with worker processes (``workers > 1`` or ``devices``), :class:`~gtransfer.studies.workers.WorkerPool`
  records the trial as failed with its cause (``WorkerDied: ... killed by signal SIGKILL (9) ...``),
  replaces the worker and finishes every other trial;
* with ``workers == 1`` trials run in the driver's own process (fast to start, trial kinds registered
  at run time work, a debugger works), so such a trial kills the driver. Each trial is claimed in the
  store before it runs (:meth:`~gtransfer.studies.store.TrialStore.claim`); the claim outlives the
  dead driver, so the next run knows which trials were running when it died and runs exactly those
  in a child process: a trial that kills its process again is then stored as failed with the cause
  and the sweep goes on, instead of dying at the same point on every resume. Trials stored as failed
  with ``WorkerDied`` are retried in a child process too.

Two sweeps on one store share the work: a trial claimed by a live driver is skipped by the other
(``SweepSummary.claimed_elsewhere``); claims are leases, renewed by the driver while it runs and taken
over when their driver is gone.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gtransfer.studies.execute import Engine, TrialOutcome, execute_trial
from gtransfer.studies.packing import member_outcomes, plan_units, repack, unit_members
from gtransfer.studies.spec import StudySpec, Trial, expand_trials
from gtransfer.studies.store import TrialStore
from gtransfer.studies.validate import check_spec
from gtransfer.studies.workers import worker_engine

if TYPE_CHECKING:
    from tqdm.auto import tqdm

__all__ = ["SweepSummary", "SweepInterrupted", "run_sweep", "local_engine", "engine_named", "ENGINES", "LEASE_S"]

#: how long a claim on a trial lasts without renewal; the driver renews every LEASE_S / 10
LEASE_S = 600.0


@dataclass(frozen=True)
class SweepSummary:
    """Counts of one ``run_sweep`` call."""

    total: int
    already_done: int
    succeeded: int
    failed: int
    #: trials skipped because another live sweep on the same store was running them
    claimed_elsewhere: int = 0

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

def local_engine(
    trials: Iterable[Trial],
    imports: tuple[str, ...],
    base_dir: Path,
    *,
    workers: int = 1,
    isolate: Collection[str] = (),
    devices: Sequence[str] | None = None,
    threads_per_worker: int | None = None,
) -> Iterator[TrialOutcome]:
    """The local engine (:class:`~gtransfer.studies.execute.Engine`): trials in this process when
    ``workers == 1`` and no ``devices`` are named, else in worker processes
    (:func:`gtransfer.studies.workers.worker_engine`, which takes ``devices`` and ``threads_per_worker``).

    Args:
        isolate: keys of trials to run in a child process even when ``workers == 1`` (trials that
            were running when an earlier driver died; see the module docstring).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    if workers > 1 or devices:
        yield from worker_engine(trials, imports, base_dir, workers=workers, devices=devices,
                                 threads_per_worker=threads_per_worker)
        return
    for trial in trials:
        if trial.key in isolate:
            yield from worker_engine([trial], imports, base_dir, workers=1, threads_per_worker=threads_per_worker)
        else:
            yield execute_trial(trial, imports, base_dir)


def engine_named(name: str) -> Engine:
    """The engine of ``run_sweep(engine=name)``: one of :data:`ENGINES` (Ray imported only when asked for)."""
    if name not in ENGINES:
        raise ValueError(f"unknown engine {name!r}; choose one of {sorted(ENGINES)}")
    if name == "ray":
        # every Ray trial runs in a worker process: isolated already
        from gtransfer.studies.ray_engine import ray_engine

        return ray_engine
    return local_engine


#: the engines ``run_sweep`` knows, by name
ENGINES = ("local", "ray")


def run_sweep(
    spec: StudySpec,
    store: TrialStore,
    *,
    workers: int = 1,
    engine: str = "local",
    progress: bool = True,
    limit: int | None = None,
    pack_size: int | None = None,
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
        pack_size: most trials per pack for kinds that run in packs (:mod:`gtransfer.studies.packing`);
            ``None``: the kind's default (graph_finetune: 64 on a GPU, 8 on the CPU); ``1``: no packs.
            Trials whose last run died with its process run alone (and isolated).
        engine_options: passed to the engine (``devices``, ``threads_per_worker``; Ray: ``address``,
            ``num_cpus``, ``num_gpus_per_trial``).

    Returns:
        the counts; failed trials are in the store with their error and are retried next time.

    Raises:
        ValueError: unknown engine, or the spec names an unknown trial kind, parameter, target or
            encoder (:func:`gtransfer.studies.validate.check_spec`, before any trial runs).
    """
    run_engine = engine_named(engine)
    check_spec(spec)  # unknown kinds, parameters, targets and encoders: before any trial runs
    trials = expand_trials(spec)
    store.register_study(spec.name, spec.raw, (t.key for t in trials))
    done = store.finished_keys()
    todo = [t for t in trials if t.key not in done]
    already = len(trials) - len(todo)
    if limit is not None:
        todo = todo[:limit]
    isolate = _died_before(store, todo)
    units = plan_units(todo, pack_size, imports=spec.imports, alone=isolate)
    by_key: dict[str, Trial] = {}  # the units handed to the engine, by key, until their outcome is stored
    owner = store.new_owner()
    counts = {"succeeded": 0, "failed": 0, "claimed_elsewhere": 0, "finished_elsewhere": 0}
    bar = _progress_bar(total=len(trials), initial=already, desc=spec.name, enabled=progress)
    outcomes = None
    try:
        # absolute, resolved once: trials run inside the spec's folder, where a relative store path names nothing
        with _renewing(store.path.resolve(), owner), contextlib.ExitStack() as stack:
            outcomes = run_engine(_claimed(units, store, owner, counts, isolate, by_key), spec.imports, spec.base_dir,
                                  workers=workers, isolate=isolate, **engine_options)
            stack.callback(getattr(outcomes, "close", lambda: None))  # stop the workers before the claims go
            for unit_outcome in outcomes:
                for outcome in member_outcomes(by_key.pop(unit_outcome.key), unit_outcome):
                    store.record(
                        outcome.key,
                        outcome.kind,
                        outcome.params,
                        result=outcome.result,
                        error=outcome.error,
                        duration_s=outcome.duration_s,
                        worker=outcome.worker,
                        owner=owner,
                    )
                    counts["succeeded" if outcome.error is None else "failed"] += 1
                    bar.update(1)
                bar.set_postfix(failed=counts["failed"], refresh=False)
    except KeyboardInterrupt:
        # every outcome yielded so far is stored (one transaction each); what was in flight is not
        with contextlib.suppress(BaseException):
            getattr(outcomes, "close", lambda: None)()  # the engine stops its workers now
        raise SweepInterrupted(
            SweepSummary(
                len(trials),
                already + counts["finished_elsewhere"],
                counts["succeeded"],
                counts["failed"],
                counts["claimed_elsewhere"],
            ),
            workers,
        ) from None
    finally:
        bar.close()
        store.release(owner)
        store.checkpoint()
    if counts["failed"]:
        warnings.warn(
            f"study {spec.name!r}: {counts['failed']} trial(s) failed; their errors are in the store", stacklevel=2
        )
    if counts["claimed_elsewhere"]:
        warnings.warn(f"study {spec.name!r}: {counts['claimed_elsewhere']} trial(s) were left to another sweep running "
                      "them on the same store; run again after it to finish them", stacklevel=2)
    return SweepSummary(len(trials), already + counts["finished_elsewhere"], counts["succeeded"], counts["failed"],
                        counts["claimed_elsewhere"])


def _died_before(store: TrialStore, todo: Sequence[Trial]) -> set[str]:
    """Keys of ``todo`` whose last run died with its process: a stale claim, or a stored ``WorkerDied``."""
    keys = {t.key for t in todo}
    stale = {key for key, state in store.claim_states(keys).items() if state == "stale"}
    died = {
        r.key for r in store.records(status="failed") if r.key in keys and (r.error or "").startswith("WorkerDied:")
    }
    return stale | died


def _claimed(units: Iterable[Trial], store: TrialStore, owner: str, counts: dict[str, int], isolate: set[str],
             by_key: dict[str, Trial]) -> Iterator[Trial]:
    """The units ``owner`` could claim, claimed trial by trial as the engine pulls them (just before each runs).

    A pack keeps the members it could claim (a pack of one is its trial). A claim taken over from a
    driver that died since the sweep started adds its key to ``isolate`` and the trial leaves its pack
    to run alone (the engine looks the key up after pulling the trial). Every unit handed on is
    entered in ``by_key``.
    """
    for unit in units:
        kept: list[Trial] = []
        for trial in unit_members(unit):
            state = store.claim(trial.key, owner, LEASE_S)
            if state is None:
                counts["claimed_elsewhere"] += 1
            elif state == "ok":
                counts["finished_elsewhere"] += 1
            elif state == "stale":
                isolate.add(trial.key)
                by_key[trial.key] = trial
                yield trial
            else:
                kept.append(trial)
        if kept:
            handed = repack(unit, kept)
            by_key[handed.key] = handed
            yield handed


class _renewing:
    """Context: a daemon thread renewing ``owner``'s claims every ``LEASE_S / 10`` on its own connection."""

    def __init__(self, path: Path, owner: str) -> None:
        self._path, self._owner = path, owner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gtransfer-claim-renewal", daemon=True)

    def _run(self) -> None:
        store: TrialStore | None = None
        try:
            while not self._stop.wait(LEASE_S / 10):
                try:
                    store = store or TrialStore(self._path, create=False)
                    store.renew(self._owner, LEASE_S)
                except Exception as exc:  # noqa: BLE001 - a missed renewal only shortens the lease
                    warnings.warn(f"could not renew the claims of this sweep in {self._path}: {exc}", stacklevel=1)
        finally:
            if store is not None:
                store.close(checkpoint=False)  # the sweep's own connection checkpoints

    def __enter__(self) -> None:
        self._thread.start()

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def _progress_bar(total: int, initial: int, desc: str, enabled: bool) -> tqdm:
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="trial", disable=not enabled, dynamic_ncols=True)
