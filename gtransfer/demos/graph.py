"""``gtransfer demo``: rank published and zoo encoders for a shipped molecule target, check by fine-tuning.

The target is BACE (``ogbg-molbace``, shipped in ``datasets/``). Candidates are the nine published
Hu et al. 2020 encoders (when the data root has them) and three untrained zoo encoders. Each is
scored on the training split with the metric core, then fine-tuned (full, scaffold split); the
demo prints both rankings and how well each metric's ranking matches fine-tuning. Everything goes
through a resumable sweep, so an interrupted demo continues where it stopped.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["demo_spec", "run_demo", "metric_verdicts"]

TARGET = "ogbg-molbace"
ZOO = ("random:gin:seed=0", "random:gin:seed=1", "random:gcn:seed=0")
#: NCE and LEEP are left out: they read a source model's head, and the published and random encoders have
#: none (a graph source zoo with heads: gtransfer.pretrain.source_zoo, docs/studies.md)
METRICS = ["shrinkage_h_score", "h_score", "logme", "gbc", "transrate"]


def _available_published(root: str | os.PathLike | None) -> list[str]:
    from gtransfer.models.specs import PUBLISHED_ENCODERS, published_encoder_path

    found = []
    for name in PUBLISHED_ENCODERS:
        try:
            published_encoder_path(name, root=root)
            found.append(f"published:{name}")
        except FileNotFoundError:
            pass
    return found


def demo_spec(
    encoders: list[str],
    quick: bool,
    *,
    data_root: str | os.PathLike | None = None,
    max_samples: int | None = None,
    epochs: int | None = None,
) -> dict:
    """The demo's study spec: scores and fine-tuning of ``encoders`` on BACE."""
    params = {"max_samples": max_samples or (300 if quick else 600), "cache": "cache"}
    if data_root is not None:
        params["data_root"] = str(Path(data_root).resolve())
    return {
        "name": "demo-quick" if quick else "demo",
        "description": "Source selection on BACE: metric rankings of published and zoo encoders against fine-tuning.",
        "encoders": encoders,
        "targets": [TARGET],
        "params": params,
        "stages": [
            {"kind": "graph_score", "seeds": [0], "params": {"metrics": METRICS}},
            {
                "kind": "graph_finetune",
                "seeds": [0],
                "params": {"epochs": epochs or (2 if quick else 4), "patience": 4},
            },
        ],
        "report": {
            "scores": "graph_score",
            "truth": "graph_finetune",
            "truth_metrics": ["test_roc_auc"],
            "n_boot": 200,
        },
    }


def metric_verdicts(table: pd.DataFrame, metrics: list[str], truth: str) -> list[str]:
    """One line per metric: its Spearman correlation with ``truth`` over the rows and the encoder it picks.

    A metric constant over the encoders (H-score is C - 1 for all when n < d) picks nothing: its line
    says "constant: no ranking" instead of naming the first row as its pick. A Spearman correlation
    that is undefined for another reason (the truth is constant, a value is not finite) is "n/a".
    """
    from gtransfer.evaluation import numerically_constant, spearman

    truth_values = table[truth].to_numpy(dtype=np.float64)
    best = table.loc[int(np.argmax(truth_values)), "encoder"]
    width = max(map(len, metrics), default=6)
    lines = []
    for metric in metrics:
        values = table[metric].to_numpy(dtype=np.float64)
        if not np.all(np.isfinite(values)):
            lines.append(
                f"{metric:<{width}}  Spearman n/a   ({int((~np.isfinite(values)).sum())} non-finite values: no ranking)"
            )
            continue
        if numerically_constant(values):
            lines.append(
                f"{metric:<{width}}  Spearman n/a (constant)   constant: no ranking ({values[0]:.4g} for every encoder)"
            )
            continue
        rho = spearman(values, truth_values)
        chosen = table.loc[int(np.argmax(values)), "encoder"]
        shown = "n/a (constant truth)" if rho != rho else f"{rho:+.2f}"
        verdict = "  (the best)" if chosen == best and not numerically_constant(truth_values) else ""
        lines.append(f"{metric:<{width}}  Spearman {shown}   picks {chosen}{verdict}")
    return lines


def run_demo(
    *,
    data_root: str | os.PathLike | None = None,
    out_dir: str | os.PathLike = "results/demo",
    quick: bool = False,
    workers: int = 1,
    encoders: list[str] | None = None,
    max_samples: int | None = None,
    epochs: int | None = None,
) -> pd.DataFrame:
    """Run the demo, print the rankings, return the table (encoder, metric values, fine-tuned ROC-AUC).

    Args:
        encoders: candidates (default: the published encoders found in the data root and the zoo).
        max_samples, epochs: override the preset's molecules (600; quick 300) and epochs (4; quick 2).

    Raises:
        ValueError: fewer than 3 candidates, or ``max_samples`` below 50.
    """
    from gtransfer.studies.experiment import run_study

    if encoders is None:
        published = _available_published(data_root)
        if not published:
            print(
                "demo: the published encoders are not in the data root (checkpoints/pretrain_gnns/chem/); ranking the "
                "zoo only"
            )
        encoders = (published[:3] + list(ZOO[:2])) if quick else (published + list(ZOO))
    if len(encoders) < 3:
        raise ValueError(f"the demo needs at least 3 encoders to compare rankings, got {len(encoders)}")
    if max_samples is not None and max_samples < 50:
        raise ValueError(f"--max-samples must be at least 50 (the test split needs both classes), got {max_samples}")
    spec = demo_spec(list(encoders), quick, data_root=data_root, max_samples=max_samples, epochs=epochs)
    print(
        f"demo: {len(encoders)} encoders on {TARGET}: metric scores, then fine-tuning (resumable; results in {out_dir})"
    )
    report = run_study(spec, out_dir, workers=workers)
    table = pd.read_csv(report.parent / "scores_and_truth.csv")
    table = table.sort_values("test_roc_auc", ascending=False).reset_index(drop=True)
    shown = table[["encoder", "test_roc_auc", "shrinkage_h_score", "logme", "h_score", "gbc"]]
    print("\nEncoders by fine-tuned test ROC-AUC (BACE, scaffold split), with their metric scores:")
    print(shown.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\nHow each metric's ranking matches fine-tuning ({len(table)} encoders):")
    for line in metric_verdicts(table, METRICS, "test_roc_auc"):
        print(f"  {line}")
    print("  (NCE and LEEP need a source model's head; these encoders have none, so the demo leaves them out)")
    print(f"\nreport: {report}")
    return table
