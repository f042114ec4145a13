"""``gtransfer pretrain``: pretrain one encoder on a corpus or a dataset (resumes an interrupted run).

    python -m gtransfer.pretrain.cli --arch gin --strategy attrmask --corpus zinc250k-jtnn-test \
        --limit 2000 --epochs 5 --out gin_attrmask.pt
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import torch

from gtransfer.pretrain.registry import STRATEGIES

__all__ = ["add_pretrain_arguments", "run_pretrain_command", "main"]


def add_pretrain_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument("--arch", default="gin", choices=["gin", "gcn", "graphsage", "gat"])
    parser.add_argument("--strategy", required=True, choices=sorted(STRATEGIES))
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--corpus", help="pretraining corpus name (gtransfer.data.corpus.CORPORA)")
    source.add_argument("--dataset", help="any load_dataset name (labelled: needed for --strategy supervised)")
    parser.add_argument("--limit", type=int, default=None, help="first N molecules of the corpus")
    parser.add_argument("--featurizer", default="hu2020", choices=["hu2020", "ogb"])
    parser.add_argument("--num-layers", type=int, default=5)
    parser.add_argument("--hidden-dim", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--root", default=None)
    parser.add_argument("--device", default=None)
    parser.add_argument("--out", required=True, help="checkpoint path (resumed if it exists)")
    return parser


def run_pretrain_command(args: argparse.Namespace) -> dict:
    from gtransfer.data import load_dataset
    from gtransfer.data.corpus import read_corpus_smiles
    from gtransfer.embed import smiles_to_graphs
    from gtransfer.models import build_encoder
    from gtransfer.pretrain.runner import pretrain

    if args.corpus:
        graphs, _ = smiles_to_graphs(read_corpus_smiles(args.corpus, args.root, args.limit), args.featurizer,
                                     on_invalid="skip")
        name = f"{args.corpus}[:{args.limit}]" if args.limit else args.corpus
        node_features = args.featurizer
    else:
        graphs = load_dataset(args.dataset, root=args.root, featurizer=args.featurizer)
        name = args.dataset
        node_features = args.featurizer if graphs[0].x.dtype == torch.long else int(graphs[0].x.size(1))
    options = {}
    if args.strategy == "supervised":
        if not hasattr(graphs, "num_tasks"):
            raise ValueError("--strategy supervised needs a labelled molecule --dataset (e.g. ogbg-moltoxcast)")
        options["num_tasks"] = int(graphs.num_tasks)
    torch.manual_seed(args.seed)
    encoder = build_encoder({"arch": args.arch, "num_layers": args.num_layers, "hidden_dim": args.hidden_dim,
                             "node_features": node_features})
    meta = pretrain(encoder, args.strategy, graphs, args.out, epochs=args.epochs, corpus=name,
                    batch_size=args.batch_size, lr=args.lr, seed=args.seed, strategy_options=options,
                    device=args.device)
    print(json.dumps({"checkpoint": args.out, "epochs_done": meta["epochs_done"], "loss": meta["history"][-1]}))
    return meta


def main(argv: Sequence[str] | None = None) -> dict:
    parser = add_pretrain_arguments(argparse.ArgumentParser(prog="gtransfer pretrain", description=__doc__.split("\n")[0]))
    return run_pretrain_command(parser.parse_args(argv))


if __name__ == "__main__":
    main()
