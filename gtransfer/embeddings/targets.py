"""Frozen embeddings of a graph target under an encoder, in the one embedding cache.

A target's rows are embedded through :func:`gtransfer.embeddings.entries.graph_embeddings`, the one entry schema
``gtransfer embed`` uses too: a target covering at least half of its dataset (or node-level) reads the whole
dataset's entry, embedded once per encoder and shared by every task, class subset and split; a small subsample
is embedded alone. Targets are embedded with the encoder's own pooling and its jumping-knowledge output.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gtransfer.embeddings.entries import graph_embeddings
from gtransfer.models.specs import EncoderSpec, resolve_encoder

if TYPE_CHECKING:
    from gtransfer.data.targets import GraphTarget

__all__ = ["TargetEmbeddings", "target_embeddings", "target_for_encoder"]


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

    def with_training_samples(self, size: int | None, *, seed: int = 0) -> TargetEmbeddings:
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
    *,
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

    spec = resolve_encoder(encoder, root=root)
    loaded, node_input = target_for_encoder(spec, target, root=root, seed=sample_seed)
    loaded = subsample_target(loaded, max_samples, seed=sample_seed)
    features = graph_embeddings(spec, loaded.dataset, loaded.dataset_name, level=loaded.level, node_input=node_input,
                                rows=loaded.indices, cache=cache, device=device).features
    labels = loaded.labels.astype(np.int64) if loaded.is_classification else loaded.labels.astype(np.float64)
    return TargetEmbeddings(
        features, labels, loaded.splits, loaded.dataset_name, node_input, loaded.task_kind, loaded.task_names
    )
