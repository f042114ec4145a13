"""Linear probes of frozen encoders on whole datasets (the embedding layer's side of
:mod:`gtransfer.training.probe`, which probes given features)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtransfer.embeddings.embed import embed_loader
from gtransfer.training.probe import probe_rocauc

__all__ = ["probe_encoders_on_molecules"]


def probe_encoders_on_molecules(encoders: Mapping[str, Any], dataset: str, *, root: str | None = None,
                                batch_size: int = 512) -> dict[str, float]:
    """Scaffold-split probe ROC-AUC (:func:`gtransfer.training.probe.probe_rocauc`) of each encoder's frozen
    mean-pooled embeddings of a MoleculeNet dataset with hu2020 features: ``{label: test ROC-AUC}``, in
    ``encoders``' order.

    The check behind ``experiments/probe_published.py`` and ``experiments/pretrain_strategies_probe.py``:
    the dataset is loaded and split once, every encoder embeds it (in eval mode: :func:`embed_loader`).
    """
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.data import load_dataset

    molecules = load_dataset(dataset, root=root, featurizer="hu2020", progress=False)
    split = molecules.get_idx_split()
    labels = torch.cat([g.y for g in molecules]).numpy()
    loader = DataLoader(molecules, batch_size=batch_size)
    return {label: probe_rocauc(embed_loader(encoder, loader), labels, split["train"].numpy(), split["test"].numpy())
            for label, encoder in encoders.items()}
