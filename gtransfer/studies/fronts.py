"""Thin command-line fronts over the embedding, fine-tuning and pretraining code of the earlier issues.

Argument definitions are cheap (no torch import); the ``run_*`` functions import the heavy packages.
``gtransfer embed`` is :mod:`gtransfer.embed_dataset`'s own command.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = [
    "add_finetune_arguments", "add_embed_arguments", "add_pretrain_arguments",
    "run_finetune", "run_embed", "run_pretrain",
]


def add_embed_arguments(parser: argparse.ArgumentParser) -> None:
    """``gtransfer embed``: a dataset's embeddings under an encoder file, cached (gtransfer.embed_dataset)."""
    from gtransfer.embed_dataset import add_embed_arguments as add

    add(parser)


def run_embed(args: argparse.Namespace) -> int:
    from gtransfer.embed_dataset import run_embed_command

    run_embed_command(args)
    return 0


def add_finetune_arguments(parser: argparse.ArgumentParser) -> None:
    """``gtransfer finetune``: fine-tune an encoder on a target's split (the ``graph_finetune`` trial)."""
    parser.add_argument("--encoder", required=True, help="encoder: a checkpoint file, published:NAME or random:ARCH")
    parser.add_argument("--target", required=True, help="DATASET[:TASK] or DATASET:k=3,ratio=2, e.g. ogbg-molbace, ENZYMES:k=3")
    parser.add_argument("--data-root", help="data root (default: GTRANSFER_DATA or ../shared/data)")
    parser.add_argument("--max-samples", type=int, default=None, help="use at most this many target graphs")
    parser.add_argument("--mode", choices=("full", "linear"), default="full")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", help="also write the result as JSON here")


def run_finetune(args: argparse.Namespace) -> int:
    from gtransfer.studies.graph_trials import graph_finetune_trial

    params = {
        "encoder": args.encoder, "target": args.target, "seed": args.seed, "mode": args.mode, "epochs": args.epochs,
        "lr": args.lr, "patience": args.patience, "device": args.device, "max_samples": args.max_samples,
        "data_root": args.data_root,
    }
    result = graph_finetune_trial(params)
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text)
    print(text)
    return 0


def add_pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    """``gtransfer pretrain``: pretrain a zoo encoder on unlabelled molecules (gtransfer.pretrain)."""
    parser.add_argument("--out", required=True, help="checkpoint to write (resumed when it exists)")
    parser.add_argument("--arch", choices=("gin", "gcn", "graphsage", "gat"), default="gin")
    parser.add_argument("--strategy", default="attrmask", help="attrmask, edgepred, infomax or graphcl")
    parser.add_argument("--corpus", default="zinc250k-3small", help="pretraining corpus (gtransfer.data.corpus.CORPORA)")
    parser.add_argument("--molecules", type=int, default=2000, help="corpus molecules to use")
    parser.add_argument("--layers", type=int, default=5)
    parser.add_argument("--dim", type=int, default=300)
    parser.add_argument("--featurizer", choices=("hu2020", "ogb"), default="hu2020")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-root", help="data root (default: GTRANSFER_DATA or ../shared/data)")
    parser.add_argument("--no-progress", action="store_true")


def run_pretrain(args: argparse.Namespace) -> int:
    from gtransfer.studies.zoo import pretrain_zoo_encoder

    metadata = pretrain_zoo_encoder(
        args.out, arch=args.arch, strategy=args.strategy, corpus=args.corpus, molecules=args.molecules, epochs=args.epochs,
        layers=args.layers, dim=args.dim, featurizer=args.featurizer, lr=args.lr, seed=args.seed, device=args.device,
        data_root=args.data_root, progress=not args.no_progress,
    )
    print(json.dumps({"checkpoint": str(args.out), "loss_per_epoch": metadata.get("history", [])}))
    return 0
