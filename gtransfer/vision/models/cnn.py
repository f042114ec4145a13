"""A small LeNet-style CNN for 28x28 grey images (LeCun et al. 1998, with ReLU, max-pooling and BN).

Two conv-BN-ReLU-maxpool stages (``width`` and ``2 * width`` channels; 28 -> 14 -> 7), flatten, a
fully connected ReLU layer of ``embedding_dim`` units: the penultimate layer whose activations
``embed`` returns.

Shapes: input ``(B, in_channels, 28, 28)``; ``embed``/``forward`` output ``(B, embedding_dim)``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SmallCNN"]


class SmallCNN(nn.Module):
    """Small CNN encoder.

    Args:
        in_channels (int): image channels (default 1).
        width (int): channels of the first conv stage (default 16).
        embedding_dim (int): units of the penultimate fully connected layer (default 128).
        input_size (int): image side (default 28; must be divisible by 4).
    """

    def __init__(
        self, *, in_channels: int = 1, width: int = 16, embedding_dim: int = 128, input_size: int = 28
    ) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"SmallCNN: in_channels must be 1 or 3, got {in_channels}")
        if width < 1 or embedding_dim < 1:
            raise ValueError(f"SmallCNN: width and embedding_dim must be >= 1, got {width}, {embedding_dim}")
        if input_size % 4 or input_size < 4:
            raise ValueError(f"SmallCNN: input_size must be a positive multiple of 4, got {input_size}")
        self.config = {
            "in_channels": in_channels,
            "width": width,
            "embedding_dim": embedding_dim,
            "input_size": input_size,
        }
        self.input_shape = (in_channels, input_size, input_size)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1, bias=False), nn.BatchNorm2d(2 * width), nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        )
        self.fc = nn.Linear(2 * width * (input_size // 4) ** 2, embedding_dim)
        self.embedding_dim = embedding_dim

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features ``(B, embedding_dim)`` (after the ReLU)."""
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(
                f"SmallCNN.embed: expected (B, {', '.join(map(str, self.input_shape))}), got {tuple(x.shape)}"
            )
        return torch.relu(self.fc(self.features(x).flatten(1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(x)
