"""build_lock: two processes that want the same cache at once -- one builds, the other reads its result."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import numpy as np
import pytest

from gtransfer.embeddings.cache import ArrayCache

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs the fork start method"
)


def _ask_cache(cache_root: str, log: str, barrier: multiprocessing.synchronize.Barrier) -> None:
    def compute() -> dict[str, np.ndarray]:
        with open(log, "a") as handle:
            handle.write("computed\n")
        time.sleep(0.5)  # long enough that the other process asks while this one computes
        return {"features": np.arange(6.0).reshape(3, 2)}

    barrier.wait()
    entry = ArrayCache(cache_root).get_or_compute({"dataset": "x"}, compute)
    assert np.array_equal(entry.load("features"), np.arange(6.0).reshape(3, 2))


def test_two_processes_asking_for_one_missing_entry_compute_it_once(tmp_path: Path):
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(2)
    log = tmp_path / "log.txt"
    workers = [context.Process(target=_ask_cache, args=(str(tmp_path / "cache"), str(log), barrier)) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert log.read_text().splitlines() == ["computed"]  # without the lock both compute (checked by hand)
