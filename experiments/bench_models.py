"""Benchmark: embedding throughput and fine-tuning epoch time on ogbg-molbbbp; concurrent trials on GPU.

    python experiments/bench_models.py                      # CPU (and GPU when present)
    python experiments/bench_models.py --concurrency 1 2 4 8 --trial-epochs 3   # GPU: trials per GPU

Reports, per device: graphs/second of frozen embedding (GIN 5 x 300, batch 256) and of the
published GCN, the seconds of one full fine-tuning epoch (GIN 5 x 300, batch 32, Hu et al. 2020
settings), and the GPU / CPU ratios. With ``--concurrency`` on a GPU it starts k fine-tuning trials
as separate processes sharing the GPU and prints the aggregate graphs/second for each k: the point
where it stops growing is how many trials to run per GPU.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time
from pathlib import Path

import torch
from torch_geometric.loader import DataLoader

from gtransfer.data import load_dataset
from gtransfer.embeddings.embed import embed_loader
from gtransfer.models import GIN, load_pretrain_gnns
from gtransfer.training.finetune import TaskSpec, finetune


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def embed_throughput(encoder, dataset, device: str, repeats: int) -> float:
    loader = DataLoader(dataset, batch_size=256)
    encoder = encoder.to(device)
    embed_loader(encoder, loader, device=device)  # warm-up
    _sync(device)
    tic = time.perf_counter()
    for _ in range(repeats):
        embed_loader(encoder, loader, device=device)
    _sync(device)
    return repeats * len(dataset) / (time.perf_counter() - tic)


def finetune_epoch_seconds(dataset, device: str, epochs: int = 2, amp: bool = False) -> float:
    split = dataset.get_idx_split()
    loaders = [DataLoader(dataset[split[k]], batch_size=32, shuffle=(k == "train")) for k in ("train", "valid", "test")]
    encoder = GIN(num_layers=5, hidden_dim=300, dropout=0.5, node_features="ogb")
    tic = time.perf_counter()
    result = finetune(encoder, *loaders, task=TaskSpec("multilabel", 1), epochs=epochs, patience=epochs, seed=0,
                      device=device, amp=amp)
    _sync(device)
    return (time.perf_counter() - tic) / result.epochs_run


def _trial(args: tuple) -> None:
    data_root, epochs, device = args
    torch.set_num_threads(1)
    ds = load_dataset("ogbg-molbbbp", root=data_root, featurizer="ogb", progress=False)
    finetune_epoch_seconds(ds, device, epochs=epochs)


def concurrent_throughput(k: int, data_root, epochs: int, device: str, train_graphs: int) -> float:
    ctx = mp.get_context("spawn")
    tic = time.perf_counter()
    procs = [ctx.Process(target=_trial, args=((data_root, epochs, device),)) for _ in range(k)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"a concurrent trial failed with exit code {p.exitcode}")
    return k * epochs * train_graphs / (time.perf_counter() - tic)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=1, help="fine-tuning epochs timed per device")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[], help="GPU: concurrent trial counts")
    parser.add_argument("--trial-epochs", type=int, default=3)
    parser.add_argument("--out", default=None, help="write the results as JSON here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    chem = Path(args.data or os.environ.get("GTRANSFER_DATA", "../shared/data")) / "checkpoints/pretrain_gnns/chem"
    ogb = load_dataset("ogbg-molbbbp", root=args.data, featurizer="ogb", progress=False)
    hu = load_dataset("ogbg-molbbbp", root=args.data, featurizer="hu2020", progress=False)
    results: dict = {"threads": args.threads, "torch": torch.__version__,
                     "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}
    for device in devices:
        torch.manual_seed(0)
        gin = GIN(num_layers=5, hidden_dim=300, node_features="ogb").eval()
        row = {"embed_gin_graphs_per_s": embed_throughput(gin, ogb, device, args.repeats),
               "embed_published_gcn_graphs_per_s": embed_throughput(load_pretrain_gnns(chem / "gcn_supervised.pth"), hu,
                                                                    device, args.repeats),
               "finetune_epoch_s": finetune_epoch_seconds(ogb, device, epochs=args.epochs)}
        if device == "cuda":
            row["finetune_epoch_s_bf16"] = finetune_epoch_seconds(ogb, device, epochs=args.epochs, amp=True)
        results[device] = row
        print(device, json.dumps(row), flush=True)
    if "cuda" in results:
        cpu, gpu = results["cpu"], results["cuda"]
        results["gpu_over_cpu"] = {"embed_gin": gpu["embed_gin_graphs_per_s"] / cpu["embed_gin_graphs_per_s"],
                                   "finetune_epoch": cpu["finetune_epoch_s"] / gpu["finetune_epoch_s"]}
        print("GPU / CPU speed ratios:", json.dumps(results["gpu_over_cpu"]))
        train_graphs = len(ogb.get_idx_split()["train"])
        curve = {}
        for k in args.concurrency:
            curve[k] = concurrent_throughput(k, args.data, args.trial_epochs, "cuda", train_graphs)
            print(f"{k} concurrent trials: {curve[k]:.0f} training graphs/s "
                  f"({curve[k] / curve[min(curve)]:.2f} x one trial)", flush=True)
        results["concurrent_trials_graphs_per_s"] = curve
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
