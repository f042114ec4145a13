"""GIN fine-tuned without pretraining on ogbg-molbbbp (scaffold split) and MUTAG (10-fold CV), against the
published ranges.

Checks that :func:`gtransfer.training.finetune.finetune` lands in the published ranges (Hu et al. 2020,
Table 1, GIN without pretraining: BBBP test ROC-AUC 65.8 +- 4.5; Xu et al. 2019, GIN on MUTAG:
89.4 +- 5.6 10-fold accuracy). Each finished run is appended to a JSON-lines file
(:func:`gtransfer.io.jsonlines.append_record`), so an interrupted run resumes where it stopped (a torn last
line is dropped and run again).

MUTAG protocols, both on a seeded stratified 10-fold CV:

* ``heldout``: in each fold 10% of the nine training folds is held out for early stopping and the
  held-out fold gives the test accuracy; a seed's score is the mean over folds (no test peeking);
* ``xu2019``: the protocol behind the published GIN numbers (Xu et al. 2019): train a fixed number
  of epochs, record the held-out fold's accuracy every epoch, average over folds per epoch and
  report the best epoch's mean (optimistic: the epoch is chosen on the test folds).

Front end: ``experiments/finetune_reference.py``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import torch

from gtransfer.data import load_dataset
from gtransfer.io.jsonlines import append_record, read_records
from gtransfer.models import GIN
from gtransfer.training.finetune import TaskSpec, finetune

__all__ = ["PROTOCOLS", "run_bbbp", "run_mutag", "summarise"]

PROTOCOLS = ("heldout", "xu2019")


def _done(path: Path) -> set[tuple]:
    return {(r["seed"], r.get("fold")) for r in read_records(path)}


def run_bbbp(out_dir: Path, *, seeds: list[int], epochs: int, patience: int, data_root: str | None = None) -> Path:
    """GIN 5 x 300 fine-tuned on BBBP's scaffold split, one record per seed in ``out_dir/bbbp_gin_e<epochs>.jsonl``
    (seeds already there are skipped); the file."""
    from torch_geometric.loader import DataLoader

    out = Path(out_dir) / f"bbbp_gin_e{epochs}.jsonl"
    ds = load_dataset("ogbg-molbbbp", root=data_root, featurizer="ogb", progress=False)
    split = ds.get_idx_split()
    for seed in seeds:
        if (seed, None) in _done(out):
            continue
        torch.manual_seed(seed)
        loaders = [DataLoader(ds[split[k]], batch_size=32, shuffle=(k == "train")) for k in ("train", "valid", "test")]
        encoder = GIN(num_layers=5, hidden_dim=300, dropout=0.5, jk="last", pooling="mean", node_features="ogb")
        start = time.perf_counter()
        result = finetune(encoder, *loaders, task=TaskSpec("multilabel", 1), epochs=epochs, lr=1e-3,
                          patience=patience, seed=seed, device="cpu", progress=True)
        record = {"seed": seed, "fold": None, "seconds": time.perf_counter() - start, **result.to_dict()}
        record.pop("history")
        append_record(out, record)
        print(json.dumps(record), flush=True)
    return out


def run_mutag(out_dir: Path, *, seeds: list[int], epochs: int, patience: int, protocol: str = "heldout",
              data_root: str | None = None) -> Path:
    """GIN 5 x 64 on MUTAG, 10-fold CV per seed under ``protocol`` (see the module docstring), one record per
    (seed, fold) in ``out_dir/mutag_gin_<protocol>_e<epochs>.jsonl`` (those already there are skipped); the file."""
    from sklearn.model_selection import StratifiedKFold, train_test_split
    from torch_geometric.loader import DataLoader

    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    out = Path(out_dir) / f"mutag_gin_{protocol}_e{epochs}.jsonl"
    ds = load_dataset("MUTAG", root=data_root)
    y = ds.y.numpy() if hasattr(ds, "y") else np.array([int(g.y) for g in ds])
    edge_dim = ds[0].edge_attr.size(1) if ds[0].edge_attr is not None else None
    for seed in seeds:
        folds = StratifiedKFold(n_splits=10, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
        for fold, (train_val, test) in enumerate(folds):
            if (seed, fold) in _done(out):
                continue
            if protocol == "xu2019":  # the test fold is watched every epoch; no early stopping
                train, valid = train_val, test
            else:
                train, valid = train_test_split(train_val, test_size=0.1, stratify=y[train_val], random_state=seed)
            torch.manual_seed(seed)
            loaders = [DataLoader(ds[torch.as_tensor(idx)], batch_size=32, shuffle=(k == 0))
                       for k, idx in enumerate((train, valid, test))]
            encoder = GIN(num_layers=5, hidden_dim=64, dropout=0.5, jk="concat", pooling="sum",
                          node_features=ds.num_features, edge_features=edge_dim)
            result = finetune(encoder, *loaders, task=TaskSpec("multiclass", 2), epochs=epochs, lr=1e-2,
                              patience=epochs if protocol == "xu2019" else patience, seed=seed, device="cpu")
            record = {"seed": seed, "fold": fold, **result.to_dict()}
            curve = [h["valid_metric"] for h in record.pop("history")]
            if protocol == "xu2019":
                record["fold_accuracy_per_epoch"] = curve
            append_record(out, record)
            print(json.dumps(record), flush=True)
    return out


def summarise(path: Path) -> dict:
    """Per seed the mean over folds (xu2019: the best epoch of the fold-averaged curve), and their mean and
    sample standard deviation."""
    rows = read_records(path)
    by_seed: dict[int, list] = {}
    for r in rows:
        by_seed.setdefault(r["seed"], []).append(r.get("fold_accuracy_per_epoch", r["test_metric"]))
    if "fold_accuracy_per_epoch" in rows[0]:  # xu2019: best epoch of the fold-averaged curve
        per_seed = {s: float(np.max(np.mean(v, axis=0))) for s, v in sorted(by_seed.items())}
    else:
        per_seed = {s: float(np.mean(v)) for s, v in sorted(by_seed.items())}
    values = np.array(list(per_seed.values()))
    return {"file": path.name, "per_seed": per_seed, "mean": float(values.mean()),
            "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0, "runs": len(rows)}
