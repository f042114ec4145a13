"""Benchmark: fine-tuning throughput, the one-model loop against packed training, in one run.

    python -m gtransfer.bench training [--device cpu|cuda] [--pack 1 8 32 128] [--epochs E]

On ogbg-molbbbp (scaffold split, 1,631 training graphs), a GIN 5x300 (``random:gin``) with a linear
head, batch 32, Adam: each epoch trains on the training split and scores the validation split, as a
trial does. Two ways to run K trials:

* ``sequential``: today's loop, :func:`gtransfer.training.finetune.finetune` on PyG ``DataLoader``
  batches collated on the CPU, one trial after another. K trials one after another run at the rate of
  one, so one trial is timed (``--sequential-trials`` to time more);
* ``packed``: :func:`gtransfer.training.packed.train_pack`, K members (different initial weights, seeds
  and learning rates) on the data collated once onto the device.

Both are timed in this process, on this device, after the data is loaded; the packed rows also give
the one-time collation cost. Rates are epochs per second summed over the K trials, the same in full
BBBP training epochs (1,631 graphs; differs when ``max_graphs`` cuts the split), and trials per hour at
``--trial-epochs`` epochs each. The BBBP rate is the unit of :mod:`gtransfer.studies.projection`: a
preset projects its own device-hours from it (``experiments/source_selection.py --preset full
--project-only --device-rate R``; the report's second-to-last line prints that command with the
fastest row's rate). The last line is ``packed/sequential epochs per second at K=8: X``. On the CPU, one more
packed epoch at K=8 runs under torch.profiler, and a line before them gives the share of its time in GEMMs and
the largest operators outside them.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from gtransfer.studies.projection import BBBP_TRAIN_GRAPHS

__all__ = ["run_training_benchmark", "print_training_report", "gemm_share"]

def _sync(device: Any) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _encoders(encoder: str, count: int, node_input: Any, root: str | None) -> list:
    """``count`` untrained encoders of the ``random:ARCH[:options]`` string ``encoder``, seeds 0..count-1."""
    from gtransfer.models.specs import resolve_encoder

    separator = "," if encoder.count(":") >= 2 else ":"
    return [
        resolve_encoder(f"{encoder}{separator}seed={seed}", root=root).load(node_features=node_input)
        for seed in range(count)
    ]


#: the operators that run a matrix product on the CPU (their self time is the BLAS call)
GEMM_OPS = frozenset(
    {
        "aten::mm",
        "aten::addmm",
        "aten::bmm",
        "aten::baddbmm",
        "aten::addbmm",
        "aten::mv",
        "aten::addmv",
        "aten::dot",
        "aten::_addmm_activation",
    }
)


def gemm_share(step: Any, *, top: int = 6) -> dict:
    """Run ``step()`` once under torch.profiler (CPU) and split its wall time: ``gemm_s`` in :data:`GEMM_OPS`
    (self time), ``ops_s`` in all operators (self time), ``wall_s``, ``gemm_share`` = gemm_s / wall_s, and the
    ``top`` operators outside the GEMMs by self time (``other_ops``: (name, seconds) pairs)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        start = time.perf_counter()
        step()
        wall = time.perf_counter() - start
    totals: dict[str, float] = {}
    for event in prof.key_averages():
        totals[event.key] = totals.get(event.key, 0.0) + event.self_cpu_time_total / 1e6
    gemm = sum(seconds for name, seconds in totals.items() if name in GEMM_OPS)
    others = sorted(((name, seconds) for name, seconds in totals.items() if name not in GEMM_OPS), key=lambda p: -p[1])
    return {
        "gemm_s": gemm,
        "ops_s": sum(totals.values()),
        "wall_s": wall,
        "gemm_share": gemm / wall,
        "other_ops": others[:top],
    }


