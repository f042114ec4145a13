"""scikit-learn's digits (UCI optical recognition of handwritten digits): 1,797 grey 8x8 images, 10 classes."""

from __future__ import annotations

import numpy as np

from .image_dataset import ImageDataset, first_per_class

__all__ = ["load_digits_images"]


def load_digits_images(*, max_per_class: int | None = None) -> ImageDataset:
    """The digits shipped with scikit-learn as uint8 ``(N, 8, 8, 1)``; pixel values 0..16 scaled to 0..255."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.round(bunch.images * (255.0 / 16.0)).astype(np.uint8)[..., None]
    labels = bunch.target.astype(np.int64)
    keep = first_per_class(labels, max_per_class)
    return ImageDataset(images[keep], labels[keep], tuple(str(d) for d in range(10)), "digits")
