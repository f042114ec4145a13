"""Frozen embeddings of a graph target under an encoder, cached on disk by what determines them.

The cache key is the SHA-256 of (encoder identity -- spec and checkpoint hash --, target string,
subsample size and seed, code format); files are written to a temporary name and renamed, so
parallel trials or a killed run never leave half a file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gtransfer.studies.keys import canonical_json

__all__ = ["TargetEmbeddings", "embed_graph_target", "target_embeddings"]

_FORMAT = 1


@dataclass(frozen=True)
class TargetEmbeddings:
    """Features (n, D) float32 of a target's samples, their labels (n,) and split positions."""

    features: np.ndarray
    labels: np.ndarray
    splits: dict[str, np.ndarray]

    def part(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of one split."""
        positions = self.splits[split]
        return self.features[positions], self.labels[positions]


def embed_graph_target(encoder, target, batch_size: int = 128) -> np.ndarray:
    """(n, D) embeddings of ``target``'s samples, in ``target.indices`` order (graph or node level)."""
    import torch
    from torch_geometric.loader import DataLoader

    from gtransfer.embed import embed_loader

    if target.level == "node":
        loader = DataLoader([target.dataset[0]], batch_size=1)
        return embed_loader(encoder, loader, level="node")[target.indices]
    subset = target.dataset[torch.as_tensor(target.indices, dtype=torch.long)]
    return embed_loader(encoder, DataLoader(subset, batch_size=batch_size, shuffle=False))


def _key(encoder: str, target: str, max_samples: int | None, sample_seed: int) -> str:
    from gtransfer.studies.encoders import encoder_identity

    text = canonical_json({"encoder": encoder_identity(encoder), "target": target, "max_samples": max_samples, "sample_seed": sample_seed, "format": _FORMAT})
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:32]


def target_embeddings(
    encoder: str,
    target: str,
    max_samples: int | None = None,
    sample_seed: int = 0,
    cache: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
) -> TargetEmbeddings:
    """Embeddings of ``target`` (a target string) under ``encoder`` (an encoder string), cached.

    Args:
        max_samples: subsample the target to this many samples (every split and class alike).
        sample_seed: seed of the subsample and of the stratified split of non-molecule targets.
        cache: folder for ``<key>.npz`` files; None computes without caching.
        root: data root.
    """
    path = None
    if cache is not None:
        path = Path(cache) / f"{_key(encoder, target, max_samples, sample_seed)}.npz"
        if path.is_file():
            with np.load(path) as stored:
                return TargetEmbeddings(stored["features"], stored["labels"], {k: stored[f"split_{k}"] for k in ("train", "valid", "test")})
    result = _compute(encoder, target, max_samples, sample_seed, root)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, features=result.features, labels=result.labels, **{f"split_{k}": v for k, v in result.splits.items()})
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return result


def _compute(encoder_spec: str, target_text: str, max_samples: int | None, sample_seed: int, root) -> TargetEmbeddings:
    from gtransfer.data.loading import dataset_kind
    from gtransfer.studies.encoders import encoder_featurizer, load_encoder
    from gtransfer.studies.graph_targets import load_target, parse_target, subsample_target

    name = parse_target(target_text)[0]
    if dataset_kind(name) == "molecule":
        featurizer = encoder_featurizer(encoder_spec)
        target = load_target(target_text, featurizer=featurizer, root=root, seed=sample_seed)
        encoder = load_encoder(encoder_spec, node_features=featurizer)
    else:
        target = load_target(target_text, root=root, seed=sample_seed)
        encoder = load_encoder(encoder_spec, node_features=int(target.dataset.num_features))
    target = subsample_target(target, max_samples, seed=sample_seed)
    features = embed_graph_target(encoder, target)
    return TargetEmbeddings(features, target.labels.astype(np.int64), target.splits)
