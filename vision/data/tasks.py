"""Class-subset target tasks on image datasets, with the graph side's task metadata.

The sample selection is :func:`gtransfer.data.class_subsets.class_subset` (shared with the graph
side); this module only cuts the selected samples into stratified train/valid/test parts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from gtransfer.data.class_subsets import TaskInfo, class_subset, describe_labels

from .image_dataset import ImageDataset

__all__ = ["ImageTask", "make_class_task", "stratified_split"]


@dataclass(frozen=True)
class ImageTask:
    """A classification target task: three parts, metadata of all its labels, and the original class ids."""

    name: str
    train: ImageDataset
    valid: ImageDataset
    test: ImageDataset
    info: TaskInfo
    original_classes: tuple[int, ...]
    source_indices: tuple[np.ndarray, np.ndarray, np.ndarray]
    """Rows of the source dataset in train, valid and test (for provenance and leakage checks)."""

    @property
    def num_classes(self) -> int:
        return len(self.original_classes)

    def to_dict(self) -> dict:
        """JSON-serialisable metadata (what trial results and reports store)."""
        return {
            **self.info.to_dict(),
            "name": self.name,
            "original_classes": list(self.original_classes),
            "split_sizes": [len(self.train), len(self.valid), len(self.test)],
        }


def stratified_split(labels: np.ndarray, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
                     seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index arrays of a train/valid/test split that keeps class proportions, deterministic by seed.

    Raises ValueError when the fractions do not sum to 1 or a class is too small to appear in every part.
    """
    labels = np.asarray(labels)
    fractions = tuple(float(f) for f in fractions)
    if len(fractions) != 3 or min(fractions) <= 0 or abs(sum(fractions) - 1.0) > 1e-9:
        raise ValueError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    if counts.min() < 3:
        raise ValueError(f"stratified_split: a class has {counts.min()} sample(s); every class needs >= 3")
    indices = np.arange(labels.size)
    try:
        train, rest = train_test_split(indices, train_size=fractions[0], stratify=labels, random_state=seed)
        valid, test = train_test_split(rest, train_size=fractions[1] / (fractions[1] + fractions[2]),
                                       stratify=labels[rest], random_state=seed)
    except ValueError as exc:
        raise ValueError(f"stratified_split: cannot split class counts {counts.tolist()} by {fractions}: {exc}") from exc
    return np.sort(train), np.sort(valid), np.sort(test)


def make_class_task(dataset: ImageDataset, num_classes: int | None = None, classes: list[int] | None = None,
                    imbalance_ratio: float = 1.0, seed: int = 0, max_per_class: int | None = None,
                    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2), name: str | None = None) -> ImageTask:
    """A task with ``num_classes`` classes (or exactly ``classes``) of ``dataset`` and a given imbalance.

    Per-class sizes follow :func:`class_subset` (largest class = ``imbalance_ratio`` x smallest, at
    most ``max_per_class``); labels are remapped to 0..K-1 in increasing original id. The same
    arguments give the same task.
    """
    indices, labels = class_subset(dataset.labels, num_classes=num_classes, classes=classes,
                                   imbalance_ratio=imbalance_ratio, seed=seed, max_per_class=max_per_class)
    original = tuple(int(c) for c in np.unique(dataset.labels[indices]))
    class_names = tuple(dataset.classes[c] for c in original)
    if name is None:
        name = f"{dataset.name}/c{'-'.join(map(str, original))}/r{imbalance_ratio:g}/s{seed}"
    parts = stratified_split(labels, fractions, seed)
    train, valid, test = (dataset.subset(indices[p], labels[p], class_names, f"{name}:{part}")
                          for p, part in zip(parts, ("train", "valid", "test")))
    return ImageTask(name, train, valid, test, describe_labels(labels, name), original,
                     tuple(indices[p] for p in parts))
