"""Open any encoder file: a gtransfer checkpoint (architecture in its metadata) or a published
Hu et al. 2020 state_dict (architecture from the file name or ``arch``)."""

from __future__ import annotations

import os

from gtransfer.checkpoints import read_checkpoint
from gtransfer.models.encoder import GNNEncoder, build_encoder
from gtransfer.models.pretrain_gnns import load_pretrain_gnns

__all__ = ["load_encoder"]


def load_encoder(path: str | os.PathLike, arch: str | None = None) -> GNNEncoder:
    """The encoder stored at ``path``, in eval mode, every weight from the file."""
    ckpt = read_checkpoint(path)
    architecture = ckpt["metadata"].get("architecture")
    if architecture is None:  # a bare state_dict: the published layout is the only one we know
        return load_pretrain_gnns(path, arch=arch)
    encoder = build_encoder(architecture)
    encoder.load_state_dict(ckpt["state_dict"], strict=True)
    return encoder.eval()
