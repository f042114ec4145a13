"""A pretrained checkpoint fine-tuned against random initialisations of the same architecture, paired by seed.

Seed ``s`` is one pack of two trials: the checkpoint and ``random:ARCH:layers=L,dim=D,seed=s`` (its
architecture at random initialisation), with the same head seed and data order, so each seed gives one paired
difference of test ROC-AUC (pretrained - random). The design and its statistics:
:mod:`gtransfer.studies.designs.finetune_against_random`.

Every finished pack is appended to ``--out`` (JSON lines) and skipped when the script is rerun, so an
interrupted run resumes; the summary (mean paired gain, its standard error, and whether the gain is at
least ``--margin`` and more than two standard errors) is printed, and written beside ``--out`` as
``<stem>_summary.json``.

    python experiments/finetune_against_random.py CHECKPOINT --datasets ogbg-molbbbp ogbg-moltox21 \\
        --seeds 0 1 2 3 4 5 6 7 8 9 --epochs 50 --patience 10 \\
        --out experiments/results/finetune_contextpred_vs_random.jsonl
"""

from __future__ import annotations

import argparse

import torch

from gtransfer.studies.designs.finetune_against_random import finetune_against_random


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a gtransfer encoder checkpoint (its architecture names the random twin)")
    parser.add_argument("--datasets", nargs="+", default=["ogbg-molbbbp", "ogbg-moltox21"])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--margin", type=float, default=0.01,
                        help="the gain the summary calls met (with > 2 standard errors)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: a GPU when there is one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True, help="JSON lines, one row per (dataset, seed); resumed when present")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    finetune_against_random(args.checkpoint, datasets=args.datasets, seeds=args.seeds, out=args.out,
                            margin=args.margin, settings=vars(args), epochs=args.epochs, patience=args.patience,
                            batch_size=args.batch_size, lr=args.lr, data_root=args.data_root, device=args.device)


if __name__ == "__main__":
    main()
