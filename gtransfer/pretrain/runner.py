"""Run a pretraining strategy for some epochs, checkpointing atomically after each, resuming after
an interruption.

The checkpoint's ``state_dict`` is the encoder's (so ``load_checkpoint`` + ``build_encoder`` give the
pretrained encoder directly); its metadata records architecture, featuriser, strategy, corpus,
epochs, seed and code version; ``extra`` holds what resuming needs (strategy heads, optimizer,
epochs done, loss history). Each epoch reseeds torch from (seed, epoch), so a resumed run ends with
exactly the weights of an uninterrupted one.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch_geometric.loader import DataLoader
from tqdm.auto import tqdm

from gtransfer.io.checkpoints import read_checkpoint, save_checkpoint
from gtransfer.io.provenance import code_version
from gtransfer.models.encoder import GNNEncoder
from gtransfer.pretrain.registry import make_strategy
from gtransfer.training.batching import resolve_device

__all__ = ["pretrain"]

# metadata that must agree for a checkpoint to be resumed rather than refused
_RUN_KEYS = ("architecture", "strategy", "strategy_options", "corpus", "seed", "batch_size", "lr", "num_graphs")


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch) % (2**63 - 1)


def pretrain(
    encoder: GNNEncoder,
    strategy: str,
    graphs: Sequence,
    checkpoint: str | os.PathLike,
    epochs: int,
    corpus: str,
    *,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    strategy_options: dict[str, Any] | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
    on_epoch_end: Callable[[int, float], None] | None = None,
) -> dict[str, Any]:
    """Pretrain ``encoder`` in place with ``strategy`` on ``graphs``; resume from ``checkpoint`` if present.

    Args:
        encoder: the encoder to train (its weights are replaced by the checkpoint's when resuming).
        strategy: ``"attrmask"``, ``"contextpred"``, ``"edgepred"``, ``"infomax"``, ``"graphcl"`` or ``"supervised"``.
        graphs: a PyG dataset or list of ``Data`` (the corpus, or any graph dataset).
        checkpoint: file written after every epoch (atomically); the final one has ``complete: true``.
        epochs: total epochs of the run (a resumed run continues up to it).
        corpus: name of the data, recorded in the metadata.
        strategy_options: passed to the strategy (e.g. ``{"mask_rate": 0.15}``; ``num_tasks`` for supervised).
        on_epoch_end: called as ``fn(epoch, mean_loss)`` after each epoch's checkpoint is written.

    Returns:
        The checkpoint metadata (with ``history``: mean loss per epoch).

    Raises:
        ValueError: a checkpoint of a different run exists at ``checkpoint``; empty data; bad options.
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    if len(graphs) == 0:
        raise ValueError("no graphs to pretrain on")
    device = resolve_device(device)
    options = dict(strategy_options or {})
    torch.manual_seed(seed)
    objective = make_strategy(strategy, encoder, **options).to(device)
    optimizer = torch.optim.Adam(objective.parameters(), lr=lr)
    metadata: dict[str, Any] = {
        "architecture": encoder.config, "featurizer": encoder.featurizer, "strategy": strategy,
        "strategy_options": options, "corpus": corpus, "num_graphs": len(graphs), "epochs": epochs,
        "seed": seed, "batch_size": batch_size, "lr": lr, "code_version": code_version(),
        "epochs_done": 0, "complete": False, "history": [],
    }
    checkpoint = Path(checkpoint)
    start = 1
    if checkpoint.exists():
        saved = read_checkpoint(checkpoint)
        old = saved["metadata"]
        mismatched = [k for k in _RUN_KEYS if old.get(k) != metadata[k]]
        if mismatched:
            raise ValueError(f"{checkpoint} belongs to another run (differs in {mismatched}); "
                             "delete it or choose another path")
        extra = saved["extra"] or {}
        if "optimizer" not in extra:
            raise ValueError(f"{checkpoint} has no optimizer state to resume from (not written by pretrain?)")
        objective.load_state_dict({**{f"encoder.{k}": v for k, v in saved["state_dict"].items()},
                                   **extra.get("heads", {})})
        optimizer.load_state_dict(extra["optimizer"])
        metadata["history"] = list(old.get("history", []))
        metadata["epochs_done"] = int(old["epochs_done"])
        start = metadata["epochs_done"] + 1
        if start > epochs:
            metadata["complete"] = True
            return metadata
    batches_per_epoch = len(graphs) // batch_size if len(graphs) > batch_size else 1  # drop_last below
    # one bar over every batch still to run, so its ETA covers the whole run, not one epoch
    bar = tqdm(total=(epochs - start + 1) * batches_per_epoch, desc=f"pretrain {strategy}", unit="batch",
               disable=not progress, dynamic_ncols=True)
    for epoch in range(start, epochs + 1):
        torch.manual_seed(_epoch_seed(seed, epoch))
        loader = DataLoader(graphs, batch_size=batch_size, shuffle=True, drop_last=len(graphs) > batch_size,
                            generator=torch.Generator().manual_seed(_epoch_seed(seed, epoch)))
        objective.train()
        losses = []
        bar.set_description(f"pretrain {strategy} epoch {epoch}/{epochs}")
        for batch in loader:
            batch = batch.to(device)
            loss = objective.loss(batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            bar.update(1)
        mean_loss = float(np.mean(losses))
        if not np.isfinite(mean_loss):
            raise ValueError(f"pretraining diverged at epoch {epoch} (loss {mean_loss}); lower the learning rate")
        metadata["history"].append(mean_loss)
        metadata.update({"epochs_done": epoch, "complete": epoch == epochs})
        save_checkpoint(checkpoint, objective.encoder.state_dict(), metadata,
                        extra={"heads": objective.head_state_dict(), "optimizer": optimizer.state_dict()})
        bar.set_postfix(loss=mean_loss)
        if on_epoch_end is not None:
            on_epoch_end(epoch, mean_loss)
    bar.close()
    return metadata
