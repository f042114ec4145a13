"""Each self-supervised pretraining strategy, pretrained on ZINC molecules, against random weights:
linear-probe ROC-AUC on BBBP and Tox21 (scaffold split).

Every strategy of :data:`gtransfer.pretrain.STRATEGIES` but ``supervised`` (which needs labels; the corpus
has none) pretrains the same encoder (``--arch``, ``--layers``, ``--dim``, seed 0) on the first ``--limit``
molecules of ``--corpus`` for ``--epochs`` epochs (:func:`gtransfer.pretrain.pretrain_encoder`; checkpoints
under ``--workdir``, resumed when present). The baseline is the same architecture with random weights,
``--random-seeds`` draws. Frozen mean-pooled embeddings, per-task L2 logistic regression (C = 0.1,
standardised features) fitted on the scaffold train split, test ROC-AUC averaged over tasks
(:func:`gtransfer.training.probe.probe_rocauc`).

    python experiments/pretrain_strategies_probe.py --limit 5000 --epochs 3 --out experiments/results/pretrain_strategies_probe.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from gtransfer.embeddings.probe import probe_encoders_on_molecules
from gtransfer.models import build_encoder, load_encoder
from gtransfer.pretrain import STRATEGIES, pretrain_encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="zinc250k-jtnn-valid")
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--arch", default="gin", choices=["gin", "gcn", "graphsage", "gat"])
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--strategies", nargs="+", default=[s for s in STRATEGIES if s != "supervised"])
    parser.add_argument("--datasets", nargs="+", default=["ogbg-molbbbp", "ogbg-moltox21"])
    parser.add_argument("--random-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--workdir", default=".cache/pretrain_strategies", help="checkpoints (resumed when present)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    workdir = Path(args.workdir)
    config = {"arch": args.arch, "num_layers": args.layers, "hidden_dim": args.dim, "node_features": "hu2020"}

    encoders: dict[str, torch.nn.Module] = {}
    pretrain_seconds: dict[str, float] = {}
    for strategy in args.strategies:
        path = workdir / f"{args.arch}_l{args.layers}_d{args.dim}_{strategy}_{args.corpus}_{args.limit}_e{args.epochs}.pt"
        start = time.perf_counter()
        meta = pretrain_encoder(path, strategy, arch=args.arch, corpus=args.corpus, limit=args.limit, num_layers=args.layers,
                                hidden_dim=args.dim, epochs=args.epochs, batch_size=args.batch_size, seed=0, root=args.data_root,
                                device="cpu", progress=False)
        pretrain_seconds[strategy] = time.perf_counter() - start
        print(json.dumps({"pretrained": strategy, "loss_history": meta["history"], "seconds": round(pretrain_seconds[strategy], 1)}), flush=True)
        encoders[strategy] = load_encoder(path)
    for seed in args.random_seeds:
        torch.manual_seed(seed)
        encoders[f"random_seed{seed}"] = build_encoder(config).eval()

    results = []
    for name in args.datasets:
        for weights, auc in probe_encoders_on_molecules(encoders, name, root=args.data_root).items():
            results.append({"dataset": name, "arch": args.arch, "weights": weights, "test_rocauc": auc})
            print(json.dumps(results[-1]), flush=True)
    summary = {}
    for name in args.datasets:
        random = [r["test_rocauc"] for r in results if r["dataset"] == name and r["weights"].startswith("random")]
        summary[name] = {"random_mean": float(np.mean(random)), "random_std": float(np.std(random)),
                         **{r["weights"]: r["test_rocauc"] for r in results if r["dataset"] == name and not r["weights"].startswith("random")}}
    print(json.dumps(summary, indent=1))
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"settings": vars(args), "pretrain_seconds": pretrain_seconds, "results": results,
                                              "summary": summary}, indent=1))


if __name__ == "__main__":
    main()
