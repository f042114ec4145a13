"""Benchmark: corpus featurisation throughput (molecules per second) for 1 and 2 (or more) workers.

    python -m gtransfer.bench corpus [--corpus moses-test] [--limit 20000] [--workers 1 2] [--repeats 3]

Each setting featurises the same first ``limit`` molecules into a fresh temporary shard folder
(shards of ``limit / 20`` molecules so that workers stay busy), ``repeats`` times; the best run is
reported (the least disturbed by other processes on a shared machine), with the speed-up over the
first setting. 1 worker runs in this process, so the ratio also pays the workers' start-up and
transfer costs.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from gtransfer.data.corpus import featurize_corpus

__all__ = ["benchmark", "print_rows"]


def benchmark(
    smiles: Sequence[str],
    *,
    workers: Sequence[int] = (1, 2),
    repeats: int = 3,
    featurizer: str = "ogb",
    shards: int = 20,
    progress: bool = False,
) -> list[dict]:
    """Best-of-``repeats`` throughput per worker count; returns one row per setting."""
    from tqdm.auto import tqdm

    smiles = list(smiles)
    bar = tqdm(total=len(workers) * repeats, desc="bench corpus", unit="run", disable=not progress, dynamic_ncols=True)
    shard_size = max(1, -(-len(smiles) // shards))
    rows = []
    for count in workers:
        times = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="gtransfer-bench-") as out:
                result = featurize_corpus(smiles, out, featurizer=featurizer, num_workers=count,
                                          shard_size=shard_size, progress=False)
            times.append(result["seconds"])
            bar.update(1)
        best = min(times)
        rows.append({"workers": count, "molecules": len(smiles), "best_seconds": best,
                     "molecules_per_second": len(smiles) / best, "all_seconds": times})
    bar.close()
    base = rows[0]["molecules_per_second"]
    for row in rows:
        row["speedup"] = row["molecules_per_second"] / base
    return rows


def print_rows(rows: list[dict], corpus: str, featurizer: str, repeats: int) -> None:
    """The benchmark's table: molecules per second and speed-up per worker count."""
    print(f"corpus {corpus}, first {rows[0]['molecules']} molecules, featurizer {featurizer}, "
          f"{os.cpu_count()} CPUs, best of {repeats}")
    print(f"{'workers':>7}  {'mol/s':>9}  {'seconds':>8}  {'speed-up':>8}")
    for row in rows:
        print(
            f"{row['workers']:>7}  {row['molecules_per_second']:>9.0f}  {row['best_seconds']:>8.2f}  "
            f"{row['speedup']:>7.2f}x"
        )
