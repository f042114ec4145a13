"""Frozen embeddings: from any loader (graphs or images) or straight from SMILES strings.

Embeddings are returned as float32 arrays, the precision the encoders compute in; the metric core
casts to float64 itself.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch

from gtransfer.training.batching import pyg_batch_to, resolve_device

__all__ = ["embed_loader", "embed_smiles"]


@torch.no_grad()
def embed_loader(
    encoder: torch.nn.Module,
    loader: Iterable[object],
    *,
    batch_to: Callable = pyg_batch_to,
    device: torch.device | str | None = None,
    **embed_kwargs,
) -> np.ndarray:
    """Concatenated ``encoder.embed(inputs, **embed_kwargs)`` over a loader, in loader order.

    The encoder is switched to eval mode (dropout off, BatchNorm running statistics) and restored;
    with ``device`` given it is moved there (default: where its parameters are).

    Returns:
        (n, embedding_dim) float32 array (or (num_nodes, D) with ``level="node"``).
    """
    if device is None:
        device = next(encoder.parameters()).device
    else:
        device = resolve_device(device)
        encoder.to(device)
    was_training = encoder.training
    encoder.eval()
    try:
        chunks = []
        for batch in loader:
            inputs, _ = batch_to(batch, device)
            out = encoder.embed(inputs, **embed_kwargs) if embed_kwargs else encoder.embed(inputs)
            chunks.append(out.detach().float().cpu().numpy())
    finally:
        encoder.train(was_training)
    if not chunks:
        raise ValueError("the loader yielded no batches")
    out = np.concatenate(chunks, axis=0)
    if not np.isfinite(out).all():
        raise ValueError(f"the encoder produced {int((~np.isfinite(out)).sum())} non-finite embedding values")
    return out


def embed_smiles(
    encoder: torch.nn.Module,
    smiles: Sequence[str],
    *,
    pooling: str = "mean",
    featurizer: str | None = None,
    layer: int | None = None,
    batch_size: int = 256,
    device: torch.device | str | None = None,
) -> np.ndarray:
    """Graph embeddings of molecules, one row per SMILES, in order.

    Args:
        encoder: a :class:`~gtransfer.models.GNNEncoder` (e.g. from ``load_pretrain_gnns``).
        smiles: the molecules; any that cannot be featurised raise ValueError.
        pooling: ``"mean"`` (the published default), ``"sum"`` or ``"max"``.
        featurizer: default ``encoder.featurizer`` (``"hu2020"`` for the published encoders).
        layer: pool the nodes of this layer (0..L) instead of the jumping-knowledge output.

    Returns:
        (len(smiles), D) float32 array.
    """
    from torch_geometric.loader import DataLoader

    from gtransfer.data.featurizers import smiles_to_graphs
    from gtransfer.models.inputs import count_unknown_chirality

    if isinstance(smiles, str):
        raise ValueError("smiles must be a sequence of SMILES strings, not one string")
    featurizer = featurizer or getattr(encoder, "featurizer", None)
    if featurizer is None:
        raise ValueError("the encoder does not name a molecule featurizer; pass featurizer='hu2020' or 'ogb'")
    if len(smiles) == 0:
        raise ValueError("no SMILES given")
    graphs, _ = smiles_to_graphs(list(smiles), featurizer, on_invalid="raise")
    if featurizer == "hu2020":
        unknown = sum(count_unknown_chirality(g.x) for g in graphs)
        if unknown:
            warnings.warn(f"{unknown} atoms have chirality CHI_OTHER, which the published encoders have no "
                          "embedding for; they are embedded as CHI_UNSPECIFIED", stacklevel=2)
    loader = DataLoader(graphs, batch_size=batch_size, shuffle=False)
    return embed_loader(encoder, loader, device=device, level="graph", pooling=pooling, layer=layer)
