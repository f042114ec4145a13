"""The in-memory image dataset every vision loader returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImageDataset", "first_per_class"]


@dataclass(frozen=True)
class ImageDataset:
    """Images as uint8 ``(N, H, W, C)`` with integer labels ``(N,)`` in ``0..len(classes)-1``.

    Args:
        images: uint8 pixels, channels last (C = 1 for grey, 3 for RGB).
        labels: int64 class ids.
        classes: class names, indexed by label.
        name: dataset name (with the split), used in task names and error messages.
    """

    images: np.ndarray
    labels: np.ndarray
    classes: tuple[str, ...]
    name: str

    def __post_init__(self) -> None:
        if self.images.ndim != 4 or self.images.shape[-1] not in (1, 3):
            raise ValueError(f"ImageDataset {self.name}: images must be (N, H, W, 1|3), got {self.images.shape}")
        if self.images.dtype != np.uint8:
            raise ValueError(f"ImageDataset {self.name}: images must be uint8, got {self.images.dtype}")
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(
                f"ImageDataset {self.name}: labels shape {self.labels.shape} does not match "
                f"{self.images.shape[0]} images"
            )
        if self.labels.size and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise ValueError(f"ImageDataset {self.name}: labels outside 0..{len(self.classes) - 1}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)``, the layout encoders take."""
        _, h, w, c = self.images.shape
        return (c, h, w)

    def subset(self, indices: np.ndarray, *, labels: np.ndarray | None = None,
               classes: tuple[str, ...] | None = None, name: str | None = None) -> ImageDataset:
        """The samples at ``indices``, optionally relabelled (for class-subset tasks)."""
        indices = np.asarray(indices, dtype=np.int64)
        return ImageDataset(
            images=self.images[indices],
            labels=self.labels[indices] if labels is None else np.asarray(labels, dtype=np.int64),
            classes=self.classes if classes is None else tuple(classes),
            name=self.name if name is None else name,
        )

    def __repr__(self) -> str:
        return f"ImageDataset({self.name!r}, n={len(self)}, shape={self.image_shape}, classes={len(self.classes)})"


def first_per_class(labels: np.ndarray, max_per_class: int | None) -> np.ndarray:
    """Indices of the first ``max_per_class`` samples of each class, in their original order.

    A deterministic cap (no seed): the same files are kept whichever loader path produced the arrays.
    """
    labels = np.asarray(labels)
    if max_per_class is None:
        return np.arange(labels.size)
    if int(max_per_class) < 1:
        raise ValueError(f"max_per_class must be >= 1, got {max_per_class}")
    keep = np.zeros(labels.size, dtype=bool)
    for cls in np.unique(labels):
        keep[np.flatnonzero(labels == cls)[: int(max_per_class)]] = True
    return np.flatnonzero(keep)
