"""Adapters ``batch_to(batch, device) -> (inputs, targets)`` that let one loop serve every modality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from torch_geometric.data import Batch, Data

__all__ = ["pyg_batch_to", "tensor_batch_to", "resolve_device"]


def pyg_batch_to(batch: Data | Batch, device: torch.device | str) -> tuple[Data | Batch, torch.Tensor | None]:
    """A PyG ``Batch`` -> (the batch on ``device``, ``batch.y`` on ``device`` or ``None``)."""
    batch = batch.to(device)
    return batch, getattr(batch, "y", None)


def tensor_batch_to(batch: Sequence[torch.Tensor], device: torch.device | str) -> tuple[torch.Tensor, torch.Tensor]:
    """An ``(x, y)`` pair of tensors (an image loader) -> both on ``device``."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(f"tensor_batch_to expects (inputs, targets) pairs, got {type(batch).__name__}")
    x, y = batch
    return x.to(device), y.to(device)


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``None`` -> CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
