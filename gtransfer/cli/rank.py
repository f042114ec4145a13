"""``gtransfer rank``: rank encoders for a target by a metric (:func:`gtransfer.selection.rank_encoders`)."""

from __future__ import annotations

import argparse

from gtransfer.cli.common import add_data_root_argument

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("rank", help="rank encoders for a target by their metric scores")
    p.add_argument("--target", required=True, help="DATASET[:TASK], e.g. ogbg-molbbbp, ogbg-moltox21:NR-AR, ENZYMES:k=3,ratio=2")
    p.add_argument("--encoders", required=True, nargs="+",
                   help="encoder checkpoints (published .pth, gtransfer or DGL encoder checkpoints), published:NAME or random:ARCH")
    p.add_argument("--metric", default="shrinkage_h_score", help="metric to rank by (default shrinkage_h_score)")
    add_data_root_argument(p)
    p.add_argument("--max-samples", type=int, default=None, help="embed at most this many target graphs")
    p.add_argument("--cache", help="folder caching the embeddings (default: none)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--device", default=None, help="compute the metric on this torch device, e.g. cuda (default: cpu)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.selection.ranking import rank_encoders

    ranking = rank_encoders(
        args.target, args.encoders, metric=args.metric, data_root=args.data_root, max_samples=args.max_samples,
        cache=args.cache, progress=not args.no_progress, device=args.device,
    )
    print(ranking.to_string(index=False))
    return 0
