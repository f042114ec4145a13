"""Open any encoder file: a gtransfer checkpoint (architecture in its metadata), a DGL encoder
checkpoint (``architecture["framework"] == "dgl"``, reopened by :mod:`gtransfer.models.dgl`, which
needs the ``dgl`` extra) or a published Hu et al. 2020 state_dict (architecture from the file name
or ``arch``)."""

from __future__ import annotations

import os

import torch

from gtransfer.io.checkpoints import read_checkpoint
from gtransfer.models.pretrain_gnns import build_checked_encoder, load_pretrain_gnns
from gtransfer.models.source_heads import SOURCE_HEAD_PREFIX

__all__ = ["load_encoder"]


def load_encoder(path: str | os.PathLike, *, arch: str | None = None) -> torch.nn.Module:
    """The encoder stored at ``path``, in eval mode, every weight from the file.

    Returns:
        a :class:`GNNEncoder`, or a :class:`gtransfer.models.dgl.DGLEncoder` for a DGL checkpoint.

    Raises:
        gtransfer.models.dgl_requirement.MissingDGLError: a DGL checkpoint without a working DGL.
    """
    ckpt = read_checkpoint(path)
    architecture = ckpt["metadata"].get("architecture")
    if architecture is None:  # a bare state_dict: the published layout is the only one we know
        return load_pretrain_gnns(path, arch=arch)
    if architecture.get("framework") == "dgl":
        _check_builder_name(path, architecture.get("builder"))
        from gtransfer.models.dgl import load_dgl_encoder  # MissingDGLError, naming the extra, without DGL

        return load_dgl_encoder(path)
    state = ckpt["state_dict"]
    if "source_head" in ckpt["metadata"]:  # a source model: its head is read by models.source_heads
        state = {k: v for k, v in state.items() if not k.startswith(SOURCE_HEAD_PREFIX)}
    return build_checked_encoder(dict(architecture), state, where=str(path))  # shapes checked before allocating


def _check_builder_name(path: str | os.PathLike, builder: object) -> None:
    """Refuse, before DGL is imported, a builder that is not a plain name (``module:function`` would run code)."""
    if not isinstance(builder, str) or not builder.replace("_", "").replace("-", "").isalnum():
        raise ValueError(
            f"{path}: DGL builder {builder!r} is not a registered builder name; checkpoints may only name "
            "builders registered with gtransfer.models.dgl.register_dgl_builder (a file never names code to import)"
        )
