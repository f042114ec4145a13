"""Benchmarks of the metric core: each metric's time as a ratio to one bare Gram product.

    python -m gtransfer.bench metrics --n 50000 --d 2048 --classes 100 [--device cuda] [--dtype float32]
    python -m gtransfer.bench suite [--device cuda]   # the configurations of docs/benchmarks.md, with targets

The baseline is one X^T X (or X X^T when n < d, whichever is smaller) on the same data, in float64,
timed in the same run; ratios are therefore comparable across machines, absolute times are not. The
textbook route (scikit-learn's LedoitWolf, the n x d class-mean matrix, pinv) is timed too (CPU).
Each timing is the best of ``--repeat`` runs. On CUDA, the peak GPU memory a call allocates beyond the
features themselves is reported as well. The suite times each case's metric, its Gram baseline and its reference
(where the case names one: tllib's algorithms from :mod:`gtransfer.bench.references`, or the same metric on a
numpy array) interleaved, one call of each per round, so that a shared machine's load hits them alike.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gtransfer import metrics
from gtransfer.metrics.textbook import textbook_h_score, textbook_shrinkage_h_score

if TYPE_CHECKING:
    import torch

    from gtransfer.metrics import Array

FAST_SCORE_ALL = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate"]


@dataclass(frozen=True)
class Case:
    """One configuration of the suite: a metric (or ``score_all``) against one float64 Gram product."""

    label: str
    n: int
    d: int
    classes: int
    metric: str
    target: float
    dtype: str = "float64"
    gpu_only: bool = False  # too large for a 2-core CPU run
    #: a reference timed in the same run (a name of ``gtransfer.bench.references.REFERENCES``, or "numpy" for the
    #: same metric on the same data as a numpy array), and the most the case may take of its time
    reference: str | None = None
    reference_target: float | None = None
    #: "torch_cpu": the features as a CPU torch tensor on the same memory (``torch.from_numpy``)
    container: str = "numpy"


# the targets of issues 10 and 13; the GPU-only cases are issue 13's large ones
SUITE = [
    Case("H_alpha, n >> d", 50000, 2048, 100, "shrinkage_h_score", 1.3),
    Case("H_alpha, n < d", 1000, 4096, 10, "shrinkage_h_score", 1.5),
    Case("LogME", 20000, 1024, 100, "logme", 3.0),
    Case("score_all (no nleep/knn/probe)", 50000, 2048, 100, "score_all", 3.5),
    Case("score_all, n < d", 1000, 4096, 10, "score_all", 3.5),
    Case("score_all, n < d, C=100", 1000, 4096, 100, "score_all", 3.5),
    Case("H_alpha on float32", 50000, 2048, 100, "shrinkage_h_score", 1.3, dtype="float32"),
    Case("TransRate, C=1000", 200000, 2048, 1000, "transrate", 3.0, gpu_only=True),
    Case("GBC, C=1000", 200000, 2048, 1000, "gbc", 3.0, gpu_only=True),
    Case("score_all, 200000 x 2048", 200000, 2048, 1000, "score_all", 3.5, gpu_only=True),
    # issue 26, the pool-relative metrics: one model's components (a pool of M costs M times this)
    Case("NCTI components", 20000, 1024, 100, "ncti", 3.0),
    Case("NCTI components, n < d", 1000, 4096, 10, "ncti", 3.5),
    Case("ETran components", 20000, 1024, 100, "etran", 3.0),
    Case("ETran components, n < d", 1000, 4096, 10, "etran", 4.0),
    # issue 26, the metrics newer than the paper (targets: docs/benchmarks.md)
    Case("LogME, C=10", 20000, 1024, 10, "logme", 3.0),
    Case("SFDA", 20000, 1024, 100, "sfda", 6.0),
    Case("PACTran-Gaussian, C=10", 20000, 1024, 10, "pactran_gaussian", 5.0),
    Case("PARC, n=5000 (its cap)", 5000, 1024, 100, "parc", 15.0),
    Case("PACTran-Dirichlet, Z=1000", 20000, 1024, 100, "pactran_dirichlet", 8.0),
    Case("PACTran-Gamma, Z=1000", 20000, 1024, 100, "pactran_gamma", 8.0),
    # issue 28: the last gaps, each against its reference timed in the same run (see gtransfer.bench.references)
    Case("LEEP, n=500, Z=1000", 500, 1000, 10, "leep", 100.0, reference="tllib_leep", reference_target=1.0),
    Case("LEEP, n=5000, Z=1000", 5000, 1000, 10, "leep", 100.0, reference="tllib_leep", reference_target=1.0),
    Case("LEEP, n=20000, Z=1000", 20000, 1000, 10, "leep", 100.0, reference="tllib_leep", reference_target=1.0),
    Case("TransRate, 5000 x 512", 5000, 512, 10, "transrate", 3.0, reference="tllib_transrate", reference_target=1.0),
    Case("score_all, 5000 x 512", 5000, 512, 10, "score_all", 3.5),
    Case("LogME, 20000 x 4096", 20000, 4096, 10, "logme", 3.0),
    Case("H-score, CPU torch tensor", 20000, 1024, 10, "h_score", 1.3, reference="numpy", reference_target=1.1,
         container="torch_cpu"),
]


def make_features(
    n: int, d: int, classes: int, *, seed: int = 0, device: str = "cpu", dtype: str = "float64"
) -> tuple[np.ndarray, np.ndarray] | tuple[torch.Tensor, torch.Tensor]:
    """Synthetic embeddings with class structure and a non-zero mean; torch tensors made on the
    device itself when it is not the CPU."""
    if device != "cpu":
        import torch

        generator = torch.Generator(device=device).manual_seed(seed)
        labels = torch.randperm(n, generator=generator, device=device) % classes
        features = torch.randn((n, d), generator=generator, device=device, dtype=torch.float64)
        features += (torch.randn((classes, d), generator=generator, device=device, dtype=torch.float64) * 0.5)[labels]
        features += 1.0
        return features.to(getattr(torch, dtype)), labels
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    features = rng.standard_normal((n, d))
    features += (rng.standard_normal((classes, d)) * 0.5)[labels]
    features += 1.0
    return features.astype(dtype, copy=False), labels


def _synchronize(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def best_time(fn: Callable, repeat: int, *, device: str = "cpu") -> float:
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
    """One bare float64 Gram product on the smaller side, as numpy or torch computes it."""
    n, d = features.shape
    if str(features.dtype) not in ("float64", "torch.float64"):
        features = features.double() if hasattr(features, "double") else features.astype(np.float64)
    if n >= d:
        return lambda: features.T @ features
    return lambda: features @ features.T


def peak_gpu_bytes(fn: Callable, device: str) -> int | None:
    """Peak GPU memory ``fn`` allocates beyond what was allocated before it (None off CUDA)."""
    if not device.startswith("cuda"):
        return None
    import torch

    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    fn()
    torch.cuda.synchronize()
    return int(torch.cuda.max_memory_allocated() - before)


def metric_runner(name: str, features: Array, labels: Array) -> Callable[[], float | dict[str, float]]:
    if name == "score_all":
        return lambda: metrics.score_all(features, labels, metrics=FAST_SCORE_ALL)
    if name in metrics.POOL_METRIC_SPECS:  # a pool metric's cost is its per-model components, once per model
        return lambda: metrics.POOL_METRIC_SPECS[name].components(features, labels)
    if name in metrics.SOURCE_METRICS:
        probs = stand_in_source_probs(features)
        return lambda: metrics.METRICS[name](probs, labels)
    return lambda: metrics.METRICS[name](features, labels)


def stand_in_source_probs(features: Array, *, source_classes: int = 1000) -> np.ndarray:
    """Source probabilities for the source metrics' cases: a softmax over the first ``source_classes``
    feature columns (host float64), made outside the timed call."""
    block = features[:, :source_classes]
    block = block.detach().cpu().numpy() if hasattr(block, "detach") else block
    logits = np.asarray(block, dtype=np.float64)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    return probs / probs.sum(1, keepdims=True)


def run_metrics(
    n: int,
    d: int,
    classes: int,
    names: list[str],
    *,
    device: str = "cpu",
    repeat: int = 2,
    textbook: bool = True,
    seed: int = 0,
    dtype: str = "float64",
    progress: bool = False,
) -> dict:
    from tqdm.auto import tqdm

    features, labels = make_features(n, d, classes, seed=seed, device=device, dtype=dtype)
    side = "X^T X" if n >= d else "X X^T"
    baseline = best_time(gram_baseline(features), max(repeat, 3), device=device)
    rows = []
    textbooks = [("textbook h_score", textbook_h_score), ("textbook shrinkage_h_score", textbook_shrinkage_h_score)]
    textbooks = textbooks if textbook and device == "cpu" else []
    bar = tqdm(
        total=len(names) + len(textbooks),
        desc=f"bench n={n} d={d}",
        unit="metric",
        disable=not progress,
        dynamic_ncols=True,
    )
    for name in names:
        bar.set_postfix_str(name)
        run = metric_runner(name, features, labels)
        seconds = best_time(run, repeat, device=device)
        rows.append(
            {
                "metric": name,
                "seconds": seconds,
                "ratio": seconds / baseline,
                "peak_gpu_bytes": peak_gpu_bytes(run, device),
            }
        )
        bar.update(1)
    for name, fn in textbooks:
        bar.set_postfix_str(name)
        seconds = best_time(lambda fn=fn: fn(features, labels), 1)
        rows.append({"metric": name, "seconds": seconds, "ratio": seconds / baseline, "peak_gpu_bytes": None})
        bar.update(1)
    bar.close()
    return {"n": n, "d": d, "classes": classes, "device": device, "dtype": dtype, "baseline": side,
            "baseline_seconds": baseline, "rows": rows}


def print_report(report: dict) -> None:
    print(
        f"n={report['n']} d={report['d']} C={report['classes']} device={report['device']} {report['dtype']}: "
        f"one float64 {report['baseline']} = {report['baseline_seconds']:.3f} s"
    )
    times = {row["metric"]: row["seconds"] for row in report["rows"]}
    print(f"  {'metric':32s} {'seconds':>9s} {'x ' + report['baseline']:>10s} {'peak GPU GiB':>13s}")
    for row in report["rows"]:
        peak = "" if row["peak_gpu_bytes"] is None else f"{row['peak_gpu_bytes'] / 2**30:.2f}"
        print(f"  {row['metric']:32s} {row['seconds']:9.3f} {row['ratio']:10.2f} {peak:>13s}")
    for name in ["h_score", "shrinkage_h_score"]:
        if name in times and f"textbook {name}" in times:
            print(f"  textbook / gtransfer for {name}: {times['textbook ' + name] / times[name]:.1f}x")


def interleaved_best_times(fns: Sequence[Callable[[], object]], repeat: int, *, device: str = "cpu") -> list[float]:
    """The best time of each of ``fns`` over ``repeat`` rounds, each round calling every one once in turn: on a
    shared machine, a load spike then slows the candidates and their baseline alike instead of one of them."""
    best = [float("inf")] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            best[i] = min(best[i], best_time(fn, 1, device=device))
    return best


def run_case(case: Case, repeat: int, *, device: str = "cpu") -> dict:
    """One suite case: the metric, one float64 Gram product and the case's reference, interleaved (best of
    ``repeat``)."""
    from gtransfer.bench.references import REFERENCES

    features, labels = make_features(case.n, case.d, case.classes, seed=0, device=device, dtype=case.dtype)
    run = metric_runner(case.metric, features, labels)
    if case.container == "torch_cpu":
        import torch

        run = metric_runner(case.metric, torch.from_numpy(np.asarray(features)), torch.from_numpy(np.asarray(labels)))
    fns = [gram_baseline(features), run]
    if case.reference == "numpy":
        fns.append(metric_runner(case.metric, features, labels))
    elif case.reference is not None:
        reference = REFERENCES[case.reference][1]
        data = stand_in_source_probs(features) if case.metric in metrics.SOURCE_METRICS else features
        host_labels = np.asarray(labels)  # the references run on the CPU, as the suite's reference cases do
        fns.append(lambda: reference(np.asarray(data), host_labels))
    for fn in fns:  # first calls pay imports and allocator growth: not timed
        fn()
    times = interleaved_best_times(fns, repeat, device=device)
    n, d = case.n, case.d
    return {
        "case": case.label,
        "n": n,
        "d": d,
        "classes": case.classes,
        "metric": case.metric,
        "dtype": case.dtype,
        "ratio": times[1] / times[0],
        "target": case.target,
        "seconds": times[1],
        "peak_gpu_bytes": peak_gpu_bytes(run, device),
        "baseline": "X^T X" if n >= d else "X X^T",
        "baseline_seconds": times[0],
        "reference": case.reference,
        "reference_seconds": times[2] if len(times) > 2 else None,
        "reference_ratio": times[1] / times[2] if len(times) > 2 else None,
        "reference_target": case.reference_target,
    }


def _reference_name(name: str) -> str:
    from gtransfer.bench.references import REFERENCES

    return "the same numpy array" if name == "numpy" else REFERENCES[name][0]


def run_suite(repeat: int, device: str, *, match: str | None = None) -> list[dict]:
    """Every case of ``SUITE`` that fits the device (the large ones only on CUDA) and whose label contains
    ``match`` (all by default), printed as it runs. Each case times the metric, its Gram baseline and its
    reference interleaved (see ``interleaved_best_times``)."""
    results = []
    on_gpu = device.startswith("cuda")
    for case in SUITE:
        if (case.gpu_only and not on_gpu) or (match is not None and match.lower() not in case.label.lower()):
            continue
        if on_gpu and case.container == "torch_cpu":
            continue
        row = run_case(case, repeat, device=device)
        results.append(row)
        ratio, peak = row["ratio"], row["peak_gpu_bytes"]
        verdict = "ok" if ratio <= case.target else "OVER TARGET"
        if case.reference is not None:
            within = "ok" if row["reference_ratio"] <= case.reference_target else "OVER TARGET"
            verdict += (
                f"; {row['reference_ratio']:.2f}x {_reference_name(case.reference)} (target <= "
                f"{case.reference_target}x) "
                f"{within}"
            )
        memory = "" if peak is None else f", peak {peak / 2**30:.2f} GiB"
        print(
            f"{case.label:34s} n={case.n:6d} d={case.d:5d} C={case.classes:4d}  {ratio:5.2f}x one float64 "
            f"{row['baseline']} "
            f"(target <= {case.target}x) {verdict}{memory}",
            flush=True,
        )
        if on_gpu:
            import torch

            torch.cuda.empty_cache()
    if not on_gpu:
        results += run_graph_suite(repeat, match=match)
    return results


# -- the label-free graph estimators (issue 26 item 6): no features, so their own baselines ----------------------------

@dataclass(frozen=True)
class GraphCase:
    """One graph-estimator configuration: two collections of ``graphs`` molecule-like graphs each."""

    label: str
    estimator: str  # "egi" or "graphon"
    graphs: int
    target: float


GRAPH_SUITE = [
    # EGI: 1000 seeded pairs of 2-hop ego-graphs; baseline: 1000 symmetric 16 x 16 eigenvalue problems, batched (the
    # spectral norms alone, at about the padded ego-graph size); the rest is ego-graph extraction and padding
    GraphCase("EGI gap, 1000 pairs", "egi", 500, 20.0),
    # graphon: K = 32 estimates of both collections and two GW solves; baseline: reading both collections into CSR
    # adjacencies (one scipy.sparse.csr_matrix per graph), the least any estimator on these inputs does
    GraphCase("graphon distance, K=32", "graphon", 500, 6.0),
]


def molecule_like_graphs(count: int, *, seed: int = 0) -> list[tuple[int, np.ndarray]]:
    """``count`` graphs of 10-40 nodes: a random tree of maximum degree 4 plus one ring-closing edge per 8 nodes,
    drawn by ``numpy.random.default_rng(seed)`` (the shape of drug-like molecules' heavy-atom graphs)."""
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(count):
        n = int(rng.integers(10, 41))
        degree = np.zeros(n, dtype=int)
        edges = []
        for node in range(1, n):
            open_nodes = np.flatnonzero(degree[:node] < 4)
            parent = int(rng.choice(open_nodes))
            edges.append((parent, node))
            degree[[parent, node]] += 1
        present = set(edges)
        for _ in range(n // 8):
            a, b = (int(v) for v in rng.choice(n, size=2, replace=False))
            if (a, b) not in present and (b, a) not in present and degree[a] < 4 and degree[b] < 4:
                edges.append((a, b))
                present.add((a, b))
                degree[[a, b]] += 1
        graphs.append((n, np.array(edges, dtype=np.int64).T))
    return graphs


def run_graph_case(case: GraphCase, repeat: int) -> dict:
    """One graph case: the estimator's best time over ``repeat`` runs against its baseline's, timed in this run."""
    import scipy.sparse as sp

    from gtransfer.metrics.graph_egi import egi_score
    from gtransfer.metrics.graph_graphon import graphon_score

    source, target = molecule_like_graphs(case.graphs, seed=1), molecule_like_graphs(case.graphs, seed=2)
    if case.estimator == "egi":
        stack = np.random.default_rng(0).standard_normal((1000, 16, 16))
        stack = stack + stack.transpose(0, 2, 1)

        def baseline() -> object:
            return [np.linalg.eigvalsh(stack[i : i + 256]) for i in range(0, 1000, 256)]

        def run() -> float:
            return egi_score(source, target, num_pairs=1000, seed=0)

        side = "1000 eigvalsh 16x16"
    else:

        def baseline() -> object:
            return [sp.csr_matrix((np.ones(e.shape[1]), (e[0], e[1])), shape=(n, n)) for n, e in source + target]

        def run() -> float:
            return graphon_score(source, target, resolution=32)

        side = f"{2 * case.graphs} csr_matrix"
    base = best_time(baseline, max(repeat, 3))
    seconds = best_time(run, repeat)
    return {
        "case": case.label,
        "n": sum(n for n, _ in source + target),
        "d": None,
        "classes": None,
        "metric": case.estimator,
        "dtype": "float64",
        "ratio": seconds / base,
        "target": case.target,
        "seconds": seconds,
        "peak_gpu_bytes": None,
        "baseline": side,
        "baseline_seconds": base,
    }


def run_graph_suite(repeat: int, *, match: str | None = None) -> list[dict]:
    """Every case of ``GRAPH_SUITE`` whose label contains ``match`` (all by default; CPU: the estimators are
    numpy/scipy), printed as it runs."""
    results = []
    for case in GRAPH_SUITE:
        if match is not None and match.lower() not in case.label.lower():
            continue
        row = run_graph_case(case, repeat)
        verdict = "ok" if row["ratio"] <= case.target else "OVER TARGET"
        print(
            f"{case.label:34s} {case.graphs} + {case.graphs} graphs, {row['n']} nodes  {row['ratio']:5.2f}x "
            f"{row['baseline']} "
            f"(target <= {case.target}x) {verdict}, {row['seconds'] * 1e3:.0f} ms",
            flush=True,
        )
        results.append(row)
    return results
