"""Class-subset target tasks on image datasets, with the graph side's task metadata.

The sample selection is :func:`gtransfer.data.class_subsets.class_subset` and the train/valid/test
cut is :func:`gtransfer.data.splits.stratified_split`, both shared with the graph side.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gtransfer.data.class_subsets import TaskInfo, class_subset, describe_labels
from gtransfer.data.splits import stratified_split

from .image_dataset import ImageDataset

__all__ = ["ImageTask", "make_class_task"]


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


def make_class_task(dataset: ImageDataset, *, num_classes: int | None = None, classes: list[int] | None = None,
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
    frac_train, frac_valid, frac_test = fractions
    split = stratified_split(labels, frac_train=frac_train, frac_valid=frac_valid, frac_test=frac_test, seed=seed,
                             every_class_in_every_split=True)
    parts = (split["train"], split["valid"], split["test"])
    train, valid, test = (dataset.subset(indices[p], labels=labels[p], classes=class_names, name=f"{name}:{part}")
                          for p, part in zip(parts, ("train", "valid", "test")))
    return ImageTask(name, train, valid, test, describe_labels(labels, name=name), original,
                     tuple(indices[p] for p in parts))
