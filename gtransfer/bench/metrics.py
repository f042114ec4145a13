"""Benchmarks of the metric core: each metric's time as a ratio to one bare Gram product.

    python -m gtransfer.bench metrics --n 50000 --d 2048 --classes 100 [--device cuda]
    python -m gtransfer.bench suite        # the four configurations the README reports

The baseline is one X^T X (or X X^T when n < d, whichever is smaller) on the same data, timed in
the same run; ratios are therefore comparable across machines, absolute times are not. The
textbook route (scikit-learn's LedoitWolf, the n x d class-mean matrix, pinv) is timed too.
Each timing is the best of ``--repeat`` runs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from gtransfer import metrics
from gtransfer.metrics.textbook import textbook_h_score, textbook_shrinkage_h_score

if TYPE_CHECKING:
    import torch

    from gtransfer.metrics import Array

FAST_SCORE_ALL = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate"]

# (name, n, d, classes, metric, target ratio) from the acceptance criteria
SUITE = [
    ("H_alpha, n >> d", 50000, 2048, 100, "shrinkage_h_score", 1.3),
    ("H_alpha, n < d", 1000, 4096, 10, "shrinkage_h_score", 1.5),
    ("LogME", 20000, 1024, 100, "logme", 3.0),
    ("score_all (no nleep/knn/probe)", 50000, 2048, 100, "score_all", 3.5),
]


def make_features(
    n: int, d: int, classes: int, seed: int = 0, device: str = "cpu"
) -> tuple[np.ndarray, np.ndarray] | tuple[torch.Tensor, torch.Tensor]:
    """Synthetic embeddings with class structure and a non-zero mean, float64."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    features = rng.standard_normal((n, d))
    features += (rng.standard_normal((classes, d)) * 0.5)[labels]
    features += 1.0
    if device != "cpu":
        import torch

        return torch.from_numpy(features).to(device), torch.from_numpy(labels).to(device)
    return features, labels


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def best_time(fn: Callable, repeat: int, device: str = "cpu") -> float:
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        _synchronize(device)
        start = time.perf_counter()
        fn()
        _synchronize(device)
        best = min(best, time.perf_counter() - start)
    return best


def gram_baseline(features: Array) -> Callable[[], Array]:
    """One bare Gram product on the smaller side, as numpy or torch computes it."""
    n, d = features.shape
    if n >= d:
        return lambda: features.T @ features
    return lambda: features @ features.T


def metric_runner(name: str, features: Array, labels: Array) -> Callable[[], float | dict[str, float]]:
    if name == "score_all":
        return lambda: metrics.score_all(features, labels, metrics=FAST_SCORE_ALL)
    return lambda: metrics.METRICS[name](features, labels)


def run_metrics(
    n: int,
    d: int,
    classes: int,
    names: list[str],
    device: str = "cpu",
    repeat: int = 2,
    textbook: bool = True,
    seed: int = 0,
    progress: bool = False,
) -> dict:
    from tqdm.auto import tqdm

    features, labels = make_features(n, d, classes, seed, device)
    side = "X^T X" if n >= d else "X X^T"
    baseline = best_time(gram_baseline(features), max(repeat, 3), device)
    rows = []
    textbooks = [("textbook h_score", textbook_h_score), ("textbook shrinkage_h_score", textbook_shrinkage_h_score)]
    textbooks = textbooks if textbook and device == "cpu" else []
    bar = tqdm(total=len(names) + len(textbooks), desc=f"bench n={n} d={d}", unit="metric", disable=not progress, dynamic_ncols=True)
    for name in names:
        bar.set_postfix_str(name)
        seconds = best_time(metric_runner(name, features, labels), repeat, device)
        rows.append({"metric": name, "seconds": seconds, "ratio": seconds / baseline})
        bar.update(1)
    for name, fn in textbooks:
        bar.set_postfix_str(name)
        seconds = best_time(lambda fn=fn: fn(features, labels), 1)
        rows.append({"metric": name, "seconds": seconds, "ratio": seconds / baseline})
        bar.update(1)
    bar.close()
    return {"n": n, "d": d, "classes": classes, "device": device, "baseline": side, "baseline_seconds": baseline, "rows": rows}


def print_report(report: dict) -> None:
    print(
        f"n={report['n']} d={report['d']} C={report['classes']} device={report['device']}: "
        f"one {report['baseline']} = {report['baseline_seconds']:.3f} s"
    )
    times = {row["metric"]: row["seconds"] for row in report["rows"]}
    print(f"  {'metric':32s} {'seconds':>9s} {'x ' + report['baseline']:>10s}")
    for row in report["rows"]:
        print(f"  {row['metric']:32s} {row['seconds']:9.3f} {row['ratio']:10.2f}")
    for name in ["h_score", "shrinkage_h_score"]:
        if name in times and f"textbook {name}" in times:
            print(f"  textbook / gtransfer for {name}: {times['textbook ' + name] / times[name]:.1f}x")


def run_suite(repeat: int, device: str) -> list[dict]:
    results = []
    for label, n, d, classes, name, target in SUITE:
        report = run_metrics(n, d, classes, [name], device, repeat, textbook=False)
        ratio = report["rows"][0]["ratio"]
        results.append({"case": label, "n": n, "d": d, "classes": classes, "metric": name, "ratio": ratio,
                        "target": target, "baseline": report["baseline"], "baseline_seconds": report["baseline_seconds"]})
        verdict = "ok" if ratio <= target else "OVER TARGET"
        print(f"{label:34s} n={n:6d} d={d:5d} C={classes:4d}  {ratio:5.2f}x one {report['baseline']} "
              f"(target <= {target}x) {verdict}", flush=True)
    return results
