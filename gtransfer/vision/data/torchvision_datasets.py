"""torchvision's dataset classes, converted to :class:`ImageDataset`, when torchvision is importable.

No download happens unless ``download=True`` is passed (the shared data machines have no internet).
"""

from __future__ import annotations

import os

import numpy as np

from .image_dataset import ImageDataset, first_per_class

__all__ = ["torchvision_available", "load_torchvision_dataset"]


def torchvision_available() -> bool:
    """Whether ``import torchvision`` works in this environment."""
    try:
        import torchvision  # noqa: F401
    except Exception:  # ImportError, or a binary mismatch with the installed torch
        return False
    return True


def load_torchvision_dataset(name: str, root: str | os.PathLike, *, split: str = "train",
                             download: bool = False, max_per_class: int | None = None) -> ImageDataset:
    """Load ``torchvision.datasets.<name>`` (e.g. ``"MNIST"``, ``"CIFAR10"``, ``"FashionMNIST"``).

    Raises ImportError when torchvision is missing, ValueError for an unknown class name, and
    whatever torchvision raises (RuntimeError) when the files are absent and ``download`` is False.
    """
    if not torchvision_available():
        raise ImportError("torchvision is not importable here; use load_mnist / load_cifar10 on the shipped files")
    import torchvision.datasets as tvd

    cls = getattr(tvd, name, None)
    if cls is None:
        raise ValueError(f"torchvision.datasets has no dataset {name!r}")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    dataset = cls(root=str(root), train=(split == "train"), download=download)
    images = np.asarray(dataset.data)
    if hasattr(images, "numpy"):
        images = images.numpy()
    images = images.astype(np.uint8)
    if images.ndim == 3:
        images = images[..., None]
    labels = np.asarray(dataset.targets, dtype=np.int64)
    keep = first_per_class(labels, max_per_class)
    classes = tuple(str(c) for c in getattr(dataset, "classes", range(int(labels.max()) + 1)))
    return ImageDataset(images[keep], labels[keep], classes, f"{name.lower()}-{split}")
