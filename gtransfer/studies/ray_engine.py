"""The Ray engine: the same trials as the local engine, as Ray tasks on a cluster (``gtransfer[ray]``).

Each trial is one task running :func:`~gtransfer.studies.execute.execute_trial`, so results are the
same as locally; the driver collects outcomes and :func:`gtransfer.studies.runner.run_sweep` writes
them to the store, one transaction each. At most ``workers`` tasks are in flight, so killing the
driver loses at most those. A task whose worker process dies (``WorkerCrashedError``: the
out-of-memory killer, a native crash; or any other Ray failure around the task) becomes a failed
trial whose error starts with ``WorkerDied:`` and names Ray's error; Ray starts a new worker and the
other tasks go on.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

import gtransfer
from gtransfer.studies.execute import TrialOutcome, execute_trial
from gtransfer.studies.spec import Trial
from gtransfer.studies.workers import worker_died_outcome

__all__ = ["ray_engine", "ray_session"]


def _import_ray() -> ModuleType:
    try:
        import ray
    except ImportError:
        raise ValueError("--engine ray needs Ray; install it with: pip install 'gtransfer[ray]'") from None
    return ray


def ray_engine(
    trials: Iterable[Trial],
    imports: tuple[str, ...],
    base_dir: Path,
    *,
    workers: int = 1,
    isolate: Collection[str] = (),
    address: str | None = None,
    num_cpus: int | None = None,
    num_gpus_per_trial: float = 0.0,
    devices: Sequence[str] | None = None,
    threads_per_worker: int | None = None,
) -> Iterator[TrialOutcome]:
    """The Ray engine (:class:`~gtransfer.studies.execute.Engine`): trials as Ray tasks, outcomes as they finish.

    Every Ray trial runs in a worker process, so ``isolate`` asks nothing more. ``devices`` and
    ``threads_per_worker`` are the local engine's options: Ray places trials by ``num_gpus_per_trial``
    and its own CPU count, so they are accepted and not used (as before this engine took the one signature).

    Args:
        address: a running cluster (``"auto"`` or ``"ray://host:10001"``); None starts a local Ray
            instance with ``num_cpus`` CPUs, shut down again at the end.
        workers: tasks in flight at once.
        num_gpus_per_trial: GPU share per task (0.25 puts four trials on one GPU).
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    with ray_session(address=address, num_cpus=num_cpus) as ray:
        yield from _run(ray, trials, imports, base_dir, workers, num_gpus_per_trial)


@contextlib.contextmanager
def ray_session(*, address: str | None = None, num_cpus: int | None = None) -> Iterator[ModuleType]:
    """Connect to Ray (or start a local instance) unless already connected; yields the ``ray`` module.

    A session started here is shut down on exit; one opened by the caller is left running, so several
    sweeps can share it.
    """
    ray = _import_ray()
    if ray.is_initialized():
        yield ray
        return
    # workers must import this gtransfer (a source checkout need not be installed) and the spec's
    # trial modules, as spawned local workers do: give them the driver's import path
    package_root = str(Path(gtransfer.__file__).resolve().parents[1])
    import_path = os.pathsep.join(dict.fromkeys([package_root, *(p for p in sys.path if p)]))
    ray.init(
        address=address,
        num_cpus=num_cpus if address is None else None,
        include_dashboard=False,
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": import_path}},
    )
    try:
        yield ray
    finally:
        ray.shutdown()


def _run(
    ray: ModuleType,
    trials: Iterable[Trial],
    imports: tuple[str, ...],
    base_dir: Path,
    workers: int,
    num_gpus_per_trial: float,
) -> Iterator[TrialOutcome]:
    remote_trial = ray.remote(num_cpus=1, num_gpus=num_gpus_per_trial, max_retries=0)(execute_trial)
    base = str(Path(base_dir).resolve())
    pending = iter(trials)
    in_flight: dict = {}  # object ref -> (trial, submitted at)

    def submit(trial: Trial) -> None:
        in_flight[remote_trial.remote(trial, imports, base)] = (trial, time.perf_counter())

    try:
        for trial in pending:
            submit(trial)
            if len(in_flight) >= workers:
                break
        while in_flight:
            done, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in done:
                trial, started = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except ray.exceptions.RayError as error:  # execute_trial never raises: the worker or node died
                    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
                    outcome = worker_died_outcome(trial, f"died in Ray ({type(error).__name__}: {first})", "ray",
                                                  time.perf_counter() - started)
                yield outcome
                trial = next(pending, None)
                if trial is not None:
                    submit(trial)
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
