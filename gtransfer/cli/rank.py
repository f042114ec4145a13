"""``gtransfer rank``: rank encoders for a target by metrics (:func:`gtransfer.selection.rank_encoders`)."""

from __future__ import annotations

import argparse
import json
import sys
import warnings

from gtransfer.cli.common import add_data_root_argument, add_max_samples_argument

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rank",
        help="rank encoders for a target by their metric scores",
        description="Embed the target's training split once per encoder and rank the encoders by the first metric. "
        "With shrinkage_h_score the table also shows its shrinkage alpha and the plain h_score.",
    )
    p.add_argument(
        "--target",
        required=True,
        help="DATASET[:TASK], e.g. ogbg-molbbbp, ogbg-moltox21:NR-AR, ogbg-moltox21 (every task: mean over tasks), "
        "ogbg-molesol (regression), ENZYMES:k=3,ratio=2",
    )
    p.add_argument(
        "--encoders",
        required=True,
        nargs="+",
        help="encoder checkpoints (published .pth, gtransfer or DGL encoder checkpoints), published:NAME or "
        "random:ARCH",
    )
    p.add_argument(
        "--metrics",
        nargs="+",
        default=None,
        metavar="METRIC",
        help="metrics to compute (space- or comma-separated); the first ranks (default shrinkage_h_score; "
        "logme, the one with a regression form, on regression targets); ncti and etran are pool-relative: "
        "each encoder is scored against the others given",
    )
    p.add_argument("--metric", dest="metrics", nargs="+", help=argparse.SUPPRESS)
    add_data_root_argument(p)
    add_max_samples_argument(p, "embed at most this many target samples")
    p.add_argument("--cache", default=None, metavar="DIR",
                   help="cache root, shared with `gtransfer embed`: embeddings are kept in DIR/embeddings and reused "
                        "by "
                        "later runs (default: $GTRANSFER_CACHE, else ~/.cache/gtransfer)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format (default table)")
    p.add_argument("--source", choices=("head", "kmeans-stand-in"), default="head",
                   help="NCE/LEEP only: the encoder's source head (default; NaN without one) or kmeans-stand-in "
                        "(k-means of the target's own embeddings: a clustering score, not a source model)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--device", default=None, help="compute the metric on this torch device, e.g. cuda (default: cpu)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.data.roots import cache_dir
    from gtransfer.selection.ranking import rank_encoders

    metrics = [name for item in args.metrics for name in item.split(",") if name] if args.metrics else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ranking = rank_encoders(
            args.target, args.encoders, metrics=metrics, data_root=args.data_root, max_samples=args.max_samples,
            cache=cache_dir(args.cache) / "embeddings", progress=not args.no_progress, source=args.source,
            device=args.device,
        )
    for warning in caught:
        if not str(warning.message).startswith("skipped encoder "):
            warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    skipped, refused = ranking.attrs.get("skipped", {}), ranking.attrs.get("refused", {})
    if args.format == "json":
        print(json.dumps({"target": args.target, "ranking": ranking.to_dict(orient="records"), "skipped": skipped,
                          "refused": refused}, indent=1))
    elif args.format == "csv":
        print(ranking.to_csv(index=False), end="")
    else:
        sources = ranking.pop("source") if "source" in ranking.columns else None
        print(ranking.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        if sources is not None:  # NCE/LEEP: say what each value was computed from
            from gtransfer.metrics.registry import SOURCE_METRICS

            named = [m for m in ranking.columns if m in SOURCE_METRICS]
            print(f"\n{'/'.join(named) or 'NCE/LEEP'} source per encoder (--source {args.source}):")
            for encoder, source in zip(ranking["encoder"], sources):
                print(f"  {encoder}: {source}")
        from gtransfer.metrics import POOL_METRICS

        pooled = [m for m in ranking.columns if m in POOL_METRICS]
        if pooled:  # their values are relative to this table's encoders
            print(f"\n{', '.join(pooled)}: pool-relative, min-max over these {len(ranking)} encoders; "
                  "compare within this table only")
    for encoder, reasons in refused.items():  # NaN in the table: say why, under it (on stderr for a program)
        for metric, reason in reasons.items():
            print(f"{encoder}: {metric} not scored: {reason}",
                  file=sys.stdout if args.format == "table" else sys.stderr)
    for reason in skipped.values():
        print(f"skipped: {reason}", file=sys.stderr)
    return 0
