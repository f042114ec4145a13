"""Thin command-line fronts over the data, model, fine-tuning and pretraining packages.

Argument definitions are cheap (no torch import); the ``run_*`` functions import the heavy packages.
"""

from __future__ import annotations

import argparse

__all__ = [
    "add_finetune_arguments", "add_embed_arguments", "add_pretrain_arguments",
    "run_finetune", "run_embed", "run_pretrain",
]


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--encoder", required=True, help="encoder checkpoint (published .pth or gtransfer checkpoint)")
    parser.add_argument("--target", required=True, help="DATASET[:TASK], e.g. ogbg-molbbbp or ogbg-moltox21:NR-AR")
    parser.add_argument("--data-root", help="data root (default: GTRANSFER_DATA or ../shared/data)")
    parser.add_argument("--max-samples", type=int, default=None, help="use at most this many target graphs")


def add_embed_arguments(parser: argparse.ArgumentParser) -> None:
    """``gtransfer embed``: features (and labels) of a target under an encoder, as .npy files."""
    _add_target_arguments(parser)
    parser.add_argument("--out", required=True, help="features file to write (.npy)")
    parser.add_argument("--labels-out", help="also write the target's labels here (.npy)")
    parser.add_argument("--no-progress", action="store_true")


def add_finetune_arguments(parser: argparse.ArgumentParser) -> None:
    """``gtransfer finetune``: fine-tune an encoder on a target's scaffold split."""
    _add_target_arguments(parser)
    parser.add_argument("--mode", choices=("full", "linear"), default="full")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--patience", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", help="write the result as JSON here")


def add_pretrain_arguments(parser: argparse.ArgumentParser) -> None:
    """``gtransfer pretrain``: pretrain a zoo encoder on the unlabelled molecule corpus."""
    parser.add_argument("--arch", choices=("gin", "gcn", "graphsage", "gat"), default="gin")
    parser.add_argument("--strategy", default="attrmask", help="pretraining strategy")
    parser.add_argument("--molecules", type=int, default=2000, help="corpus molecules to use")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-root", help="data root (default: GTRANSFER_DATA or ../shared/data)")
    parser.add_argument("--out", required=True, help="checkpoint file to write")


def run_embed(args: argparse.Namespace) -> int:
    import numpy as np

    from gtransfer.studies.ranking import embed_target

    features, labels = embed_target(args.encoder, args.target, data_root=args.data_root, max_samples=args.max_samples, progress=not args.no_progress)
    np.save(args.out, features)
    if args.labels_out:
        np.save(args.labels_out, labels)
    print(f"{args.out}: features {features.shape}" + (f"; {args.labels_out}: labels {labels.shape}" if args.labels_out else ""))
    return 0


def run_finetune(args: argparse.Namespace) -> int:
    from gtransfer.studies.graph_trials import finetune_on_target

    result = finetune_on_target(
        args.encoder, args.target, mode=args.mode, epochs=args.epochs, lr=args.lr, patience=args.patience,
        seed=args.seed, device=args.device, data_root=args.data_root, max_samples=args.max_samples,
    )
    import json

    text = json.dumps(result, indent=1)
    if args.out:
        from pathlib import Path

        Path(args.out).write_text(text)
    print(text)
    return 0


def run_pretrain(args: argparse.Namespace) -> int:
    from gtransfer.studies.graph_trials import pretrain_zoo_encoder

    path = pretrain_zoo_encoder(args.arch, args.strategy, args.out, molecules=args.molecules, epochs=args.epochs, seed=args.seed, data_root=args.data_root)
    print(path)
    return 0
