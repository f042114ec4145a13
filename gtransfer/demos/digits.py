"""The default demo: a small source-selection study on scikit-learn's digits, end to end.

Candidate "encoders" are feature maps of the 8x8 digit images: raw pixels, PCA, a random
projection, random ReLU features, and the hidden layers of small MLPs trained on *source* tasks
(digits 0-4, digits 5-9, parity, "is it >= 5", random labels). The *target* task is 10-digit
classification on held-out images. Each candidate is scored with every metric on the target's
training split (LEEP and NCE use the MLPs' own source heads, so they exist for those alone), then
probed (logistic regression on frozen features, accuracy on the test split): the ground truth.
The demo prints the ranking and how well each metric's ranking agrees with the ground truth.

    gtransfer demo --digits [--out results/demo-digits] [--with-nleep]
"""

from __future__ import annotations

import csv
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gtransfer import evaluation, metrics

FEATURE_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate", "knn_accuracy", "linear_probe_accuracy"]
SOURCE_METRICS = ["nce", "leep", "nce_normalized", "leep_normalized"]


@dataclass
class Candidate:
    name: str
    train_features: np.ndarray
    test_features: np.ndarray
    source_probs: np.ndarray | None = None  # the source head's probabilities on the target train split


def _mlp_candidate(
    name: str,
    source_x: np.ndarray,
    source_y: np.ndarray,
    target_train: np.ndarray,
    target_test: np.ndarray,
    hidden: int,
    seed: int,
) -> Candidate:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    with warnings.catch_warnings():
        # a few source MLPs stop at max_iter; they are still usable (and varied) encoders
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=500, random_state=seed).fit(source_x, source_y)

    def hidden_layer(x: np.ndarray) -> np.ndarray:
        return np.maximum(x @ model.coefs_[0] + model.intercepts_[0], 0.0)

    return Candidate(name, hidden_layer(target_train), hidden_layer(target_test), model.predict_proba(target_train))


def build_candidates(*, seed: int = 0) -> tuple[list[Candidate], np.ndarray, np.ndarray]:
    """Source models on one half of digits; the target task's train/test splits on the other half."""
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.model_selection import train_test_split

    images, digits = load_digits(return_X_y=True)
    images = images / 16.0
    source_x, target_x, source_digits, target_y = train_test_split(
        images, digits, test_size=0.5, stratify=digits, random_state=seed
    )
    train_x, test_x, train_y, test_y = train_test_split(
        target_x, target_y, test_size=0.5, stratify=target_y, random_state=seed
    )
    rng = np.random.default_rng(seed)
    candidates = [Candidate("raw pixels", train_x, test_x)]
    for k in (2, 8, 16):
        pca = PCA(n_components=k, random_state=seed).fit(source_x)
        candidates.append(Candidate(f"PCA-{k}", pca.transform(train_x), pca.transform(test_x)))
    for k in (8, 256):
        projection = rng.standard_normal((64, k)) / 8.0
        candidates.append(Candidate(f"random projection {k}", train_x @ projection, test_x @ projection))
    weights, bias = rng.standard_normal((64, 512)) / 4.0, rng.standard_normal(512)
    candidates.append(
        Candidate("random ReLU 512", np.maximum(train_x @ weights + bias, 0), np.maximum(test_x @ weights + bias, 0))
    )
    low = source_digits < 5
    sources = [
        ("MLP digits 0-4", source_x[low], source_digits[low]),
        ("MLP digits 5-9", source_x[~low], source_digits[~low] - 5),
        ("MLP parity", source_x, source_digits % 2),
        ("MLP >= 5", source_x, (source_digits >= 5).astype(int)),
        ("MLP random labels", source_x, rng.integers(0, 10, source_digits.size)),
    ]
    for i, (name, x, y) in enumerate(sources):
        candidates.append(_mlp_candidate(name, x, y, train_x, test_x, hidden=64, seed=seed + i))
    return candidates, train_y, test_y


