"""MNIST from its standard IDX ``.gz`` files (LeCun, Cortes, Burges 1998).

STATS: 60,000 train / 10,000 test grey 28x28 images, 10 classes (digits 0-9).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .idx import read_idx
from .image_dataset import ImageDataset, first_per_class
from .roots import vision_data_root

__all__ = ["load_mnist", "MNIST_FILES"]

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MNIST_CLASSES = tuple(str(d) for d in range(10))


def _find(folder: Path, stem: str) -> Path:
    for name in (stem + ".gz", stem):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"MNIST file {stem}(.gz) not found in {folder}")


def load_mnist(*, split: str = "train", root: str | os.PathLike | None = None,
               max_per_class: int | None = None) -> ImageDataset:
    """Load an MNIST split as uint8 ``(N, 28, 28, 1)`` images.

    Args:
        split: ``"train"`` or ``"test"``.
        root: the shared data root, its ``vision/`` folder, or a folder with the IDX files
            (``.gz`` or gunzipped); default: see :func:`vision_data_root`.
        max_per_class: keep only the first this many images of each digit (file order).
    """
    if split not in MNIST_FILES:
        raise ValueError(f"load_mnist: split must be 'train' or 'test', got {split!r}")
    folder = (
        Path(root) if root is not None and any(Path(root).glob("*idx*-ubyte*")) else vision_data_root(root) / "mnist"
    )
    image_stem, label_stem = MNIST_FILES[split]
    images = read_idx(_find(folder, image_stem))
    labels = read_idx(_find(folder, label_stem))
    if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
        raise ValueError(f"MNIST {split} images: expected uint8 (N, 28, 28), got {images.dtype} {images.shape}")
    if labels.shape != (images.shape[0],) or labels.max() > 9:
        raise ValueError(f"MNIST {split} labels: expected {images.shape[0]} digits 0-9, got shape {labels.shape}")
    keep = first_per_class(labels, max_per_class)
    return ImageDataset(images[keep][..., None], labels[keep].astype(np.int64), MNIST_CLASSES, f"mnist-{split}")