def run_training_benchmark(
    *,
    packs: Sequence[int] = (1, 8),
    epochs: int = 2,
    device: str | None = None,
    batch_size: int = 32,
    max_graphs: int | None = None,
    sequential_trials: int = 1,
    trial_epochs: int = 100,
    root: str | None = None,
    progress: bool = True,
    encoder: str = "random:gin",
    profile_gemms: bool = True,
) -> dict:
    """Time the sequential loop and packed training; one row per setting (see the module docstring).

    ``encoder``: the architecture, as a ``random:`` string without a seed (default GIN 5x300,
    ``random:gin``; e.g. ``random:gin:layers=2,dim=64`` for a model small enough to be launch-bound).
    ``profile_gemms`` (CPU only): one more packed epoch at K = 8 (or the largest K), under torch.profiler, gives
    the share of its wall time spent in matrix products (see :func:`gemm_share`), added to that K's row.
    """
    if not encoder.startswith("random:") or "seed=" in encoder:
        raise ValueError(
            f"the benchmark's encoder is a random:ARCH[:layers=L,dim=D] string without seed=, got {encoder!r}"
        )
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.data.targets import subsample_target
    from gtransfer.embeddings.targets import target_for_encoder
    from gtransfer.models.specs import resolve_encoder
    from gtransfer.training.batching import resolve_device
    from gtransfer.training.finetune import TaskSpec, finetune
    from gtransfer.training.packed import DeviceGraphs, PackMember, train_pack

    device = resolve_device(device)
    target, node_input = target_for_encoder(resolve_encoder(encoder, root=root), "ogbg-molbbbp", root=root)
    target = subsample_target(target, max_graphs, seed=0)
    task = TaskSpec("multilabel", 1)
    labels = torch.as_tensor(target.labels, dtype=torch.float32).view(-1, 1)
    graphs = [target.dataset[int(i)] for i in target.indices]
    train_count = int(target.splits["train"].size)
    rows: list[dict] = []

    # today's loop: PyG batches collated on the CPU, one trial after another
    def loader(split: str, shuffle: bool) -> DataLoader:
        data = []
        for position in target.splits[split]:
            g = graphs[int(position)].clone()
            g.y = labels[int(position)].view(1, 1)
            data.append(g)
        return DataLoader(
            data,
            batch_size=batch_size,
            shuffle=shuffle,
            generator=torch.Generator().manual_seed(0) if shuffle else None,
        )

    loaders = (loader("train", True), loader("valid", False), loader("test", False))
    seconds = 0.0
    for model in _encoders(encoder, sequential_trials, node_input, root):
        _sync(device)
        start = time.perf_counter()
        finetune(model, *loaders, task=task, epochs=epochs, patience=epochs + 1, device=device, progress=progress)
        _sync(device)
        seconds += time.perf_counter() - start
    rate = sequential_trials * epochs / seconds
    rows.append({"engine": "sequential", "K": sequential_trials, "seconds": seconds, "epochs_per_s": rate})

    start = time.perf_counter()
    device_graphs = DeviceGraphs(graphs, labels, device=device)
    _sync(device)
    collate_s = time.perf_counter() - start
    for k in packs:
        members = [PackMember(model, seed=i, lr=(1e-3, 3e-4)[i % 2], patience=epochs + 1)
                   for i, model in enumerate(_encoders(encoder, k, node_input, root))]
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        _sync(device)
        start = time.perf_counter()
        train_pack(members, device_graphs, target.splits, task, epochs=epochs, batch_size=batch_size, progress=progress,
                   description=f"pack of {k}")
        _sync(device)
        seconds = time.perf_counter() - start
        row = {
            "engine": "packed",
            "K": k,
            "seconds": seconds,
            "epochs_per_s": k * epochs / seconds,
            "collate_s": collate_s,
        }
        if device.type == "cuda":
            row["peak_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
        rows.append(row)
    if profile_gemms and device.type == "cpu":
        k = 8 if 8 in packs else max(packs)
        members = [PackMember(model, seed=i, lr=(1e-3, 3e-4)[i % 2], patience=2)
                   for i, model in enumerate(_encoders(encoder, k, node_input, root))]
        share = gemm_share(
            lambda: train_pack(members, device_graphs, target.splits, task, epochs=1, batch_size=batch_size)
        )
        rows_by_k = [row for row in rows if row["engine"] == "packed" and row["K"] == k]
        rows_by_k[0].update(share)
    scale = BBBP_TRAIN_GRAPHS / train_count  # rates are of this run's training set; projections count full BBBP epochs
    for row in rows:
        row["bbbp_epochs_per_s"] = row["epochs_per_s"] / scale
        row["trials_per_h"] = row["bbbp_epochs_per_s"] * 3600 / trial_epochs
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {
        "encoder": encoder,
        "device": str(device),
        "device_name": device_name,
        "torch": torch.__version__,
        "epochs": epochs,
        "batch_size": batch_size,
        "train_graphs": train_count,
        "trial_epochs": trial_epochs,
        "rows": rows,
    }


def print_training_report(result: dict) -> None:
    """The rows as a table, then the K=8 ratio line (or the largest K when 8 was not run)."""
    print(f"fine-tuning throughput: {result.get('encoder', 'random:gin')} + linear head, ogbg-molbbbp "
          f"({result['train_graphs']} training graphs), batch {result['batch_size']}, {result['epochs']} epochs, "
          f"{result['device']} ({result['device_name']}), torch {result['torch']}")
    header = (f"{'engine':<11}{'K':>5}{'seconds':>10}{'epochs/s':>10}{'BBBP ep/s':>11}{'trials/h':>10}"
              f"{'collate s':>11}{'peak GiB':>10}")
    print(header)
    for row in result["rows"]:
        print(
            f"{row['engine']:<11}{row['K']:>5}{row['seconds']:>10.1f}{row['epochs_per_s']:>10.3f}"
            f"{row['bbbp_epochs_per_s']:>11.3f}{row['trials_per_h']:>10.1f}"
            f"{row.get('collate_s', float('nan')):>11.2f}{row.get('peak_gib', float('nan')):>10.2f}"
        )
    for row in result["rows"]:
        if "gemm_share" in row:
            others = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in row["other_ops"])
            print(
                f"packed CPU step at K={row['K']} (one profiled epoch): {100 * row['gemm_share']:.0f}% of "
                f"{row['wall_s']:.2f} s "
                f"in GEMMs ({row['gemm_s']:.2f} s; all operators {row['ops_s']:.2f} s); largest others: {others}"
            )
    fastest = max(result["rows"], key=lambda r: r["bbbp_epochs_per_s"])
    print(f"'BBBP ep/s': full BBBP training epochs (1,631 graphs) per second, all K together; trials/h at "
          f"{result['trial_epochs']} epochs per trial")
    print(f"project a preset at the fastest rate: python experiments/source_selection.py --preset full --project-only "
          f"--device-rate {fastest['bbbp_epochs_per_s']:.3g}")
    sequential = next(r for r in result["rows"] if r["engine"] == "sequential")
    packed = {r["K"]: r for r in result["rows"] if r["engine"] == "packed"}
    k = 8 if 8 in packed else max(packed)
    print(f"packed/sequential epochs per second at K={k}: {packed[k]['epochs_per_s'] / sequential['epochs_per_s']:.2f}")