def probe_accuracy(candidate: Candidate, train_y: np.ndarray, test_y: np.ndarray, *, seed: int = 0) -> float:
    """Ground truth: a logistic-regression probe on frozen features, test-split accuracy."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed))
    return float(model.fit(candidate.train_features, train_y).score(candidate.test_features, test_y))


def run(*, out: Path | None = None, with_nleep: bool = False, seed: int = 0) -> dict:
    start = time.perf_counter()
    candidates, train_y, test_y = build_candidates(seed=seed)
    feature_metrics = FEATURE_METRICS + (["nleep"] if with_nleep else [])
    rows = []
    for candidate in candidates:
        names = feature_metrics + (SOURCE_METRICS if candidate.source_probs is not None else [])
        scores = metrics.score_all(
            candidate.train_features, train_y, source_probs=candidate.source_probs, metrics=names
        )
        scores["probe_test_accuracy"] = probe_accuracy(candidate, train_y, test_y, seed=seed)
        rows.append({"candidate": candidate.name, "dim": candidate.train_features.shape[1], **scores})
    rows.sort(key=lambda row: -row["probe_test_accuracy"])
    print(f"Target: digits 0-9, {train_y.size} train / {test_y.size} test images; ground truth = probe accuracy\n")
    _print_table(rows, feature_metrics + SOURCE_METRICS)
    agreement = _agreement(rows, feature_metrics + SOURCE_METRICS)
    print("\nAgreement of each metric's ranking with the ground truth")
    print(f"  {'metric':24s} {'candidates':>10s} {'kendall':>8s} {'w-kendall':>9s} {'pearson':>8s} {'top-1 rel':>9s}")
    for name, values in agreement.items():
        print(
            f"  {name:24s} {values['candidates']:10d} {values['kendall']:8.3f} {values['weighted_kendall']:9.3f} "
            f"{values['pearson']:8.3f} {values['top1_relative_accuracy']:9.3f}"
        )
    if out is not None:
        _write(out, rows, agreement, feature_metrics + SOURCE_METRICS)
        print(f"\nWrote {out}/scores.csv, {out}/agreement.csv and {out}/metric_vs_accuracy.png")
    print(f"\nDone in {time.perf_counter() - start:.1f} s")
    return {"rows": rows, "agreement": agreement}


def _agreement(rows: list[dict], names: list[str]) -> dict:
    result = {}
    for name in names:
        subset = [row for row in rows if name in row]
        scores = np.array([row[name] for row in subset])
        truth = np.array([row["probe_test_accuracy"] for row in subset])
        result[name] = {
            "candidates": len(subset),
            **{measure: evaluation.CORRELATIONS[measure](scores, truth)
               for measure in ["kendall", "weighted_kendall", "pearson", "top1_relative_accuracy"]},
        }
    return result


def _print_table(rows: list[dict], names: list[str]) -> None:
    short = {"shrinkage_h_score": "H_alpha", "knn_accuracy": "knn", "linear_probe_accuracy": "probe_cv",
             "nce_normalized": "nce_norm", "leep_normalized": "leep_norm", "h_score": "H"}
    header = f"{'candidate':22s} {'dim':>4s} {'accuracy':>8s} " + " ".join(f"{short.get(n, n):>9s}" for n in names)
    print(header)
    for row in rows:
        cells = " ".join(f"{row[n]:9.3f}" if n in row else f"{'-':>9s}" for n in names)
        print(f"{row['candidate']:22s} {row['dim']:4d} {row['probe_test_accuracy']:8.3f} {cells}")


def _write(out: Path, rows: list[dict], agreement: dict, names: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    columns = ["candidate", "dim", "probe_test_accuracy"] + names
    with open(out / "scores.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    with open(out / "agreement.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["metric", "candidates", "kendall", "weighted_kendall", "pearson", "top1_relative_accuracy"])
        for name, values in agreement.items():
            writer.writerow([name] + [values[k] for k in ["candidates", "kendall", "weighted_kendall", "pearson",
                                                          "top1_relative_accuracy"]])
    cols = 4
    fig, axes = plt.subplots(
        (len(names) + cols - 1) // cols, cols, figsize=(4 * cols, 3.2 * ((len(names) + cols - 1) // cols))
    )
    for ax, name in zip(axes.flat, names):
        subset = [row for row in rows if name in row]
        ax.scatter([row[name] for row in subset], [row["probe_test_accuracy"] for row in subset])
        ax.set_title(f"{name} (tau={agreement[name]['kendall']:.2f})", fontsize=9)
        ax.set_xlabel("metric score", fontsize=8)
        ax.set_ylabel("probe accuracy", fontsize=8)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(out / "metric_vs_accuracy.png", dpi=110)
    plt.close(fig)
