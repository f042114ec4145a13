"""Image data for the vision branch: MNIST (IDX), CIFAR-10 (JPEG tarballs), scikit-learn digits,
torchvision datasets when importable, and class-subset target tasks."""

from __future__ import annotations

import os

from .cifar10 import CIFAR10_CLASSES, load_cifar10
from .digits import load_digits_images
from .idx import read_idx
from .image_dataset import ImageDataset, first_per_class
from .loaders import image_batch_to, images_to_tensor, make_loader
from .mnist import load_mnist
from .roots import vision_cache_dir, vision_data_root
from .tasks import ImageTask, make_class_task
from .torchvision_datasets import load_torchvision_dataset, torchvision_available

__all__ = [
    "CIFAR10_CLASSES", "ImageDataset", "ImageTask", "first_per_class", "image_batch_to", "images_to_tensor",
    "load_cifar10", "load_digits_images", "load_image_dataset", "load_mnist", "load_torchvision_dataset",
    "make_class_task", "make_loader", "read_idx", "torchvision_available",
    "vision_cache_dir", "vision_data_root",
]


def load_image_dataset(
    name: str, *, split: str = "train", root: str | os.PathLike | None = None, max_per_class: int | None = None
) -> ImageDataset:
    """Load by name: ``"mnist"``, ``"cifar10"``, ``"digits"`` (one split only) or ``"torchvision:<Class>"``."""
    key = name.lower()
    if key == "mnist":
        return load_mnist(split=split, root=root, max_per_class=max_per_class)
    if key == "cifar10":
        return load_cifar10(split=split, root=root, max_per_class=max_per_class)
    if key == "digits":
        return load_digits_images(max_per_class=max_per_class)
    if key.startswith("torchvision:"):
        if root is None:
            raise ValueError("torchvision datasets need an explicit root")
        return load_torchvision_dataset(name.split(":", 1)[1], root, split=split, max_per_class=max_per_class)
    raise ValueError(f"unknown image dataset {name!r} (mnist, cifar10, digits, torchvision:<Class>)")
