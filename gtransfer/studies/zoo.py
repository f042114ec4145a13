"""The suite's own encoder zoo: molecule encoders pretrained here (resumably) with gtransfer.pretrain."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["pretrain_zoo_encoder"]


def pretrain_zoo_encoder(
    out: str | os.PathLike,
    arch: str = "gin",
    strategy: str = "attrmask",
    corpus: str = "zinc250k-3small",
    molecules: int = 2000,
    epochs: int = 1,
    layers: int = 5,
    dim: int = 300,
    featurizer: str = "hu2020",
    lr: float = 1e-3,
    seed: int = 0,
    device: str = "cpu",
    data_root: str | os.PathLike | None = None,
    progress: bool = True,
) -> dict:
    """Pretrain one encoder on the first ``molecules`` SMILES of ``corpus``; resume ``out`` if present.

    Returns:
        the checkpoint metadata (``history``: mean loss per epoch).

    Raises:
        ValueError: an unknown or supervised strategy (no labels here), non-positive sizes.
    """
    from gtransfer.data.corpus import read_corpus_smiles
    from gtransfer.embed import smiles_to_graphs
    from gtransfer.models import build_encoder
    from gtransfer.pretrain import STRATEGIES, pretrain

    if strategy not in STRATEGIES or strategy == "supervised":
        raise ValueError(f"strategy must be one of {sorted(set(STRATEGIES) - {'supervised'})} (supervised needs labels)")
    if molecules < 1 or epochs < 1:
        raise ValueError(f"molecules and epochs must be positive, got {molecules} and {epochs}")
    smiles = read_corpus_smiles(corpus, root=data_root, limit=molecules)
    graphs, _ = smiles_to_graphs(smiles, featurizer, on_invalid="skip")
    encoder = build_encoder({"arch": arch, "num_layers": layers, "hidden_dim": dim, "node_features": featurizer, "edge_features": featurizer})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    return pretrain(encoder, strategy, graphs, out, epochs=epochs, corpus=corpus, lr=lr, seed=seed, device=device, progress=progress)
