"""Linear-probe ROC-AUC of the nine published Hu et al. 2020 chem encoders vs. random weights.

Frozen mean-pooled embeddings, per-task L2 logistic regression (C = 0.1, standardised features)
fitted on the scaffold train split, test ROC-AUC averaged over tasks (:func:`gtransfer.training.probe.probe_rocauc`).
The random baseline is the same architecture with torch's default initialisation (seed 0, BatchNorm
at its initial statistics).

    python experiments/probe_published.py --datasets ogbg-molbbbp ogbg-moltox21 \
        --out experiments/results/probe_published.json
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import torch

from gtransfer.embeddings.probe import probe_encoders_on_molecules
from gtransfer.models import build_encoder, load_pretrain_gnns

STRATEGIES = ("supervised", "contextpred", "supervised_contextpred")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["ogbg-molbbbp", "ogbg-moltox21"])
    parser.add_argument("--archs", nargs="+", default=["gcn", "graphsage", "gat"])
    parser.add_argument("--data", default=None)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    chem = Path(args.data or os.environ.get("GTRANSFER_DATA", "../shared/data")) / "checkpoints/pretrain_gnns/chem"
    results = []
    for name in args.datasets:
        for arch in args.archs:
            encoders = {s: load_pretrain_gnns(chem / f"{arch}_{s}.pth") for s in STRATEGIES}
            torch.manual_seed(0)
            encoders["random"] = build_encoder(encoders["supervised"].config).eval()
            for label, auc in probe_encoders_on_molecules(encoders, name, root=args.data).items():
                results.append({"dataset": name, "arch": arch, "weights": label, "test_rocauc": auc})
                print(json.dumps(results[-1]), flush=True)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
