"""Frozen embeddings of a graph target under an encoder, in the one embedding cache.

A dataset is embedded whole, once per encoder, and a target's rows picked from it (a small
subsample is embedded alone). Entries live in an :class:`~gtransfer.embeddings.cache.ArrayCache`
keyed by (encoder identity -- spec and checkpoint hash --, dataset, level, featuriser, size, format,
and the sample digest of a subsample).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gtransfer.embeddings.cache import ArrayCache
from gtransfer.models.specs import EncoderSpec, resolve_encoder

if TYPE_CHECKING:
    from torch import nn
    from torch_geometric.data import Dataset

    from gtransfer.data.targets import GraphTarget

__all__ = ["TargetEmbeddings", "target_features", "target_embeddings", "target_for_encoder"]

_FORMAT = 1


@dataclass(frozen=True)
class TargetEmbeddings:
    """Features (n, D) float32 of a target's samples, their labels and split positions; the target's
    dataset name and the node input the encoder read (a featuriser, or a float width).

    Labels as the target gives them (:class:`gtransfer.data.targets.GraphTarget`): int64 (n,) for
    ``task_kind`` ``"binary"``/``"multiclass"``, float64 (n, T) with NaN for ``"multitask"``, float64
    (n,) or (n, T) for ``"regression"``.
    """

    features: np.ndarray
    labels: np.ndarray
    splits: dict[str, np.ndarray]
    dataset_name: str = ""
    node_input: str | int = ""
    task_kind: str = "multiclass"
    task_names: tuple[str, ...] = ()

    def part(self, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Features and labels of one split."""
        positions = self.splits[split]
        return self.features[positions], self.labels[positions]

    def with_training_samples(self, size: int | None, seed: int = 0) -> TargetEmbeddings:
        """The same embeddings with the training split cut to ``size`` rows (class shares kept, each class
        at least 2 rows: :func:`gtransfer.data.splits.stratified_sample`); validation and test untouched.

        What a metric sees when it must rank from few training samples, while the ground truth, computed
        on the same cached embeddings, does not change. ``None`` (or a size at least the split's) keeps all.
        """
        from dataclasses import replace

        from gtransfer.data.splits import stratified_sample

        train = self.splits["train"]
        if size is None or size >= train.size:
            return self
        labels = self.labels[train]
        if self.task_kind == "multitask":  # stratify on "has any positive label", the rare side of most tasks
            labels = (np.nan_to_num(labels, nan=0.0) > 0).any(axis=1).astype(np.int64)
        keep = train[stratified_sample(labels, int(size), seed=seed)]
        return replace(self, splits={**self.splits, "train": keep})


def _embed_dataset(
    encoder: nn.Module, dataset: Dataset, level: str, batch_size: int = 128, device: str | None = None
) -> np.ndarray:
    """(N, D) embeddings of every graph (or every node) of ``dataset``, in dataset order, computed on
    ``device`` (default: CUDA when available)."""
    from torch_geometric.loader import DataLoader

    from gtransfer.embeddings.embed import embed_loader
    from gtransfer.training.batching import resolve_device

    device = resolve_device(device)
    if level == "node":
        return embed_loader(encoder, DataLoader([dataset[0]], batch_size=1), level="node", device=device)
    return embed_loader(encoder, DataLoader(dataset, batch_size=batch_size, shuffle=False), device=device)


def target_features(
    spec: EncoderSpec,
    target: GraphTarget,
    featurizer: str | int,
    *,
    cache: str | os.PathLike | None = None,
    device: str | None = None,
) -> np.ndarray:
    """Embeddings of ``target``'s samples under a resolved encoder, in ``target.indices`` order, cached per
    encoder, computed on ``device`` (default: CUDA when available; the cache entry does not depend on it).

    When the target covers at least half of its graph dataset (or is node-level), the whole dataset
    is embedded and cached once, so every task of a multi-task dataset (Tox21's 12, ToxCast's 617)
    and every class subset reads the same entry; a small subsample is embedded (and cached) alone.
    """
    size = len(target.dataset) if target.level == "graph" else int(target.dataset[0].num_nodes)
    if target.level == "node" or target.indices.size * 2 >= size:
        return dataset_features(spec, target.dataset, target.dataset_name, target.level, featurizer, cache=cache,
                                device=device)[target.indices]

    def compute() -> dict[str, np.ndarray]:
        import torch

        subset = target.dataset[torch.as_tensor(target.indices, dtype=torch.long)]
        return {"features": _embed_dataset(spec.load(node_features=featurizer), subset, "graph", device=device)}

    if cache is None:
        return compute()["features"]
    fields = {
        "kind": "graph-target-embedding", "encoder": spec.identity, "dataset": target.dataset_name,
        "level": target.level, "featurizer": featurizer, "size": size, "format": _FORMAT,
        "samples": hashlib.sha256(target.indices.astype(np.int64).tobytes()).hexdigest(),
    }
    return ArrayCache(cache).get_or_compute(fields, compute, info={"encoder": spec.text}).load("features")


