"""``gtransfer corpus``: featurise a pretraining corpus into shards, resumably
(:func:`gtransfer.data.corpus.featurize_corpus`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gtransfer.cli.common import add_data_root_argument, add_max_samples_argument

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("corpus", help="featurise a pretraining corpus into shards (resumable)",
                       description="Featurise a SMILES corpus of the data root into graph shards that `gtransfer "
                                   "pretrain --corpus` reads. Each finished shard is kept, so a run that is stopped "
                                   "resumes where it was.")
    p.add_argument("corpus", help="corpus name, e.g. moses-train, zinc250k-jtnn-test (gtransfer.data.corpus.CORPORA)")
    p.add_argument("--out", required=True, help="shard folder (an earlier partial run there is resumed)")
    p.add_argument("--featurizer", default="ogb", choices=["ogb", "hu2020"],
                   help="atom and bond features (default ogb)")
    p.add_argument("--workers", type=int, default=1, help="parallel featurising processes (default 1)")
    p.add_argument("--shard-size", type=int, default=10_000, help="molecules per shard (default 10,000)")
    add_max_samples_argument(p, "featurise only the first N molecules")
    add_data_root_argument(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.data.corpus import CORPORA, featurize_corpus

    if args.corpus not in CORPORA:
        raise ValueError(f"unknown corpus {args.corpus!r}; the corpora are {', '.join(sorted(CORPORA))}")
    try:
        result = featurize_corpus(args.corpus, args.out, featurizer=args.featurizer, num_workers=args.workers,
                                  shard_size=args.shard_size, limit=args.max_samples, root=args.data_root)
    except KeyboardInterrupt:
        done = len(list(Path(args.out).glob("shard_*.pt")))
        print(
            f"\ngtransfer corpus: interrupted; {done} shards are complete in {args.out} (the shards being built are "
            "not); "
            "run the same command again to resume",
            file=sys.stderr,
        )
        return 130
    print(json.dumps(result, indent=1))
    return 0
