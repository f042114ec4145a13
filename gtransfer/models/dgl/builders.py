"""Checkpoints of DGL encoders: named builders, saving, and reopening (:func:`gtransfer.models.load_encoder`).

:func:`save_dgl_encoder` writes a gtransfer checkpoint whose metadata names the *builder* (a
registered name such as ``"gin"``) and its keyword arguments; :func:`gtransfer.models.load_encoder`
(hence every command and study) rebuilds the module from them and loads the weights strictly.

Only registered builders can be named: a checkpoint is a file from outside, and a builder it could
name freely (``"subprocess:run"``) would run code when the file is opened. Register your own builder
with :func:`register_dgl_builder` in a module you import before loading (a study spec's ``import:``,
which is trusted code). A builder is called as ``builder(**config)`` and returns a
:class:`~gtransfer.models.dgl.encoder.DGLEncoder`. The examples' builders ``"gin"`` and ``"gcn"``
(:mod:`gtransfer.models.dgl.examples`) are registered here.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from gtransfer.models.dgl.encoder import FRAMEWORK, DGLEncoder
from gtransfer.models.dgl.examples import build_dgl_gcn, build_dgl_gin
from gtransfer.models.dgl_requirement import require_dgl

dgl = require_dgl()

__all__ = ["DGL_BUILDERS", "register_dgl_builder", "build_dgl_encoder", "save_dgl_encoder", "load_dgl_encoder"]

#: registered builder name -> builder
DGL_BUILDERS: dict[str, Callable[..., DGLEncoder]] = {"gin": build_dgl_gin, "gcn": build_dgl_gcn}


def register_dgl_builder(name: str) -> Callable[[Callable[..., DGLEncoder]], Callable[..., DGLEncoder]]:
    """Decorator: make ``builder`` loadable from checkpoints by ``name`` (names must not contain ':')."""
    if ":" in name:
        raise ValueError(f"builder names cannot contain ':' (that marks a module path), got {name!r}")

    def register(builder: Callable[..., DGLEncoder]) -> Callable[..., DGLEncoder]:
        DGL_BUILDERS[name] = builder
        return builder

    return register


def _resolve_builder(builder: object) -> Callable[..., DGLEncoder]:
    """The registered builder ``builder``; nothing is imported for a name (see the module docstring)."""
    if not isinstance(builder, str) or builder not in DGL_BUILDERS:
        raise ValueError(
            f"unknown DGL builder {builder!r}; registered: {sorted(DGL_BUILDERS)} "
            "(register your own with gtransfer.models.dgl.register_dgl_builder in a module you import first)"
        )
    return DGL_BUILDERS[builder]


def build_dgl_encoder(builder: str, **config: Any) -> DGLEncoder:
    """``builder(**config)``, remembered on the encoder so that :func:`save_dgl_encoder` can store it.

    Args:
        builder: a registered name (``"gin"``, ``"gcn"``, or one given to :func:`register_dgl_builder`).
        config: JSON-serialisable keyword arguments of the builder.
    """
    encoder = _resolve_builder(builder)(**config)
    if not isinstance(encoder, DGLEncoder):
        raise ValueError(f"DGL builder {builder!r} returned {type(encoder).__name__}, not a DGLEncoder")
    encoder.builder, encoder.builder_config = builder, dict(config)
    return encoder


def save_dgl_encoder(
    encoder: DGLEncoder, path: str | os.PathLike, *, metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write ``encoder`` as a gtransfer checkpoint that :func:`gtransfer.models.load_encoder` reopens.

    Raises:
        ValueError: the encoder was not made by :func:`build_dgl_encoder` (no builder to rebuild it).
    """
    from gtransfer.io.checkpoints import save_checkpoint
    from gtransfer.io.provenance import code_version

    if not isinstance(encoder, DGLEncoder):
        raise ValueError(f"save_dgl_encoder saves a DGLEncoder, got {type(encoder).__name__}")
    if encoder.builder is None:
        raise ValueError(
            "this DGLEncoder has no builder to rebuild it from; make it with build_dgl_encoder(builder, **config)"
        )
    meta = {"architecture": encoder.config, "dgl_version": dgl.__version__, "torch_version": torch.__version__,
            "code_version": code_version(), **dict(metadata or {})}
    return save_checkpoint(path, encoder.state_dict(), meta)


def load_dgl_encoder(path: str | os.PathLike) -> DGLEncoder:
    """The DGL encoder stored at ``path`` by :func:`save_dgl_encoder`, in eval mode, weights loaded strictly."""
    from gtransfer.io.checkpoints import read_checkpoint

    checkpoint = read_checkpoint(path)
    architecture = checkpoint["metadata"].get("architecture") or {}
    if architecture.get("framework") != FRAMEWORK:
        raise ValueError(
            f"{path} is not a DGL encoder checkpoint (architecture framework: {architecture.get('framework')!r})"
        )
    encoder = build_dgl_encoder(architecture["builder"], **(architecture.get("config") or {}))
    try:
        encoder.load_state_dict(checkpoint["state_dict"], strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"{path}: the weights do not fit builder {architecture['builder']!r}: {str(err).splitlines()[0]}"
        ) from None
    return encoder.eval()
