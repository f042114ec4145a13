"""A pretrained checkpoint fine-tuned against random initialisations of the same architecture, paired by seed.

Hu et al. 2020 judge a pretraining strategy by fine-tuning (not by a frozen probe): the pretrained encoder and
the same architecture at random initialisation are each fine-tuned on a downstream task, and the test
ROC-AUCs are compared over seeds. Here seed ``s`` is one pack of two trials
(:mod:`gtransfer.training.packed`): the checkpoint, and ``random:ARCH:layers=L,dim=D,seed=s`` (the
architecture read from the checkpoint), both with head and dropout seed ``s`` and the same data order
(``order_seed = s``), so each seed gives one paired difference (pretrained - random). Full fine-tuning,
Adam, test metric at the best validation epoch; a multi-task dataset (Tox21) trains one joint head with a
masked loss.

:func:`finetune_against_random` appends every finished pack to a JSON-lines file
(:func:`gtransfer.io.jsonlines.append_record`) and skips it when run again, so an interrupted run resumes
(a torn last line is dropped and run again). Front end: ``experiments/finetune_against_random.py``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from gtransfer.io.atomic import write_text
from gtransfer.io.checkpoints import read_checkpoint
from gtransfer.io.errors import describe_error
from gtransfer.io.jsonlines import append_record, read_records
from gtransfer.selection.finetuning import FinetuneMember, FinetuneSetup, finetune_pack

__all__ = ["random_twin", "paired_gain", "summarise", "run_seed", "finetune_against_random"]


def random_twin(checkpoint: str | Path, seed: int) -> str:
    """The ``random:`` spec of the checkpoint's architecture (arch, layers, width) at initialisation seed ``seed``."""
    arch = read_checkpoint(checkpoint)["metadata"]["architecture"]
    return f"random:{arch['arch']}:layers={arch['num_layers']},dim={arch['hidden_dim']},seed={seed}"


def paired_gain(pretrained: list[float], random: list[float], *, margin: float) -> dict[str, float | bool | int]:
    """Mean of the paired differences ``pretrained[i] - random[i]``, its standard error (sample standard
    deviation / sqrt(n)), and ``met``: the mean is at least ``margin`` and more than two standard errors."""
    if len(pretrained) != len(random) or len(pretrained) < 2:
        raise ValueError("paired_gain needs two equal-length lists of at least 2 values, "
                         f"got {len(pretrained)} and {len(random)}")
    diff = np.asarray(pretrained, dtype=np.float64) - np.asarray(random, dtype=np.float64)
    mean, se = float(diff.mean()), float(diff.std(ddof=1) / math.sqrt(diff.size))
    return {"n": int(diff.size), "pretrained_mean": float(np.mean(pretrained)), "random_mean": float(np.mean(random)),
            "gain_mean": mean, "gain_se": se, "seeds_won": int((diff > 0).sum()), "margin": margin,
            "met": bool(mean >= margin and mean > 2 * se)}


def summarise(rows: list[dict], datasets: Iterable[str], *, margin: float) -> dict[str, dict]:
    """Per dataset, :func:`paired_gain` over the seeds that have both trials."""
    summary = {}
    for name in datasets:
        by_seed = {r["seed"]: r for r in rows if r["dataset"] == name and "error" not in r}
        seeds = sorted(by_seed)
        if len(seeds) >= 2:
            summary[name] = paired_gain([by_seed[s]["pretrained"] for s in seeds],
                                        [by_seed[s]["random"] for s in seeds], margin=margin)
    return summary


def run_seed(checkpoint: str, dataset: str, seed: int, *, epochs: int, patience: int, batch_size: int = 32,
             lr: float = 1e-3, data_root: str | None = None, device: str | None = None) -> dict:
    """One pack (checkpoint, random twin) on ``dataset``; its row for the JSON-lines file (``error`` on failure)."""
    setup = FinetuneSetup(target=dataset, epochs=epochs, batch_size=batch_size, order_seed=seed,
                          dtype="float32", data_root=data_root, device=device)
    start = time.perf_counter()
    twin = random_twin(checkpoint, seed)
    members = [FinetuneMember(encoder, seed=seed, lr=lr, weight_decay=0.0, mode="full", patience=patience)
               for encoder in (checkpoint, twin)]
    results = finetune_pack(setup, members)
    seconds = round(time.perf_counter() - start, 1)
    row: dict = {"dataset": dataset, "seed": seed, "random_spec": twin, "seconds": seconds}
    errors = [describe_error(r) for r in results if isinstance(r, Exception)]
    if errors:
        return {**row, "error": "; ".join(errors)}
    for name, result in zip(("pretrained", "random"), results):
        row[name] = result["test_metric"]
        row[f"{name}_valid"] = result["valid_metric"]
        row[f"{name}_best_epoch"] = result["best_epoch"]
    return row


def finetune_against_random(checkpoint: str, *, datasets: list[str], seeds: list[int], out: str | Path,
                            margin: float, settings: dict[str, Any], epochs: int, patience: int, batch_size: int = 32,
                            lr: float = 1e-3, data_root: str | None = None, device: str | None = None) -> dict:
    """Every (dataset, seed) pack not yet in the JSON-lines file ``out`` (a row with ``error`` is run again),
    each appended when done and printed; then the summary (:func:`summarise`) with ``settings`` (the command's
    arguments) written atomically beside ``out`` as ``<stem>_summary.json``, printed and returned."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = read_records(out)
    done = {(r["dataset"], r["seed"]) for r in rows if "error" not in r}
    for dataset in datasets:
        for seed in seeds:
            if (dataset, seed) in done:
                continue
            row = run_seed(checkpoint, dataset, seed, epochs=epochs, patience=patience, batch_size=batch_size, lr=lr,
                           data_root=data_root, device=device)
            append_record(out, row)
            rows.append(row)
            print(json.dumps(row), flush=True)
    record = {"settings": settings, "summary": summarise(rows, datasets, margin=margin)}
    text = json.dumps(record, indent=1)
    write_text(out.with_name(f"{out.stem}_summary.json"), text)
    print(text)
    return record
