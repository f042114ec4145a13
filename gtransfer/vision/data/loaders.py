"""From uint8 images to the float tensors and loaders encoders take.

Images are scaled to [0, 1], adapted to the encoder's input shape (grey <-> RGB, bilinear resize)
and standardised as (x - 0.5) / 0.5, so any encoder of the zoo can embed any image dataset.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from .image_dataset import ImageDataset

__all__ = ["images_to_tensor", "make_loader", "image_batch_to"]

_LUMA = torch.tensor([0.299, 0.587, 0.114], dtype=torch.float32).view(1, 3, 1, 1)


def images_to_tensor(images: np.ndarray, *, input_shape: tuple[int, int, int] | None = None) -> torch.Tensor:
    """uint8 ``(N, H, W, C)`` -> float32 ``(N, C', H', W')`` for an encoder taking ``input_shape = (C', H', W')``.

    Grey to RGB repeats the channel; RGB to grey uses ITU-R 601 luma weights.
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(f"images must be (N, H, W, 1|3), got {images.shape}")
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)
    if input_shape is not None:
        channels, height, width = (int(v) for v in input_shape)
        if channels not in (1, 3):
            raise ValueError(f"input_shape channels must be 1 or 3, got {input_shape}")
        if x.shape[1] == 1 and channels == 3:
            x = x.expand(-1, 3, -1, -1)
        elif x.shape[1] == 3 and channels == 1:
            x = (x * _LUMA).sum(dim=1, keepdim=True)
        if tuple(x.shape[2:]) != (height, width):
            x = F.interpolate(x, size=(height, width), mode="bilinear", align_corners=False, antialias=True)
    return ((x - 0.5) / 0.5).contiguous()


def make_loader(dataset: ImageDataset, *, input_shape: tuple[int, int, int] | None = None, batch_size: int = 128,
                shuffle: bool = False, seed: int = 0) -> DataLoader:
    """A DataLoader of ``(images, labels)`` batches; shuffling is seeded."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    tensors = TensorDataset(images_to_tensor(dataset.images, input_shape=input_shape), torch.from_numpy(dataset.labels))
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(tensors, batch_size=batch_size, shuffle=shuffle, generator=generator)


def image_batch_to(
    batch: Sequence[torch.Tensor], device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``batch_to`` adapter of ``gtransfer.training.finetune``/``gtransfer.embeddings.embed`` for image batches."""
    images, labels = batch
    return images.to(device), labels.to(device)
