"""``gtransfer embed``: a dataset's embeddings under an encoder file, cached (:func:`gtransfer.embeddings.embed_dataset`)."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from gtransfer.cli.common import add_data_root_argument

__all__ = ["add_parser", "run"]

SPLITS = ("all", "train", "valid", "test")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("embed", help="embed a dataset with an encoder file and save the features as .npy (gtransfer.embeddings)")
    p.add_argument("checkpoint", help="encoder file: a gtransfer checkpoint or a published pretrain_gnns .pth")
    p.add_argument("dataset", help="dataset name, e.g. ogbg-molbbbp, MUTAG, Cora")
    p.add_argument("--split", default="all", choices=SPLITS)
    p.add_argument("--pooling", default="mean", choices=["mean", "sum", "max"])
    p.add_argument("--layer", type=int, default=None, help="layer 0..L instead of the JK output")
    p.add_argument("--level", default="graph", choices=["graph", "node"])
    p.add_argument("--featurizer", default=None, choices=["ogb", "hu2020"])
    p.add_argument("--arch", default=None, help="architecture of a published file whose name does not say it")
    add_data_root_argument(p)
    p.add_argument("--cache", default=None, help="cache root (default GTRANSFER_CACHE or ~/.cache/gtransfer)")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--device", default=None)
    p.add_argument("--out", default=None, help="also copy the features here (.npy), with .json metadata and .labels.npy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.embeddings.dataset import embed_dataset
    from gtransfer.io.atomic import write_json

    entry = embed_dataset(args.checkpoint, args.dataset, split=args.split, pooling=args.pooling, layer=args.layer,
                          level=args.level, featurizer=args.featurizer, arch=args.arch, root=args.data_root,
                          cache=args.cache, batch_size=args.batch_size, device=args.device)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(entry.path, out)
        write_json(out.with_suffix(".json"), entry.metadata)
        if entry.labels_path is not None:
            shutil.copyfile(entry.labels_path, out.with_suffix(".labels.npy"))
    print(json.dumps({"path": str(entry.path), "from_cache": entry.from_cache, "shape": entry.metadata["shape"]}))
    return 0
