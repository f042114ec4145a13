"""``gtransfer score``: every transferability metric on one embedding matrix."""

from __future__ import annotations

import argparse
import json

from gtransfer.cli.common import CommandError

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("score", help="every transferability metric on one embedding matrix")
    p.add_argument("--features", required=True, help="(n, d) features: F.npy or F.npz[:key]")
    p.add_argument("--labels", required=True, help="(n,) integer labels 0..C-1: y.npy or y.npz[:key]")
    p.add_argument("--source-probs", help="(n, Z) source-model probabilities for LEEP/NCE: P.npy or P.npz[:key]")
    p.add_argument("--metrics", help="comma-separated metric names (default: all that apply)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table")
    p.add_argument("--device", default=None, help="compute the covariance-based metrics on this torch device, e.g. cuda (default: cpu)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gtransfer.io.arrays import load_array

    features = load_array(args.features, "features", "features")
    labels = load_array(args.labels, "labels", "labels")
    source_probs = load_array(args.source_probs, "source_probs", "source probabilities") if args.source_probs else None
    if features.ndim != 2:
        raise ValueError(f"features must be a 2-D (n, d) array, got shape {features.shape}")
    if labels.ndim != 1 or labels.shape[0] != features.shape[0]:
        raise ValueError(f"labels must have shape ({features.shape[0]},) to match the features, got {labels.shape}")
    if source_probs is not None and (source_probs.ndim != 2 or source_probs.shape[0] != features.shape[0]):
        raise ValueError(f"source probabilities must have shape ({features.shape[0]}, Z), got {source_probs.shape}")
    try:
        from gtransfer.metrics import score_all
    except ImportError as exc:
        raise CommandError(f"the metric core is not available: {exc}", "reinstall gtransfer (pip install -e .)") from None
    metrics = args.metrics.split(",") if args.metrics else None
    # features as loaded, in their own dtype: the metric core accumulates float32 in float64 block by block
    scores = score_all(features, labels, source_probs=source_probs, metrics=metrics, device=args.device)
    scores = {name: float(value) for name, value in scores.items()}
    if args.format == "json":
        print(json.dumps(scores, indent=1))
    elif args.format == "csv":
        print("metric,value")
        for name, value in scores.items():
            print(f"{name},{value!r}")
    else:
        width = max(map(len, scores), default=6)
        for name, value in scores.items():
            print(f"{name:<{width}}  {value: .10g}")
    return 0
