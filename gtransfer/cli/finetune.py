"""``gtransfer finetune``: fine-tune an encoder on a target's split (the ``graph_finetune`` trial kind)."""

from __future__ import annotations

import argparse
import json

from gtransfer.cli.common import add_data_root_argument

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("finetune", help="fine-tune an encoder on a target (gtransfer.training.finetune)")
    p.add_argument("--encoder", required=True, help="encoder: a checkpoint file, published:NAME or random:ARCH")
    p.add_argument("--target", required=True, help="DATASET[:TASK] or DATASET:k=3,ratio=2, e.g. ogbg-molbace, ENZYMES:k=3")
    add_data_root_argument(p)
    p.add_argument("--max-samples", type=int, default=None, help="use at most this many target graphs")
    p.add_argument("--mode", choices=("full", "linear"), default="full")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--patience", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--out", help="also write the result as JSON here")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.io.atomic import write_text
    from gtransfer.studies.kinds.graph import graph_finetune_trial

    params = {
        "encoder": args.encoder, "target": args.target, "seed": args.seed, "mode": args.mode, "epochs": args.epochs,
        "lr": args.lr, "patience": args.patience, "device": args.device, "max_samples": args.max_samples,
        "data_root": args.data_root,
    }
    result = graph_finetune_trial(params)
    text = json.dumps(result, indent=1)
    if args.out:
        write_text(args.out, text)
    print(text)
    return 0
