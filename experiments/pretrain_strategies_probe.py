"""Each self-supervised pretraining strategy, pretrained on ZINC molecules, against random weights:
linear-probe ROC-AUC on BBBP and Tox21 (scaffold split).

Every strategy of :data:`gtransfer.pretrain.STRATEGIES` but ``supervised`` (which needs labels; the corpus
has none) pretrains the same encoder (``--arch``, ``--layers``, ``--dim``, seed 0) on the first ``--limit``
molecules of ``--corpus`` for ``--epochs`` epochs (:func:`gtransfer.pretrain.pretrain_encoder`; checkpoints
under ``--workdir``, resumed when present). The baseline is the same architecture with random weights,
``--random-seeds`` draws. Frozen mean-pooled embeddings, per-task L2 logistic regression (C = 0.1,
standardised features) fitted on the scaffold train split, test ROC-AUC averaged over tasks
(:func:`gtransfer.training.probe.probe_rocauc`).

With ``--probe-each-epoch`` the run is a curve: each strategy pretrains one epoch at a time (resuming its
checkpoint, so the weights equal an uninterrupted run's), a copy of the checkpoint is kept per epoch and
probed, and ``--out`` is rewritten after every probe, so an interrupted run keeps every finished point.

    python experiments/pretrain_strategies_probe.py --limit 5000 --epochs 3 --out experiments/results/pretrain_strategies_probe.json
    python experiments/pretrain_strategies_probe.py --strategies contextpred --corpus moses-train --limit 400000 \
        --epochs 4 --probe-each-epoch --out experiments/results/pretrain_contextpred_moses400k_curve.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from gtransfer.data.corpus import read_corpus_smiles
from gtransfer.data.featurizers import smiles_to_graphs
from gtransfer.embeddings.probe import probe_encoders_on_molecules
from gtransfer.models import build_encoder, load_encoder
from gtransfer.pretrain import STRATEGIES, pretrain_encoder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default="zinc250k-jtnn-valid")
    parser.add_argument("--limit", type=int, default=5000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--arch", default="gin", choices=["gin", "gcn", "graphsage", "gat"])
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--strategies", nargs="+", default=[s for s in STRATEGIES if s != "supervised"])
    parser.add_argument("--datasets", nargs="+", default=["ogbg-molbbbp", "ogbg-moltox21"])
    parser.add_argument("--random-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--workdir", default=".cache/pretrain_strategies", help="checkpoints (resumed when present)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None)
    parser.add_argument("--probe-each-epoch", action="store_true",
                        help="probe after every epoch (a curve over pretraining); --out is rewritten after each probe")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    workdir = Path(args.workdir)
    config = {"arch": args.arch, "num_layers": args.layers, "hidden_dim": args.dim, "node_features": "hu2020"}
    results: list[dict] = []
    pretrain_seconds: dict[str, float] = {}

    def probe(encoders: dict[str, torch.nn.Module], epoch: int | None = None) -> None:
        for name in args.datasets:
            for weights, auc in probe_encoders_on_molecules(encoders, name, root=args.data_root).items():
                row = {"dataset": name, "arch": args.arch, "weights": weights, "test_rocauc": auc}
                if epoch is not None:
                    row["epoch"] = epoch
                results.append(row)
                print(json.dumps(row), flush=True)
        write(args, results, pretrain_seconds)

    randoms = {}
    for seed in args.random_seeds:
        torch.manual_seed(seed)
        randoms[f"random_seed{seed}"] = build_encoder(config).eval()
    probe(randoms)

    graphs = None
    if args.probe_each_epoch:  # featurised once for all the one-epoch calls below
        graphs, _ = smiles_to_graphs(read_corpus_smiles(args.corpus, args.data_root, args.limit), "hu2020", on_invalid="skip")
    for strategy in args.strategies:
        path = workdir / f"{args.arch}_l{args.layers}_d{args.dim}_{strategy}_{args.corpus}_{args.limit}_e{args.epochs}.pt"
        for epochs in range(1, args.epochs + 1) if args.probe_each_epoch else [args.epochs]:
            start = time.perf_counter()
            meta = pretrain_encoder(path, strategy, arch=args.arch, corpus=args.corpus, limit=args.limit, graphs=graphs,
                                    num_layers=args.layers, hidden_dim=args.dim, epochs=epochs, batch_size=args.batch_size,
                                    seed=0, root=args.data_root, device="cpu", progress=False)
            pretrain_seconds[strategy] = pretrain_seconds.get(strategy, 0.0) + time.perf_counter() - start
            print(json.dumps({"pretrained": strategy, "epochs": epochs, "loss_history": meta["history"],
                              "seconds": round(pretrain_seconds[strategy], 1)}), flush=True)
            if args.probe_each_epoch:
                kept = path.with_name(f"{path.stem}_epoch{epochs}.pt")
                shutil.copyfile(path, kept)
                probe({strategy: load_encoder(kept)}, epoch=epochs)
            else:
                probe({strategy: load_encoder(path)})
    print(json.dumps(summarise(args.datasets, results), indent=1))
    if args.out and args.probe_each_epoch:
        plot_curve(results, args.datasets, Path(args.out).with_suffix(".png"))


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


def write(args: argparse.Namespace, results: list[dict], pretrain_seconds: dict[str, float]) -> None:
    """Rewrite ``--out`` (if given) with everything probed so far."""
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"settings": vars(args), "pretrain_seconds": pretrain_seconds, "results": results,
                                              "summary": summarise(args.datasets, results)}, indent=1))


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


if __name__ == "__main__":
    main()
