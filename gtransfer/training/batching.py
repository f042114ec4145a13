"""Adapters ``batch_to(batch, device) -> (inputs, targets)`` that let one loop serve every modality."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from torch_geometric.data import Batch, Data

__all__ = ["pyg_batch_to", "tensor_batch_to", "resolve_device", "DeviceUnavailableError"]


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


class DeviceUnavailableError(ValueError):
    """A CUDA device was asked for where torch cannot use one (a CPU-only build, or no visible GPU)."""

    hint = "use --device cpu, or leave the device out to use a GPU only when there is one"


def resolve_device(device: torch.device | str | None) -> torch.device:
    """``None`` or ``"auto"`` -> CUDA when available, else CPU; ``"cuda"`` where it is unusable -> one-line error.

    Raises:
        DeviceUnavailableError: CUDA asked for with a CPU-only torch build or without a visible GPU.
        ValueError: not a device name torch knows.
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as exc:
        raise ValueError(f"unknown device {device!r} ({exc}); use 'cpu', 'cuda', 'cuda:N' or 'auto'") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        build = "a CPU-only build" if torch.version.cuda is None else "a CUDA build but sees no GPU"
        raise DeviceUnavailableError(
            f"device {str(device)!r} was asked for, but this torch {torch.__version__} is {build}"
        )
    return resolved
