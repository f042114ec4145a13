"""Frozen embeddings of a graph target under an encoder, cached on disk by what determines them.

A dataset is embedded whole, once per encoder, and a target's rows picked from it (a small
subsample is embedded alone). The cache
key is the SHA-256 of (encoder identity -- spec and checkpoint hash --, dataset, level, featuriser,
size, format); files are written to a temporary name and renamed, so parallel trials or a killed
run never leave half a file (two workers may both compute a missing file; the last rename wins and
both contents are identical).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gtransfer.studies.keys import canonical_json

__all__ = ["TargetEmbeddings", "target_features", "target_embeddings"]

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


def _embed_dataset(encoder, dataset, level: str, batch_size: int = 128) -> np.ndarray:
    """(N, D) embeddings of every graph (or every node) of ``dataset``, in dataset order."""
    from torch_geometric.loader import DataLoader

    from gtransfer.embed import embed_loader

    if level == "node":
        return embed_loader(encoder, DataLoader([dataset[0]], batch_size=1), level="node")
    return embed_loader(encoder, DataLoader(dataset, batch_size=batch_size, shuffle=False))


def _atomic_save(path: Path, **arrays: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def target_features(encoder_spec: str, target, featurizer: str | int, cache=None, root=None) -> np.ndarray:
    """Embeddings of ``target``'s samples, in ``target.indices`` order, cached per encoder.

    When the target covers at least half of its graph dataset (or is node-level), the whole dataset
    is embedded and cached once, so every task of a multi-task dataset (Tox21's 12, ToxCast's 617)
    and every class subset reads the same file; a small subsample is embedded (and cached) alone.
    """
    from gtransfer.studies.encoders import encoder_identity, load_encoder

    size = len(target.dataset) if target.level == "graph" else int(target.dataset[0].num_nodes)
    whole = target.level == "node" or target.indices.size * 2 >= size
    path = None
    if cache is not None:
        text = canonical_json({
            "encoder": encoder_identity(encoder_spec, root), "dataset": target.dataset_name, "level": target.level,
            "featurizer": featurizer, "size": size, "format": _FORMAT,
            "samples": None if whole else hashlib.sha256(target.indices.astype(np.int64).tobytes()).hexdigest(),
        })
        path = Path(cache) / f"{hashlib.sha256(text.encode('ascii')).hexdigest()[:32]}.npz"
        if path.is_file():
            with np.load(path) as stored:
                features = stored["features"]
            return features[target.indices] if whole else features
    encoder = load_encoder(encoder_spec, node_features=featurizer, root=root)
    if whole:
        features = _embed_dataset(encoder, target.dataset, target.level)
    else:
        import torch

        features = _embed_dataset(encoder, target.dataset[torch.as_tensor(target.indices, dtype=torch.long)], "graph")
    if path is not None:
        _atomic_save(path, features=features)
    return features[target.indices] if whole else features


def target_embeddings(
    encoder: str,
    target: str,
    max_samples: int | None = None,
    sample_seed: int = 0,
    cache: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
) -> TargetEmbeddings:
    """Embeddings of ``target`` (a target string) under ``encoder`` (an encoder string).

    Args:
        max_samples: subsample the target to this many samples (every split and class alike).
        sample_seed: seed of the subsample and of the stratified split of non-molecule targets.
        cache: folder caching each dataset's embeddings per encoder; None computes without caching.
        root: data root.
    """
    from gtransfer.data.loading import dataset_kind
    from gtransfer.studies.encoders import encoder_featurizer
    from gtransfer.studies.graph_targets import load_target, parse_target, subsample_target

    name = parse_target(target)[0]
    if dataset_kind(name) == "molecule":
        featurizer: str | int = encoder_featurizer(encoder, root)
        loaded = load_target(target, featurizer=featurizer, root=root, seed=sample_seed)
    else:
        loaded = load_target(target, root=root, seed=sample_seed)
        featurizer = int(loaded.dataset.num_features)
    loaded = subsample_target(loaded, max_samples, seed=sample_seed)
    features = target_features(encoder, loaded, featurizer, cache=cache, root=root)
    return TargetEmbeddings(features, loaded.labels.astype(np.int64), loaded.splits)
