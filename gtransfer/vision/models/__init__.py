"""Image encoders with ``embedding_dim`` and ``embed(x)`` (penultimate layer), the interface
``gtransfer.training.finetune`` and ``gtransfer.embeddings.embed`` take."""

from __future__ import annotations

from torch import nn

from .cnn import SmallCNN
from .resnet import BasicBlock, SmallResNet
from .torchvision_models import TorchvisionEncoder, load_torchvision_encoder

__all__ = ["ARCHITECTURES", "BasicBlock", "SmallCNN", "SmallResNet", "TorchvisionEncoder", "build_encoder",
           "load_torchvision_encoder"]

ARCHITECTURES: dict[str, type[nn.Module]] = {"resnet": SmallResNet, "cnn": SmallCNN}


def build_encoder(arch: str, **config) -> nn.Module:
    """Build a zoo encoder from its name and the ``config`` stored in its checkpoint metadata."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown vision architecture {arch!r}; known: {sorted(ARCHITECTURES)}")
    return ARCHITECTURES[arch](**config)
