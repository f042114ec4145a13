"""A small ResNet for 32x32 images (He et al. 2016, "Deep Residual Learning", CIFAR variant, Sec. 4.2).

A 3x3 stem, then one stage per entry of ``widths`` (``blocks`` basic blocks each; every stage after
the first halves the resolution), global average pooling. Each basic block computes

.. math::
    y = \\mathrm{relu}(\\mathrm{bn}(W_2 * \\mathrm{relu}(\\mathrm{bn}(W_1 * x))) + S x)

with S the identity, or a strided 1x1 convolution + BN when the shape changes. The embedding
(penultimate layer) is the pooled output of the last stage: ``embedding_dim = widths[-1]``.

Shapes: input ``(B, in_channels, H, W)`` (32x32 by design, any size >= 2^(stages-1) works);
output of ``embed``/``forward`` ``(B, widths[-1])``.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["SmallResNet", "BasicBlock"]


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a residual connection."""

    def __init__(self, in_channels: int, out_channels: int, *, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class SmallResNet(nn.Module):
    """Small CIFAR-style ResNet encoder.

    Args:
        in_channels (int): image channels (default 3).
        widths (tuple[int, ...]): channels of each stage (default ``(16, 32, 64)``, the ResNet-20 widths).
        blocks (int): basic blocks per stage (default 1).
        input_size (int): side of the images it is built for (metadata; default 32).
    """

    def __init__(self, *, in_channels: int = 3, widths: tuple[int, ...] = (16, 32, 64), blocks: int = 1,
                 input_size: int = 32) -> None:
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if in_channels not in (1, 3):
            raise ValueError(f"SmallResNet: in_channels must be 1 or 3, got {in_channels}")
        if not widths or min(widths) < 1:
            raise ValueError(f"SmallResNet: widths must be positive channel counts, got {widths}")
        if blocks < 1:
            raise ValueError(f"SmallResNet: blocks must be >= 1, got {blocks}")
        self.config = {"in_channels": in_channels, "widths": list(widths), "blocks": blocks, "input_size": input_size}
        self.input_shape = (in_channels, input_size, input_size)
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True))
        layers: list[nn.Module] = []
        previous = widths[0]
        for stage, width in enumerate(widths):
            for block in range(blocks):
                stride = 2 if stage > 0 and block == 0 else 1
                layers.append(BasicBlock(previous, width, stride=stride))
                previous = width
        self.stages = nn.Sequential(*layers)
        self.embedding_dim = widths[-1]

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features ``(B, embedding_dim)``: global average pool of the last stage."""
        if x.ndim != 4 or x.shape[1] != self.input_shape[0]:
            raise ValueError(f"SmallResNet.embed: expected (B, {self.input_shape[0]}, H, W), got {tuple(x.shape)}")
        return self.stages(self.stem(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(x)
