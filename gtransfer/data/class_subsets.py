"""Task metadata and class-subset target tasks, on plain label arrays.

Shared by the graph side and the vision branch: a target task is a subset of a labelled dataset's
samples, with a chosen number of classes and a chosen imbalance ratio, deterministic by seed.
Its metadata (sample count, class counts, label entropy H(Y), imbalance ratio) is what the
target-selection corrections of ``gtransfer.metrics`` need.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["TaskInfo", "describe_labels", "class_sizes", "class_subset", "MIN_PER_CLASS"]

#: the fewest samples a class of a class-subset task may have
MIN_PER_CLASS = 2


@dataclass(frozen=True)
class TaskInfo:
    """Metadata of one classification target task.

    ``label_entropy`` is H(Y) = -sum_c p_c log p_c in nats, with p_c the empirical class frequencies;
    ``imbalance_ratio`` is max_c n_c / min_c n_c over the classes present.
    """

    name: str
    num_samples: int
    num_classes: int
    class_counts: tuple[int, ...]
    label_entropy: float
    imbalance_ratio: float

    def to_dict(self) -> dict:
        return asdict(self)


def _as_label_array(labels: npt.ArrayLike) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {labels.shape}")
    if labels.size == 0:
        raise ValueError("labels are empty")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise ValueError("labels must be integers 0..C-1 (encode them with np.unique(y, return_inverse=True))")
        labels = labels.astype(np.int64)
    if labels.min() < 0:
        raise ValueError("labels must be non-negative integers 0..C-1")
    return labels


def describe_labels(labels: npt.ArrayLike, *, name: str = "task") -> TaskInfo:
    """Metadata of a label vector; classes are the values present (absent ids are not counted)."""
    labels = _as_label_array(labels)
    counts = np.bincount(labels)
    counts = counts[counts > 0]
    p = counts / counts.sum()
    return TaskInfo(
        name=name,
        num_samples=int(labels.size),
        num_classes=int(counts.size),
        class_counts=tuple(int(c) for c in counts),
        label_entropy=float(-(p * np.log(p)).sum()),
        imbalance_ratio=float(counts.max() / counts.min()),
    )


def class_sizes(n_max: int, num_classes: int, *, imbalance_ratio: float = 1.0) -> np.ndarray:
    """The class sizes of a class-subset task, largest first: n_k = round(n_max * r^(-k / (K - 1))), k = 0..K-1
    (at least 1), so the largest class is r times the smallest. :func:`class_subset` draws which class gets which.

    Examples:
        >>> class_sizes(100, 3, imbalance_ratio=4.0).tolist()
        [100, 50, 25]
    """
    k = int(num_classes)
    return np.maximum(1, np.round(n_max * imbalance_ratio ** (-np.arange(k) / max(k - 1, 1)))).astype(int)


def class_subset(
    labels: npt.ArrayLike,
    *,
    num_classes: int | None = None,
    classes: list[int] | None = None,
    imbalance_ratio: float = 1.0,
    seed: int = 0,
    max_per_class: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pick samples forming a task with ``num_classes`` classes and a given imbalance ratio.

    Classes are ``classes`` if given, else ``num_classes`` drawn at random. Per-class sizes follow a
    geometric profile n_k = round(n_max * r^(-k / (K - 1))), k = 0..K-1, so the largest class is r
    times the smallest; n_max is the smallest available class size (capped by ``max_per_class``), and
    which class gets which size is drawn at random. Every class must keep at least ``MIN_PER_CLASS``
    samples (a ValueError otherwise: with one sample per class the labels are sample ids). Returns the chosen sample
    indices (sorted) and
    their labels remapped to 0..K-1 in increasing order of the original class id.
    """
    labels = _as_label_array(labels)
    present = np.flatnonzero(np.bincount(labels))
    rng = np.random.default_rng(seed)
    if classes is None:
        if num_classes is None:
            raise ValueError("class_subset needs num_classes or classes")
        if not 2 <= num_classes <= present.size:
            raise ValueError(f"num_classes must be in [2, {present.size}] for these labels, got {num_classes}")
        classes = sorted(rng.choice(present, size=num_classes, replace=False).tolist())
    else:
        classes = sorted(int(c) for c in classes)
        missing = [c for c in classes if c not in set(present.tolist())]
        if missing or len(set(classes)) < 2:
            raise ValueError(f"classes must be >= 2 distinct labels present in the data; absent: {missing}")
    if imbalance_ratio < 1.0:
        raise ValueError(f"imbalance_ratio must be >= 1 (largest / smallest class), got {imbalance_ratio}")
    k = len(classes)
    n_max = int(min(np.sum(labels == c) for c in classes))
    if max_per_class is not None:
        n_max = min(n_max, int(max_per_class))
    sizes = class_sizes(n_max, k, imbalance_ratio=imbalance_ratio)
    if sizes.min() < MIN_PER_CLASS:
        raise ValueError(
            f"a class subset of {k} classes with at most {n_max} samples in its largest class and imbalance ratio "
            f"{imbalance_ratio:g} has {int(sizes.min())} sample(s) in its smallest class; every class needs at least "
            f"{MIN_PER_CLASS} (with one sample per class the labels are sample ids and every metric reads them back): "
            f"raise max (max_per_class) to at least {int(np.ceil(MIN_PER_CLASS * imbalance_ratio))} or lower the ratio"
        )
    sizes = sizes[rng.permutation(k)]
    chosen = []
    for cls, size in zip(classes, sizes):
        members = np.flatnonzero(labels == cls)
        chosen.append(rng.choice(members, size=size, replace=False))
    indices = np.sort(np.concatenate(chosen))
    remap = {c: i for i, c in enumerate(classes)}
    new_labels = np.array([remap[int(c)] for c in labels[indices]], dtype=np.int64)
    return indices, new_labels
