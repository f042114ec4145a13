"""Each self-supervised pretraining strategy, pretrained on ZINC molecules, against random weights:
linear-probe ROC-AUC on BBBP and Tox21 (scaffold split).

Every strategy asked for (by default every one of :data:`gtransfer.pretrain.STRATEGIES` but ``supervised``,
which needs labels; the corpus has none) pretrains the same encoder (seed 0) on the first ``limit`` molecules
of ``corpus`` (:func:`gtransfer.pretrain.pretrain_encoder`; checkpoints under ``workdir``, resumed when
present). The baseline is the same architecture with random weights, one draw per random seed. Frozen
mean-pooled embeddings, per-task L2 logistic regression (C = 0.1, standardised features) fitted on the
scaffold train split, test ROC-AUC averaged over tasks (:func:`gtransfer.embeddings.probe.
probe_encoders_on_molecules`).

With ``probe_each_epoch`` the run is a curve: each strategy pretrains one epoch at a time (resuming its
checkpoint, so the weights equal an uninterrupted run's), a copy of the checkpoint is kept per epoch and
probed, and ``out`` is rewritten after every probe, so an interrupted run keeps every finished point.
Front end: ``experiments/pretrain_strategies_probe.py``.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gtransfer.data.corpus import read_corpus_smiles
from gtransfer.data.featurizers import smiles_to_graphs
from gtransfer.embeddings.probe import probe_encoders_on_molecules
from gtransfer.io.atomic import write_text
from gtransfer.models import build_encoder, load_encoder
from gtransfer.pretrain import pretrain_encoder

__all__ = ["probe_strategies", "summarise", "plot_curve"]


def probe_strategies(*, strategies: list[str], datasets: list[str], corpus: str = "zinc250k-jtnn-valid",
                     limit: int = 5000, epochs: int = 3, arch: str = "gin", layers: int = 3, dim: int = 128,
                     batch_size: int = 128, random_seeds: tuple[int, ...] | list[int] = (0, 1, 2),
                     data_root: str | None = None,
                     workdir: str | Path = ".cache/pretrain_strategies", out: str | Path | None = None,
                     probe_each_epoch: bool = False, settings: dict[str, Any] | None = None) -> list[dict]:
    """Probe the random-weight baselines, then each strategy after pretraining (after every epoch with
    ``probe_each_epoch``); every probe's row printed, and ``out`` (with ``settings``, the command's arguments)
    rewritten after each probe; the rows. With ``probe_each_epoch`` and ``out``, the curve is plotted beside it."""
    workdir = Path(workdir)
    config = {"arch": arch, "num_layers": layers, "hidden_dim": dim, "node_features": "hu2020"}
    results: list[dict] = []
    pretrain_seconds: dict[str, float] = {}

    def probe(encoders: dict[str, torch.nn.Module], epoch: int | None = None) -> None:
        for name in datasets:
            for weights, auc in probe_encoders_on_molecules(encoders, name, root=data_root).items():
                row = {"dataset": name, "arch": arch, "weights": weights, "test_rocauc": auc}
                if epoch is not None:
                    row["epoch"] = epoch
                results.append(row)
                print(json.dumps(row), flush=True)
        if out:
            write_text(out, json.dumps({"settings": settings or {}, "pretrain_seconds": pretrain_seconds,
                                        "results": results, "summary": summarise(datasets, results)}, indent=1))

    randoms = {}
    for seed in random_seeds:
        torch.manual_seed(seed)
        randoms[f"random_seed{seed}"] = build_encoder(config).eval()
    probe(randoms)

    graphs = None
    if probe_each_epoch:  # featurised once for all the one-epoch calls below
        graphs, _ = smiles_to_graphs(
            read_corpus_smiles(corpus, root=data_root, limit=limit), "hu2020", on_invalid="skip"
        )
    for strategy in strategies:
        path = workdir / f"{arch}_l{layers}_d{dim}_{strategy}_{corpus}_{limit}_e{epochs}.pt"
        for done in range(1, epochs + 1) if probe_each_epoch else [epochs]:
            start = time.perf_counter()
            meta = pretrain_encoder(path, strategy, arch=arch, corpus=corpus, limit=limit, graphs=graphs,
                                    num_layers=layers, hidden_dim=dim, epochs=done, batch_size=batch_size, seed=0,
                                    root=data_root, device="cpu", progress=False)
            pretrain_seconds[strategy] = pretrain_seconds.get(strategy, 0.0) + time.perf_counter() - start
            print(json.dumps({"pretrained": strategy, "epochs": done, "loss_history": meta["history"],
                              "seconds": round(pretrain_seconds[strategy], 1)}), flush=True)
            if probe_each_epoch:
                kept = path.with_name(f"{path.stem}_epoch{done}.pt")
                shutil.copyfile(path, kept)
                probe({strategy: load_encoder(kept)}, epoch=done)
            else:
                probe({strategy: load_encoder(path)})
    print(json.dumps(summarise(datasets, results), indent=1))
    if out and probe_each_epoch:
        plot_curve(results, datasets, Path(out).with_suffix(".png"))
    return results


def summarise(datasets: list[str], results: list[dict]) -> dict[str, dict[str, float]]:
    """Per dataset: mean and standard deviation of the random-weight probes and each strategy's probe
    (its last epoch's when the run probed every epoch)."""
    summary = {}
    for name in datasets:
        rows = [r for r in results if r["dataset"] == name]
        random = [r["test_rocauc"] for r in rows if r["weights"].startswith("random")]
        summary[name] = {"random_mean": float(np.mean(random)), "random_std": float(np.std(random)),
                         **{r["weights"]: r["test_rocauc"] for r in rows if not r["weights"].startswith("random")}}
    return summary


def plot_curve(results: list[dict], datasets: list[str], path: Path) -> None:
    """One panel per dataset: each strategy's probe ROC-AUC against its epochs, over the random-weight
    seeds (dotted) and their mean +- standard deviation (band)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(datasets), figsize=(4.2 * len(datasets), 3.4), squeeze=False)
    for ax, name in zip(axes[0], datasets):
        rows = [r for r in results if r["dataset"] == name]
        random = np.array([r["test_rocauc"] for r in rows if r["weights"].startswith("random")])
        for value in random:
            ax.axhline(value, color="grey", linestyle=":", linewidth=0.8)
        ax.axhspan(random.mean() - random.std(), random.mean() + random.std(), color="grey", alpha=0.25,
                   label=f"random weights ({random.size} seeds)")
        for strategy in dict.fromkeys(r["weights"] for r in rows if "epoch" in r):
            points = sorted((r["epoch"], r["test_rocauc"]) for r in rows if r["weights"] == strategy and "epoch" in r)
            ax.plot(*zip(*points), marker="o", label=strategy)
        ax.set(title=name, xlabel="pretraining epoch", ylabel="probe test ROC-AUC (scaffold)")
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")
