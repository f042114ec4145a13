"""``gtransfer embed``: a dataset's embeddings under an encoder, cached (:func:`gtransfer.embeddings.embed_dataset`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gtransfer.cli.common import add_data_root_argument, add_max_samples_argument

__all__ = ["add_parser", "run"]

SPLITS = ("all", "train", "valid", "test")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "embed",
        help="embed a dataset with an encoder and save the features as .npy (gtransfer.embeddings)",
        description="Embed a dataset (or one split of it) with an encoder; the features and labels are cached, "
        "and with --out copied where `gtransfer score --features OUT --labels OUT.labels.npy` reads them.",
    )
    p.add_argument(
        "encoder",
        help="encoder: a checkpoint file (gtransfer, published pretrain_gnns .pth, DGL), published:NAME or random:ARCH",
    )
    p.add_argument("dataset", help="dataset name, e.g. ogbg-molbbbp, MUTAG, Cora")
    p.add_argument(
        "--split",
        default="all",
        choices=SPLITS,
        help="the target grammar's split, as in `gtransfer rank`: scaffold for molecules, stratified 80/10/10 (by "
        "--sample-seed) for TU and Planetoid datasets (Cora train = 2,166 nodes)",
    )
    p.add_argument("--pooling", default="mean", choices=["mean", "sum", "max"],
                   help="how node embeddings make a graph's (default mean; rank embeds with the encoder's own pooling, "
                        "mean for published and random encoders)")
    p.add_argument("--layer", type=int, default=None, help="layer 0..L instead of the JK output")
    p.add_argument(
        "--level", default=None, choices=["graph", "node"], help="default: node for Cora/CiteSeer, graph otherwise"
    )
    p.add_argument("--featurizer", default=None, choices=["ogb", "hu2020"],
                   help="molecule atom features (default: the ones the encoder was trained on)")
    p.add_argument("--arch", default=None, help="architecture of a published file whose name does not say it")
    add_data_root_argument(p)
    add_max_samples_argument(p, "at most this many samples, as in rank: the target cut to N, the same share of "
                                "every split and class")
    p.add_argument(
        "--sample-seed", type=int, default=0, help="seed of the subsample and of the stratified split (default 0)"
    )
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="cache root, shared with `gtransfer rank`: embeddings are kept in DIR/embeddings "
                        "(default: $GTRANSFER_CACHE, else ~/.cache/gtransfer)")
    p.add_argument("--batch-size", type=int, default=256, help="graphs per batch (default 256)")
    p.add_argument("--device", default=None,
                   help="torch device: cpu, cuda or cuda:N (default: a GPU when there is one, else cpu)")
    p.add_argument(
        "--out", default=None, help="also copy the features here (.npy), with .json metadata and .labels.npy"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.embeddings.dataset import embed_dataset
    from gtransfer.io.atomic import copy_file, write_json

    try:
        entry = embed_dataset(
            args.encoder,
            args.dataset,
            split=args.split,
            pooling=args.pooling,
            layer=args.layer,
            level=args.level,
            featurizer=args.featurizer,
            arch=args.arch,
            root=args.data_root,
            cache=args.cache,
            batch_size=args.batch_size,
            device=args.device,
            max_samples=args.max_samples,
            sample_seed=args.sample_seed,
            progress=not args.no_progress,
        )
    except KeyboardInterrupt:
        print("\ngtransfer embed: interrupted; no embedding was cached or written (one is stored only when complete)",
              file=sys.stderr)
        return 130
    features, labels = entry.path, entry.labels_path
    if args.out:
        out = Path(args.out)
        copy_file(entry.path, out)
        write_json(out.with_suffix(".json"), entry.metadata)
        features = out
        if entry.labels_path is not None:
            labels = out.with_suffix(".labels.npy")
            copy_file(entry.labels_path, labels)
    printed = {"path": str(features), "from_cache": entry.from_cache, "shape": entry.metadata["shape"]}
    if labels is not None:
        printed.update(labels=str(labels), labels_shape=entry.metadata["labels_shape"])
    print(json.dumps(printed))
    if labels is not None:
        import numpy as np

        from gtransfer.cli.score import real_valued

        regression = real_valued(np.load(labels, mmap_mode="r", allow_pickle=False))
        multi = len(entry.metadata["labels_shape"]) == 2 and entry.metadata["labels_shape"][1] > 1 and not regression
        flag = " --regression" if regression else " --task all" if multi else ""
        print(f"next: gtransfer score --features {features} --labels {labels}{flag}", file=sys.stderr)
        if regression:
            print("(real-valued targets: --regression scores them with LogME's regression form)", file=sys.stderr)
        elif multi:
            print(
                f"({entry.metadata['labels_shape'][1]} tasks, NaN where a molecule has no label: --task K scores "
                "task K, "
                "--task all each task)",
                file=sys.stderr,
            )
    return 0
