"""``gtransfer pretrain``: pretrain one encoder on a corpus or a dataset (:func:`gtransfer.pretrain.pretrain_encoder`).

    gtransfer pretrain --arch gin --strategy attrmask --corpus zinc250k-jtnn-test --max-samples 2000 \\
        --epochs 5 --out gin_attrmask.pt

An interrupted run resumes from ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gtransfer.cli.common import add_data_root_argument, add_max_samples_argument, check_output_file

__all__ = ["add_parser", "run"]

#: the strategies' names, listed here so that ``--help`` does not import torch
STRATEGY_NAMES = ("attrmask", "contextpred", "edgepred", "graphcl", "infomax", "supervised")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("pretrain", help="pretrain an encoder on a molecule corpus or a dataset (gtransfer.pretrain)",
                       description="Pretrain a GNN encoder with one self-supervised (or supervised) strategy on a "
                                   "molecule corpus or a dataset, and write a checkpoint that every command takes as "
                                   "an encoder. A checkpoint at --out is resumed; each epoch is saved as it ends.")
    p.add_argument("--arch", default="gin", choices=["gin", "gcn", "graphsage", "gat"],
                   help="GNN architecture (default gin)")
    p.add_argument("--strategy", required=True, choices=STRATEGY_NAMES,
                   help="pretraining objective (docs/training.md); supervised needs a labelled --dataset")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="pretraining corpus name (gtransfer.data.corpus.CORPORA)")
    source.add_argument("--dataset", help="any load_dataset name (labelled: needed for --strategy supervised)")
    add_max_samples_argument(p, "first N molecules of the corpus")
    p.add_argument("--featurizer", default="hu2020", choices=["hu2020", "ogb"],
                   help="molecule atom features (default hu2020, the published encoders' input)")
    p.add_argument("--num-layers", type=int, default=5, help="GNN layers (default 5)")
    p.add_argument("--hidden-dim", type=int, default=300, help="embedding width (default 300)")
    p.add_argument("--epochs", type=int, default=10, help="epochs in all, counting those of a resumed run (default 10)")
    p.add_argument("--batch-size", type=int, default=256, help="graphs per batch (default 256)")
    p.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the initial weights and of each epoch's randomness (default 0)")
    add_data_root_argument(p)
    p.add_argument("--device", default=None,
                   help="torch device: cpu, cuda or cuda:N (default: a GPU when there is one, else cpu)")
    p.add_argument("--out", required=True, help="checkpoint path (resumed if it exists)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.pretrain import pretrain_encoder

    check_output_file(args.out)  # before any pretraining, not after an epoch
    try:
        meta = pretrain_encoder(
            args.out, args.strategy, arch=args.arch, corpus=args.corpus, dataset=args.dataset, limit=args.max_samples,
            featurizer=args.featurizer, num_layers=args.num_layers, hidden_dim=args.hidden_dim, epochs=args.epochs,
            batch_size=args.batch_size, lr=args.lr, seed=args.seed, root=args.data_root, device=args.device,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print(f"\ngtransfer pretrain: interrupted; {_epochs_saved(args.out)}", file=sys.stderr)
        return 130
    print(json.dumps({"checkpoint": args.out, "epochs_done": meta["epochs_done"], "loss": meta["history"][-1]}))
    return 0


def _epochs_saved(out: str) -> str:
    """What an interrupted run left in ``out``: the checkpoint is written atomically after each epoch."""
    if not Path(out).is_file():
        return f"no epoch had finished, so nothing was saved to {out}"
    from gtransfer.io.checkpoints import load_checkpoint

    try:
        done = int(load_checkpoint(out)[1].get("epochs_done", 0))
    except (ValueError, OSError) as exc:
        return f"{out} could not be read back ({exc})"
    return (f"{done} finished epoch(s) are saved in {out}; the epoch that was running is lost. Rerun the same "
            "command to resume.")
