"""Load the published molecule encoders of Hu et al. 2020 exactly.

"Strategies for Pre-training Graph Neural Networks" (Hu, Liu, Gomes, Zitnik, Liang, Pande, Leskovec,
ICLR 2020) released ``chem/model_gin/*.pth`` ... ``gat_*.pth``: legacy ``torch.save`` state_dicts of
a 5-layer, 300-wide encoder on the ``hu2020`` featurisation (``docs/pretrain_gnns_format.md``).
This module renames their keys onto :class:`~gtransfer.models.GNNEncoder` and refuses any file
where a key is left over, missing or mis-shaped, so nothing stays randomly initialised.

``gcn`` and ``graphsage`` files have identical keys and shapes: the architecture comes from the
file name (``gcn_*``, ``graphsage_*``, ``gat_*``, ``gin_*``) or the ``arch`` argument, never a guess.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import torch

from gtransfer.io.checkpoints import load_checkpoint
from gtransfer.models.encoder import GNNEncoder, build_encoder

__all__ = ["build_checked_encoder", "load_pretrain_gnns", "from_pretrain_gnns_keys", "to_pretrain_gnns_keys",
           "arch_from_filename"]

_ARCHS = ("gin", "gcn", "graphsage", "gat")
_EDGE_EMB = re.compile(r"^gnns\.(\d+)\.edge_embedding([12])\.weight$")


def arch_from_filename(path: str | os.PathLike) -> str | None:
    """``"graphsage"`` for ``graphsage_supervised.pth`` etc.; ``None`` when the name says nothing."""
    stem = Path(path).name.lower()
    for arch in sorted(_ARCHS, key=len, reverse=True):  # "graphsage" before "gat"/"gcn"
        if stem.startswith(arch + "_") or stem == arch + ".pth":
            return arch
    return None


def from_pretrain_gnns_keys(key: str) -> str:
    """Map one published key to the :class:`GNNEncoder` key (``x_embedding1.weight`` ->
    ``node_encoder.embeddings.0.weight``)."""
    if key.startswith("x_embedding1."):
        return "node_encoder.embeddings.0." + key.split(".", 1)[1]
    if key.startswith("x_embedding2."):
        return "node_encoder.embeddings.1." + key.split(".", 1)[1]
    match = _EDGE_EMB.match(key)
    if match:
        layer, which = match.groups()
        return f"convs.{layer}.edge_encoder.embeddings.{int(which) - 1}.weight"
    if key.startswith("gnns."):
        return "convs." + key[len("gnns."):]
    return key  # batch_norms.* keep their names


def to_pretrain_gnns_keys(key: str) -> str:
    """Inverse of :func:`from_pretrain_gnns_keys` (to write encoders in the published layout)."""
    if key.startswith("node_encoder.embeddings."):
        index, rest = key[len("node_encoder.embeddings."):].split(".", 1)
        return f"x_embedding{int(index) + 1}.{rest}"
    match = re.match(r"^convs\.(\d+)\.edge_encoder\.embeddings\.(\d)\.weight$", key)
    if match:
        layer, index = match.groups()
        return f"gnns.{layer}.edge_embedding{int(index) + 1}.weight"
    if key.startswith("convs."):
        return "gnns." + key[len("convs."):]
    return key


def _infer_shape(state: dict[str, torch.Tensor], arch: str) -> dict:
    if "x_embedding1.weight" not in state:
        raise ValueError("not a pretrain_gnns encoder: no 'x_embedding1.weight' key")
    hidden = int(state["x_embedding1.weight"].shape[1])
    layers = sorted({int(k.split(".")[1]) for k in state if k.startswith("batch_norms.")})
    if not layers or layers != list(range(len(layers))):
        raise ValueError(f"batch_norms layers are not 0..L-1: {layers}")
    has_att = any(k.endswith(".att") for k in state)
    has_mlp = any(".mlp." in k for k in state)
    expected = {"gat": has_att, "gin": has_mlp, "gcn": not (has_att or has_mlp), "graphsage": not (has_att or has_mlp)}
    if not expected[arch]:
        raise ValueError(f"the state_dict's keys do not match arch={arch!r} (attention: {has_att}, GIN mlp: {has_mlp})")
    config = {"arch": arch, "num_layers": len(layers), "hidden_dim": hidden, "dropout": 0.0, "jk": "last",
              "pooling": "mean", "node_features": "hu2020", "edge_features": "hu2020"}
    if arch == "gat":
        attention = next(value for key, value in sorted(state.items()) if key.endswith(".att"))
        if attention.dim() < 2:
            raise ValueError(f"attention tensors must be (1, heads, 2 * dim); got shape {tuple(attention.shape)}")
        config["heads"] = int(attention.shape[1])
    return config


def load_pretrain_gnns(path: str | os.PathLike, *, arch: str | None = None) -> GNNEncoder:
    """Load a published Hu et al. 2020 chem encoder; every key consumed, shapes checked.

    Args:
        path: a ``*.pth`` file of ``pretrain_gnns/chem`` (read with ``torch.load(weights_only=True)``).
        arch: ``"gin"``, ``"gcn"``, ``"graphsage"`` or ``"gat"``; default: from the file name.

    Returns:
        The encoder in eval mode (BatchNorm uses the published running statistics), expecting the
        ``hu2020`` featurisation, mean pooling, ``embedding_dim`` = 300.

    Raises:
        FileNotFoundError, ValueError: missing file; unknown architecture; a key left over, missing
        or of the wrong shape.
    """
    if arch is None:
        arch = arch_from_filename(path)
        if arch is None:
            raise ValueError(
                f"cannot tell the architecture of {Path(path).name}: gcn and graphsage files have identical "
                f"keys; name the file gcn_*/graphsage_*/gat_*/gin_* or pass arch= one of {_ARCHS}"
            )
    if arch not in _ARCHS:
        raise ValueError(f"arch must be one of {_ARCHS}, got {arch!r}")
    published, _ = load_checkpoint(path)
    renamed = {from_pretrain_gnns_keys(key): value for key, value in published.items()}
    try:
        return build_checked_encoder(_infer_shape(published, arch), renamed, where=f"{Path(path).name} ({arch})")
    except ValueError as error:  # name the published key, not the renamed one
        for key in published:
            message = str(error).replace(repr(from_pretrain_gnns_keys(key)), repr(key))
            if message != str(error):
                raise ValueError(message) from None
        raise


def build_checked_encoder(config: dict, state: dict[str, torch.Tensor], *, where: str) -> GNNEncoder:
    """The encoder ``config`` describes, holding ``state``; keys and shapes are checked before any allocation.

    The encoder is first built on the ``meta`` device (shapes only, no memory), so a file whose
    architecture asks for a huge model (``hidden_dim`` of 10^6 from a few bytes of metadata) is
    refused by the shape check instead of allocating it; every key must be there, with its shape.

    Raises:
        ValueError: a key left over, missing or of the wrong shape (one line naming ``where``).
    """
    with torch.device("meta"):
        target = build_encoder(config).state_dict()
    for key, value in state.items():
        if key not in target:
            raise ValueError(f"{where}: key {key!r} has no place in the encoder its architecture describes")
        if tuple(target[key].shape) != tuple(value.shape):
            raise ValueError(f"{where}: {key!r} has shape {tuple(value.shape)}, expected {tuple(target[key].shape)}")
    missing = sorted(set(target) - set(state))
    if missing:
        raise ValueError(f"{where}: the file lacks {len(missing)} encoder keys, e.g. {missing[:5]}")
    encoder = build_encoder(config)
    encoder.load_state_dict(state, strict=True)
    return encoder.eval()
