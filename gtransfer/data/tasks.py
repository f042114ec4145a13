"""Target tasks for target selection (docs/design.md section 4), deterministic by seed.

Two families:

* :func:`molecule_task_targets`: each task of a multi-task molecule dataset (Tox21 12, ToxCast 617,
  SIDER 27, MUV 17, ...) as its own binary target, with its own valid-label mask (a molecule
  without a label for that task is not part of it) and the dataset's scaffold split restricted to
  the valid molecules.
* :func:`class_subset_tasks`: subsets of a multi-class graph or node dataset (ENZYMES, IMDB-MULTI,
  Cora, CiteSeer) with a chosen number of classes and a chosen imbalance ratio, drawn with
  :func:`gtransfer.data.class_subsets.class_subset` and split with a stratified split.

Every task carries a :class:`~gtransfer.data.class_subsets.TaskInfo` (samples, classes, class
counts, label entropy H(Y), imbalance ratio), which the target-selection corrections need.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .class_subsets import TaskInfo, class_subset, describe_labels
from .splits import stratified_split

if TYPE_CHECKING:
    import numpy.typing as npt
    from ogb.graphproppred import PygGraphPropPredDataset
    from torch_geometric.data import InMemoryDataset

    from .molecules import MoleculeDataset

__all__ = [
    "TargetTask",
    "binary_task_targets",
    "class_subset_tasks",
    "class_subset_tasks_from_labels",
    "dataset_labels",
    "molecule_task_targets",
]


@dataclass(frozen=True)
class TargetTask:
    """One classification target task over a dataset's samples (graphs or nodes).

    Attributes:
        name: ``"<dataset>/<task>"``, unique within a family.
        dataset: the dataset name, as given to :func:`gtransfer.data.load_dataset`.
        level: ``"graph"`` or ``"node"``.
        indices: (n,) int64 sample indices into the dataset (graph ids or node ids).
        labels: (n,) int64 labels 0..C-1 aligned with ``indices``; -1 where ``valid_mask`` is False.
        valid_mask: (n,) bool, True where the sample has a label for this task.
        splits: ``{"train", "valid", "test"}`` -> int64 dataset indices, valid samples only.
        info: metadata of the valid labels.
        params: how the task was drawn (seed, requested classes, imbalance ratio, task column).
    """

    name: str
    dataset: str
    level: str
    indices: np.ndarray
    labels: np.ndarray
    valid_mask: np.ndarray
    splits: dict[str, np.ndarray]
    info: TaskInfo
    params: dict = field(default_factory=dict)

    @property
    def valid_indices(self) -> np.ndarray:
        """Dataset indices of the samples labelled for this task."""
        return self.indices[self.valid_mask]

    @property
    def valid_labels(self) -> np.ndarray:
        """Labels of :attr:`valid_indices`."""
        return self.labels[self.valid_mask]

    def split_labels(self, split: str) -> np.ndarray:
        """Labels of one split's samples, in the split's order."""
        position = {int(i): k for k, i in enumerate(self.indices)}
        return self.labels[[position[int(i)] for i in self.splits[split]]]


def molecule_task_targets(
    dataset_name: str,
    *,
    root: str | os.PathLike | None = None,
    featurizer: str = "ogb",
    min_per_class: int = 1,
    dataset: MoleculeDataset | PygGraphPropPredDataset | None = None,
    **options,
) -> list[TargetTask]:
    """Every task of a binary multi-task molecule dataset as its own target task.

    Args:
        dataset_name: e.g. ``"ogbg-moltox21"``, ``"ogbg-moltoxcast"``, ``"ogbg-molsider"``, ``"ogbg-molmuv"``.
        root, featurizer, options: passed to :func:`gtransfer.data.load_dataset` (unless ``dataset`` is given).
        min_per_class: tasks with fewer valid positives or negatives are left out, and counted in a
            warning (a task needs both classes to be scored).
        dataset: an already loaded molecule dataset, to avoid loading it again.

    Returns:
        tasks in the dataset's column order; ``indices`` are all molecules, ``valid_mask`` marks the
        ones labelled for the task, ``splits`` are the scaffold split restricted to them.
    """
    if dataset is None:
        from .loading import load_dataset

        dataset = load_dataset(dataset_name, root=root, featurizer=featurizer, **options)
    if getattr(dataset, "task_type", "binary classification") != "binary classification":
        raise ValueError(f"{dataset_name}: molecule_task_targets needs binary classification tasks, "
                         f"this dataset is {dataset.task_type!r}")
    y = dataset._data.y.numpy().astype(np.float64)
    if y.shape[0] != len(dataset):
        raise ValueError(f"{dataset_name}: expected one label row per molecule, got {y.shape[0]} for {len(dataset)}")
    split = {k: v.numpy() for k, v in dataset.get_idx_split().items()}
    return binary_task_targets(y, list(dataset.task_names), split, dataset_name, min_per_class=min_per_class)


def binary_task_targets(
    y: npt.ArrayLike,
    task_names: list[str],
    split: dict[str, np.ndarray],
    dataset_name: str,
    *,
    min_per_class: int = 1,
) -> list[TargetTask]:
    """One binary target per column of a label matrix ``y`` (n, T) with NaN for missing labels.

    ``split`` holds dataset indices (e.g. the scaffold split); each task keeps the labelled ones.
    Tasks with fewer than ``min_per_class`` valid labels in a class are left out and counted in a
    warning.
    """
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.shape[1] != len(task_names):
        raise ValueError(f"{dataset_name}: labels of shape {y.shape} do not match {len(task_names)} task names")
    present = y[~np.isnan(y)]
    if np.any((present != 0) & (present != 1)):
        raise ValueError(f"{dataset_name}: binary task labels must be 0, 1 or NaN")
    indices = np.arange(y.shape[0], dtype=np.int64)
    tasks, dropped = [], []
    for column, task_name in enumerate(task_names):
        valid = ~np.isnan(y[:, column])
        labels = np.where(valid, y[:, column], -1).astype(np.int64)
        counts = np.bincount(labels[valid], minlength=2)
        if valid.sum() == 0 or counts.min() < max(min_per_class, 1):
            dropped.append((task_name, counts.tolist()))
            continue
        name = f"{dataset_name}/{task_name}"
        tasks.append(TargetTask(
            name=name,
            dataset=dataset_name,
            level="graph",
            indices=indices,
            labels=labels,
            valid_mask=valid,
            splits={k: np.asarray(v, dtype=np.int64)[valid[v]] for k, v in split.items()},
            info=describe_labels(labels[valid], name=name),
            params={"task_column": column, "task_name": task_name},
        ))
    if dropped:
        warnings.warn(
            f"{dataset_name}: left out {len(dropped)} of {len(task_names)} tasks with fewer than "
            f"{max(min_per_class, 1)} valid labels in a class (task, [negatives, positives]): {dropped[:5]}"
            f"{' ...' if len(dropped) > 5 else ''}",
            UserWarning,
            stacklevel=3,
        )
    return tasks


def dataset_labels(
    dataset_name: str, *, root: str | os.PathLike | None = None, dataset: InMemoryDataset | None = None, **options
) -> tuple[np.ndarray, str]:
    """Integer labels of a single-label classification dataset and its level (``"graph"``/``"node"``)."""
    if dataset is None:
        from .loading import load_dataset

        dataset = load_dataset(dataset_name, root=root, **options)
    from .loading import dataset_kind

    kind = dataset_kind(dataset_name)
    if kind == "molecule":
        raise ValueError(f"{dataset_name} is multi-task; use molecule_task_targets")
    labels = dataset._data.y.numpy()
    if labels.ndim != 1:
        raise ValueError(f"{dataset_name}: expected one class label per sample, got label shape {labels.shape}")
    return labels.astype(np.int64), ("node" if kind == "planetoid" else "graph")


def class_subset_tasks_from_labels(
    labels: npt.ArrayLike,
    dataset_name: str,
    num_classes: int,
    *,
    imbalance_ratio: float = 1.0,
    seed: int = 0,
    num_tasks: int = 1,
    level: str = "graph",
    max_per_class: int | None = None,
    frac_train: float = 0.8,
    frac_valid: float = 0.1,
    frac_test: float = 0.1,
) -> list[TargetTask]:
    """``num_tasks`` class-subset tasks of a label array; task t uses seed ``seed + t``.

    Classes and samples come from :func:`gtransfer.data.class_subsets.class_subset`, the split from
    :func:`gtransfer.data.splits.stratified_split` (same seed), so a task is fully determined by
    (labels, num_classes, imbalance_ratio, seed).
    """
    labels = np.asarray(labels)
    if num_tasks < 1:
        raise ValueError(f"num_tasks must be >= 1, got {num_tasks}")
    tasks = []
    for t in range(num_tasks):
        task_seed = seed + t
        chosen, remapped = class_subset(labels, num_classes=num_classes, imbalance_ratio=imbalance_ratio,
                                        seed=task_seed, max_per_class=max_per_class)
        classes = sorted(np.unique(labels[chosen]).tolist())
        positions = stratified_split(
            remapped, frac_train=frac_train, frac_valid=frac_valid, frac_test=frac_test, seed=task_seed
        )
        name = f"{dataset_name}/classes={'-'.join(map(str, classes))}/ratio={imbalance_ratio:g}/seed={task_seed}"
        tasks.append(TargetTask(
            name=name,
            dataset=dataset_name,
            level=level,
            indices=chosen.astype(np.int64),
            labels=remapped,
            valid_mask=np.ones(chosen.size, dtype=bool),
            splits={k: chosen[v] for k, v in positions.items()},
            info=describe_labels(remapped, name=name),
            params={"seed": task_seed, "num_classes": num_classes, "imbalance_ratio": imbalance_ratio,
                    "classes": classes, "max_per_class": max_per_class},
        ))
    return tasks


def class_subset_tasks(
    dataset_name: str,
    num_classes: int,
    *,
    imbalance_ratio: float = 1.0,
    seed: int = 0,
    num_tasks: int = 1,
    root: str | os.PathLike | None = None,
    max_per_class: int | None = None,
    dataset: InMemoryDataset | None = None,
    **options,
) -> list[TargetTask]:
    """Class-subset tasks of a multi-class graph (ENZYMES, IMDB-MULTI) or node (Cora, CiteSeer) dataset.

    See :func:`class_subset_tasks_from_labels`; ``indices`` are graph ids (TU) or node ids (Planetoid).
    """
    labels, level = dataset_labels(dataset_name, root=root, dataset=dataset, **options)
    return class_subset_tasks_from_labels(
        labels,
        dataset_name,
        num_classes,
        imbalance_ratio=imbalance_ratio,
        seed=seed,
        num_tasks=num_tasks,
        level=level,
        max_per_class=max_per_class,
    )
