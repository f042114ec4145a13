"""Benchmark: corpus featurisation throughput (molecules per second) for 1 and 2 (or more) workers.

    python -m gtransfer.data.bench_corpus [--corpus moses-test] [--limit 20000] [--workers 1 2] [--repeats 3]

Each setting featurises the same first ``limit`` molecules into a fresh temporary shard folder
(shards of ``limit / 20`` molecules so that workers stay busy), ``repeats`` times; the best run is
reported (the least disturbed by other processes on a shared machine), with the speed-up over the
first setting. 1 worker runs in this process, so the ratio also pays the workers' start-up and
transfer costs.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Sequence

from .corpus import featurize_corpus, read_corpus_smiles

__all__ = ["benchmark", "main"]


def benchmark(
    smiles: Sequence[str],
    workers: Sequence[int] = (1, 2),
    repeats: int = 3,
    featurizer: str = "ogb",
    shards: int = 20,
) -> list[dict]:
    """Best-of-``repeats`` throughput per worker count; returns one row per setting."""
    smiles = list(smiles)
    shard_size = max(1, -(-len(smiles) // shards))
    rows = []
    for count in workers:
        times = []
        for _ in range(repeats):
            with tempfile.TemporaryDirectory(prefix="gtransfer-bench-") as out:
                result = featurize_corpus(smiles, out, featurizer=featurizer, num_workers=count,
                                          shard_size=shard_size, progress=False)
            times.append(result["seconds"])
        best = min(times)
        rows.append({"workers": count, "molecules": len(smiles), "best_seconds": best,
                     "molecules_per_second": len(smiles) / best, "all_seconds": times})
    base = rows[0]["molecules_per_second"]
    for row in rows:
        row["speedup"] = row["molecules_per_second"] / base
    return rows


def main(argv: Sequence[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m gtransfer.data.bench_corpus", description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", default="moses-test")
    parser.add_argument("--limit", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--featurizer", default="ogb", choices=["ogb", "hu2020"])
    parser.add_argument("--root", default=None)
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    smiles = read_corpus_smiles(args.corpus, args.root, args.limit)
    rows = benchmark(smiles, args.workers, args.repeats, args.featurizer)
    print(f"corpus {args.corpus}, first {len(smiles)} molecules, featurizer {args.featurizer}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}, best of {args.repeats}")
    print(f"{'workers':>7}  {'mol/s':>9}  {'seconds':>8}  {'speed-up':>8}")
    for row in rows:
        print(f"{row['workers']:>7}  {row['molecules_per_second']:>9.0f}  {row['best_seconds']:>8.2f}  {row['speedup']:>7.2f}x")
    if args.json:
        print(json.dumps(rows, indent=1))
    return rows


if __name__ == "__main__":
    main()
