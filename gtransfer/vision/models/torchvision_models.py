"""torchvision architectures (ResNet-18/50, ...) as encoders, from local weight files only (no hub).

The classifier layer is replaced by the identity, so ``embed`` returns the penultimate (pooled)
features, e.g. 512 for ResNet-18.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from ..data.torchvision_datasets import torchvision_available

__all__ = ["TorchvisionEncoder", "load_torchvision_encoder"]


class TorchvisionEncoder(nn.Module):
    """Wraps a torchvision classification model whose last ``fc``/``classifier`` layer becomes the identity."""

    def __init__(self, backbone: nn.Module, embedding_dim: int, arch: str, *, input_size: int = 224) -> None:
        super().__init__()
        self.backbone = backbone
        self.embedding_dim = embedding_dim
        self.config = {"arch": arch, "input_size": input_size}
        self.input_shape = (3, input_size, input_size)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features ``(B, embedding_dim)``."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(x)


def load_torchvision_encoder(arch: str, *, weights_path: str | os.PathLike | None = None,
                             input_size: int = 224) -> TorchvisionEncoder:
    """Build ``torchvision.models.<arch>`` and load a local state_dict (a plain or ``{"state_dict": ...}`` file).

    Raises ImportError without torchvision, FileNotFoundError for a missing weight file and
    ValueError for an unknown architecture or a state_dict that does not match it.
    """
    if not torchvision_available():
        raise ImportError("torchvision is not importable here; SmallResNet and SmallCNN need no torchvision")
    import torchvision.models as tvm

    builder = getattr(tvm, arch, None)
    if builder is None or not callable(builder):
        raise ValueError(f"torchvision.models has no architecture {arch!r}")
    model = builder(weights=None)
    if weights_path is not None:
        path = Path(weights_path)
        if not path.is_file():
            raise FileNotFoundError(f"weight file not found: {path}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = state.get("state_dict", state) if isinstance(state, dict) else state
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            raise ValueError(f"{path} does not match torchvision.models.{arch}: {exc}") from exc
    if isinstance(getattr(model, "fc", None), nn.Linear):
        dim = model.fc.in_features
        model.fc = nn.Identity()
    elif isinstance(getattr(model, "classifier", None), nn.Sequential) and isinstance(model.classifier[-1], nn.Linear):
        dim = model.classifier[-1].in_features
        model.classifier[-1] = nn.Identity()
    else:
        raise ValueError(f"torchvision.models.{arch}: no fc/classifier layer to strip")
    return TorchvisionEncoder(model, dim, arch, input_size=input_size)
