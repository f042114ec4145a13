"""Encoders named by a string: a checkpoint file, or a randomly initialised zoo member.

* ``path/to/gcn_contextpred.pth`` -- a published Hu et al. 2020 chem encoder
  (:func:`gtransfer.models.load_pretrain_gnns`), or a gtransfer checkpoint whose metadata holds the
  encoder ``config`` (:func:`gtransfer.checkpoints.save_checkpoint`).
* ``random:gin`` or ``random:gcn:layers=3,dim=64,seed=1`` -- an untrained encoder, the baseline every
  pretrained one should beat; its input layer matches the target (``hu2020`` molecule features or
  the dataset's float features).
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["load_encoder", "encoder_featurizer", "encoder_identity"]


def _random_options(spec: str) -> tuple[str, dict]:
    parts = spec.split(":")
    if len(parts) < 2 or parts[1] not in ("gin", "gcn", "graphsage", "gat"):
        raise ValueError(f"encoder {spec!r}: write random:ARCH[:layers=L,dim=D,seed=S] with ARCH gin/gcn/graphsage/gat")
    options = {"layers": 5, "dim": 300, "seed": 0}
    if len(parts) > 2:
        for item in parts[2].split(","):
            key, _, value = item.partition("=")
            if key not in options or not value.isdigit():
                raise ValueError(f"encoder {spec!r}: options are layers=, dim=, seed= (integers); got {item!r}")
            options[key] = int(value)
    return parts[1], options


def encoder_featurizer(spec: str) -> str:
    """The molecule featuriser an encoder expects (``hu2020`` for random molecule encoders)."""
    if spec.startswith("random:"):
        _random_options(spec)
        return "hu2020"
    encoder = load_encoder(spec)
    return getattr(encoder, "featurizer", None) or "ogb"


def load_encoder(spec: str, node_features: str | int = "hu2020"):
    """The encoder named by ``spec`` in eval mode (see the module docstring).

    Args:
        node_features: input of a ``random:`` encoder: ``"hu2020"``/``"ogb"`` molecule features or the
            width of float node features.

    Raises:
        FileNotFoundError: no such checkpoint.
        ValueError: a bad ``random:`` spec, or a checkpoint that is not an encoder.
    """
    import torch

    from gtransfer.models import build_encoder, load_pretrain_gnns

    if spec.startswith("random:"):
        arch, options = _random_options(spec)
        torch.manual_seed(options["seed"])
        edge = node_features if isinstance(node_features, str) else None
        config = {"arch": arch, "num_layers": options["layers"], "hidden_dim": options["dim"], "node_features": node_features, "edge_features": edge}
        return build_encoder(config).eval()
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"encoder checkpoint {path} does not exist")
    from gtransfer.checkpoints import load_checkpoint

    state, metadata = load_checkpoint(path)
    config = metadata.get("config") or metadata.get("encoder_config")
    if not config:
        return load_pretrain_gnns(path)
    encoder = build_encoder(config)
    missing, unexpected = encoder.load_state_dict(state, strict=False)
    if missing:
        raise ValueError(f"{path}: the checkpoint lacks {len(missing)} encoder weights, e.g. {missing[:3]}")
    return encoder.eval()


def encoder_identity(spec: str) -> dict:
    """What determines an encoder's embeddings: the spec, plus the file's SHA-256 for a checkpoint."""
    if spec.startswith("random:"):
        return {"spec": spec}
    from gtransfer.checkpoints import file_sha256

    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"encoder checkpoint {path} does not exist")
    return {"spec": path.name, "sha256": file_sha256(path)}