def dataset_features(
    spec: EncoderSpec,
    dataset: Dataset,
    name: str,
    level: str,
    featurizer: str | int,
    *,
    cache: str | os.PathLike | None = None,
    device: str | None = None,
    batch_size: int = 128,
) -> np.ndarray:
    """(N, D) mean-pooled JK embeddings of every graph (or node) of ``dataset`` under a resolved encoder, in order.

    The one whole-dataset entry of the embedding cache, shared by ``gtransfer rank`` (every target of the
    dataset: each task, class subset and split reads it) and ``gtransfer embed`` with its default pooling and
    layer: what one of them embedded, the other reuses (``batch_size`` changes how, not what, is computed).
    """
    size = len(dataset) if level == "graph" else int(dataset[0].num_nodes)

    def compute() -> dict[str, np.ndarray]:
        return {"features": _embed_dataset(spec.load(node_features=featurizer), dataset, level, batch_size=batch_size,
                                           device=device)}

    if cache is None:
        return compute()["features"]
    fields = {"kind": "graph-target-embedding", "encoder": spec.identity, "dataset": name, "level": level,
              "featurizer": featurizer, "size": size, "format": _FORMAT, "samples": None}
    return ArrayCache(cache).get_or_compute(fields, compute, info={"encoder": spec.text}).load("features")


def target_for_encoder(
    spec: EncoderSpec, target: str, *, root: str | os.PathLike | None = None, seed: int = 0
) -> tuple[GraphTarget, str | int]:
    """``(GraphTarget, node input)``: the target loaded with the input the (resolved) encoder expects.

    Molecule targets are featurised with the encoder's featuriser; other datasets keep their float
    node features, whose width is the input a ``random:`` encoder is built for.
    """
    from gtransfer.data.loading import dataset_kind
    from gtransfer.data.targets import load_target, parse_target

    if dataset_kind(parse_target(target)[0]) == "molecule":
        from gtransfer.models.inputs import check_molecule_vocabulary

        loaded = load_target(target, featurizer=spec.featurizer, root=root, seed=seed)
        # every atom and bond checked once here, so a bad index names its molecule, not an embedding batch
        check_molecule_vocabulary(loaded.dataset, spec.featurizer, name=loaded.dataset_name)
        return loaded, spec.featurizer
    loaded = load_target(target, root=root, seed=seed)
    return loaded, int(loaded.dataset.num_features)


def target_embeddings(
    encoder: str | EncoderSpec,
    target: str,
    max_samples: int | None = None,
    sample_seed: int = 0,
    cache: str | os.PathLike | None = None,
    root: str | os.PathLike | None = None,
    device: str | None = None,
) -> TargetEmbeddings:
    """Embeddings of ``target`` (a target string) under ``encoder`` (an encoder string, resolved here once, or spec).

    Args:
        max_samples: subsample the target to this many samples (every split and class alike).
        sample_seed: seed of the subsample and of the stratified split of non-molecule targets.
        cache: folder caching each dataset's embeddings per encoder; None computes without caching.
        root: data root.
        device: where the encoder runs (default: CUDA when available).
    """
    from gtransfer.data.targets import subsample_target

    spec = resolve_encoder(encoder, root)
    loaded, node_input = target_for_encoder(spec, target, root=root, seed=sample_seed)
    loaded = subsample_target(loaded, max_samples, seed=sample_seed)
    features = target_features(spec, loaded, node_input, cache=cache, device=device)
    labels = loaded.labels.astype(np.int64) if loaded.is_classification else loaded.labels.astype(np.float64)
    return TargetEmbeddings(
        features, labels, loaded.splits, loaded.dataset_name, node_input, loaded.task_kind, loaded.task_names
    )
