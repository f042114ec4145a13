"""A pretrained checkpoint fine-tuned against random initialisations of the same architecture, paired by seed.

Hu et al. 2020 judge a pretraining strategy by fine-tuning (not by a frozen probe): the pretrained encoder and
the same architecture at random initialisation are each fine-tuned on a downstream task, and the test
ROC-AUCs are compared over seeds. Here seed ``s`` is one pack of two trials
(:mod:`gtransfer.training.packed`): the checkpoint, and ``random:ARCH:layers=L,dim=D,seed=s`` (the
architecture read from the checkpoint), both with head and dropout seed ``s`` and the same data order
(``order_seed = s``), so each seed gives one paired difference (pretrained - random). Full fine-tuning,
Adam, test metric at the best validation epoch; a multi-task dataset (Tox21) trains one joint head with a
masked loss.

Every finished pack is appended to ``--out`` (JSON lines) and skipped when the script is rerun, so an
interrupted run resumes; the summary (mean paired gain, its standard error, and whether the gain is at
least ``--margin`` and more than two standard errors) is printed, and written beside ``--out`` as
``<stem>_summary.json``.

    python experiments/finetune_against_random.py CHECKPOINT --datasets ogbg-molbbbp ogbg-moltox21 \
        --seeds 0 1 2 3 4 5 6 7 8 9 --epochs 50 --patience 10 --out experiments/results/finetune_contextpred_vs_random.jsonl
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from gtransfer.io.atomic import write_text
from gtransfer.io.checkpoints import read_checkpoint
from gtransfer.io.errors import describe_error
from gtransfer.selection.finetuning import FinetuneMember, FinetuneSetup, finetune_pack


def random_twin(checkpoint: str | Path, seed: int) -> str:
    """The ``random:`` spec of the checkpoint's architecture (arch, layers, width) at initialisation seed ``seed``."""
    arch = read_checkpoint(checkpoint)["metadata"]["architecture"]
    return f"random:{arch['arch']}:layers={arch['num_layers']},dim={arch['hidden_dim']},seed={seed}"


def paired_gain(pretrained: list[float], random: list[float], margin: float) -> dict[str, float | bool | int]:
    """Mean of the paired differences ``pretrained[i] - random[i]``, its standard error (sample standard
    deviation / sqrt(n)), and ``met``: the mean is at least ``margin`` and more than two standard errors."""
    if len(pretrained) != len(random) or len(pretrained) < 2:
        raise ValueError(f"paired_gain needs two equal-length lists of at least 2 values, got {len(pretrained)} and {len(random)}")
    diff = np.asarray(pretrained, dtype=np.float64) - np.asarray(random, dtype=np.float64)
    mean, se = float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size))
    return {"n": int(diff.size), "pretrained_mean": float(np.mean(pretrained)), "random_mean": float(np.mean(random)),
            "gain_mean": mean, "gain_se": se, "seeds_won": int((diff > 0).sum()), "margin": margin,
            "met": bool(mean >= margin and mean > 2 * se)}


def summarise(rows: list[dict], datasets: list[str], margin: float) -> dict[str, dict]:
    """Per dataset, :func:`paired_gain` over the seeds that have both trials."""
    summary = {}
    for name in datasets:
        by_seed = {r["seed"]: r for r in rows if r["dataset"] == name and "error" not in r}
        seeds = sorted(by_seed)
        if len(seeds) >= 2:
            summary[name] = paired_gain([by_seed[s]["pretrained"] for s in seeds], [by_seed[s]["random"] for s in seeds], margin)
    return summary


def run_seed(checkpoint: str, dataset: str, seed: int, args: argparse.Namespace) -> dict:
    """One pack (checkpoint, random twin) on ``dataset``; its row for the JSON-lines file."""
    setup = FinetuneSetup(target=dataset, epochs=args.epochs, batch_size=args.batch_size, order_seed=seed,
                          dtype="float32", data_root=args.data_root, device=args.device)
    start = time.perf_counter()
    twin = random_twin(checkpoint, seed)
    members = [FinetuneMember(encoder, seed=seed, lr=args.lr, weight_decay=0.0, mode="full", patience=args.patience)
               for encoder in (checkpoint, twin)]
    results = finetune_pack(setup, members)
    row: dict = {"dataset": dataset, "seed": seed, "random_spec": twin, "seconds": round(time.perf_counter() - start, 1)}
    errors = [describe_error(r) for r in results if isinstance(r, Exception)]
    if errors:
        return {**row, "error": "; ".join(errors)}
    for name, result in zip(("pretrained", "random"), results):
        row[name] = result["test_metric"]
        row[f"{name}_valid"] = result["valid_metric"]
        row[f"{name}_best_epoch"] = result["best_epoch"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a gtransfer encoder checkpoint (its architecture names the random twin)")
    parser.add_argument("--datasets", nargs="+", default=["ogbg-molbbbp", "ogbg-moltox21"])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--patience", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--margin", type=float, default=0.01, help="the gain the summary calls met (with > 2 standard errors)")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: a GPU when there is one)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", required=True, help="JSON lines, one row per (dataset, seed); resumed when present")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in out.read_text().splitlines() if line.strip()] if out.is_file() else []
    done = {(r["dataset"], r["seed"]) for r in rows if "error" not in r}
    for dataset in args.datasets:
        for seed in args.seeds:
            if (dataset, seed) in done:
                continue
            row = run_seed(args.checkpoint, dataset, seed, args)
            with open(out, "a") as handle:
                handle.write(json.dumps(row) + "\n")
            rows.append(row)
            print(json.dumps(row), flush=True)
    summary = summarise(rows, args.datasets, args.margin)
    text = json.dumps({"settings": vars(args), "summary": summary}, indent=1)
    write_text(out.with_name(f"{out.stem}_summary.json"), text)
    print(text)


if __name__ == "__main__":
    main()
