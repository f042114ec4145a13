"""The Ray engine: the same trials as the local engine, as Ray tasks on a cluster (``gtransfer[ray]``).

Each trial is one task running :func:`~gtransfer.studies.execute.execute_trial`, so results are the
same as locally; the driver collects outcomes and :func:`gtransfer.studies.runner.run_sweep` writes
them to the store, one transaction each. At most ``workers`` tasks are in flight, so killing the
driver loses at most those.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

import gtransfer
from gtransfer.studies.execute import TrialOutcome, execute_trial
from gtransfer.studies.spec import Trial

__all__ = ["ray_engine"]


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ValueError("--engine ray needs Ray; install it with: pip install 'gtransfer[ray]'") from None
    return ray


def ray_engine(
    trials: Sequence[Trial],
    imports: tuple[str, ...],
    base_dir: Path,
    workers: int = 1,
    address: str | None = None,
    num_cpus: int | None = None,
    num_gpus_per_trial: float = 0.0,
) -> Iterator[TrialOutcome]:
    """Run trials as Ray tasks, yielding outcomes as they finish.

    Args:
        address: a running cluster (``"auto"`` or ``"ray://host:10001"``); None starts a local Ray
            instance with ``num_cpus`` CPUs, shut down again at the end.
        workers: tasks in flight at once.
        num_gpus_per_trial: GPU share per task (0.25 puts four trials on one GPU).
    """
    ray = _import_ray()
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    started_here = not ray.is_initialized()
    if started_here:
        # workers must import this gtransfer (a source checkout need not be installed)
        package_root = str(Path(gtransfer.__file__).resolve().parents[1])
        ray.init(
            address=address,
            num_cpus=num_cpus if address is None else None,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"env_vars": {"PYTHONPATH": package_root}},
        )
    remote_trial = ray.remote(num_cpus=1, num_gpus=num_gpus_per_trial, max_retries=0)(execute_trial)
    base = str(Path(base_dir).resolve())
    pending = iter(trials)
    in_flight = []
    try:
        for trial in pending:
            in_flight.append(remote_trial.remote(trial, imports, base))
            if len(in_flight) >= workers:
                break
        while in_flight:
            done, in_flight = ray.wait(in_flight, num_returns=1)
            for ref in done:
                yield ray.get(ref)
                trial = next(pending, None)
                if trial is not None:
                    in_flight.append(remote_trial.remote(trial, imports, base))
    finally:
        for ref in in_flight:
            ray.cancel(ref, force=True)
        if started_here:
            ray.shutdown()
