"""``gtransfer rank-sources``: rank source datasets or pretraining corpora for a target dataset by a label-free
graph estimator (:func:`gtransfer.selection.source_datasets.rank_source_datasets`)."""

from __future__ import annotations

import argparse
import json

from gtransfer.cli.common import CommandError, add_data_root_argument

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rank-sources",
        help="rank source datasets or pretraining corpora for a target by graph structure (label-free)",
        description="Compare a sample of each source's graphs with a sample of the target's and rank the sources, "
        "higher is better. egi: minus EGI's ego-graph gap (Zhu et al. 2021); graphon (experimental): minus the "
        "square-loss Gromov-Wasserstein distance between the collections' graphons (after W2PGNN, Cao et "
        "al. 2023). Structure only: no labels, features or encoders are read, so the ranking says which "
        "data resembles the target, not which model will transfer. docs/metrics.md has the formulas.",
    )
    p.add_argument("--target", required=True, help="the target dataset, e.g. ogbg-molbbbp, MUTAG, Cora")
    p.add_argument(
        "--sources",
        required=True,
        nargs="+",
        metavar="SOURCE",
        help="datasets (ogbg-moltox21, PTC_MR, ...) or pretraining corpora (moses-test, zinc250k-jtnn-valid, "
        "...; zinc = zinc250k-jtnn-valid, moses = moses-train)",
    )
    p.add_argument(
        "--estimator", choices=("egi", "graphon"), default="egi", help="egi (default) or graphon (experimental)"
    )
    p.add_argument("--max-graphs", dest="max_graphs", type=int, default=500, metavar="N",
                   help="graphs drawn from each dataset, without replacement (default 500; 0 for all)")
    p.add_argument(
        "--seed", type=int, default=0, help="seeds the graph draws and EGI's pair and fan-out draws (default 0)"
    )
    p.add_argument("--num-pairs", dest="num_pairs", type=int, default=1000, metavar="M",
                   help="egi: node pairs drawn per source (default 1000; Monte-Carlo error about 1/sqrt(M))")
    p.add_argument("--resolution", type=int, default=32, metavar="K", help="graphon: the K x K grid (default 32)")
    add_data_root_argument(p)
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.selection.source_datasets import rank_source_datasets

    if args.max_graphs < 0:
        raise CommandError(f"--max-graphs must be 0 (every graph) or positive, got {args.max_graphs}",
                           "pass --max-graphs N, e.g. 500")
    if args.num_pairs < 1 or args.resolution < 1:
        raise CommandError(f"--num-pairs and --resolution must be positive, got {args.num_pairs} and {args.resolution}",
                           "the defaults are --num-pairs 1000 and --resolution 32")
    ranking = rank_source_datasets(
        args.target, args.sources, estimator=args.estimator, max_graphs=args.max_graphs or None, seed=args.seed,
        data_root=args.data_root, num_pairs=args.num_pairs, resolution=args.resolution, progress=not args.no_progress,
    )
    attrs = ranking.attrs
    if args.format == "json":
        print(json.dumps({**attrs, "ranking": ranking.to_dict(orient="records")}, indent=1))
    elif args.format == "csv":
        print(ranking.to_csv(index=False), end="")
    else:
        print(f"target {attrs['target']}: {attrs['target_graphs']} graphs, {attrs['target_nodes']} nodes "
              f"(seed {attrs['seed']}); score = {attrs['description']}, higher is better")
        print(ranking.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    return 0
