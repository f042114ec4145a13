"""Encoders named by a string: a checkpoint file, or a randomly initialised zoo member.

* ``path/to/gcn_contextpred.pth`` -- a published Hu et al. 2020 chem encoder, a gtransfer
  checkpoint (a pretrained zoo member) or a DGL encoder checkpoint (``save_dgl_encoder``; needs the
  ``dgl`` extra), opened by :func:`gtransfer.models.load_encoder`.
* ``published:gcn_contextpred`` -- one of the nine published encoders, found under
  ``checkpoints/pretrain_gnns/chem/`` of the data root (so the name, not a machine's path, is what a
  sweep's trial keys hold).
* ``random:gin`` or ``random:gcn:layers=3,dim=64,seed=1`` -- an untrained encoder, the baseline every
  pretrained one should beat; its input layer matches the target (``hu2020`` molecule features or
  the dataset's float features).
"""

from __future__ import annotations

from pathlib import Path

#: the nine published Hu et al. 2020 chem encoders shipped in the data root
PUBLISHED_ENCODERS = tuple(
    f"{arch}_{strategy}"
    for arch in ("gcn", "graphsage", "gat")
    for strategy in ("contextpred", "supervised", "supervised_contextpred")
)

__all__ = ["PUBLISHED_ENCODERS", "load_encoder", "encoder_featurizer", "encoder_identity", "resolve_encoder_path"]


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


def resolve_encoder_path(spec: str, root=None) -> Path:
    """The checkpoint file of a ``published:NAME`` or path spec.

    Raises:
        FileNotFoundError: no such file (for ``published:``, the paths tried).
    """
    if spec.startswith("published:"):
        from gtransfer.data.roots import data_roots, find_data_path

        name = spec.split(":", 1)[1]
        return find_data_path(
            [f"checkpoints/pretrain_gnns/chem/{name}.pth"], data_roots(root), what=f"published encoder {name}",
            source="https://github.com/snap-stanford/pretrain-gnns (chem/model_gin and friends)",
        )
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"encoder checkpoint {path} does not exist")
    return path


def encoder_featurizer(spec: str, root=None) -> str:
    """The molecule featuriser an encoder expects (``hu2020`` for random molecule encoders)."""
    if spec.startswith("random:"):
        _random_options(spec)
        return "hu2020"
    if spec.startswith("published:"):
        return "hu2020"
    encoder = load_encoder(spec, root=root)
    return getattr(encoder, "featurizer", None) or "ogb"


def load_encoder(spec: str, node_features: str | int = "hu2020", root=None):
    """The encoder named by ``spec`` in eval mode (see the module docstring).

    Args:
        node_features: input of a ``random:`` encoder: ``"hu2020"``/``"ogb"`` molecule features or the
            width of float node features.
        root: data root searched for ``published:`` encoders.

    Raises:
        FileNotFoundError: no such checkpoint.
        ValueError: a bad ``random:`` spec, or a checkpoint that is not an encoder.
    """
    import torch

    from gtransfer.models import build_encoder

    if spec.startswith("random:"):
        arch, options = _random_options(spec)
        torch.manual_seed(options["seed"])
        edge = node_features if isinstance(node_features, str) else None
        config = {"arch": arch, "num_layers": options["layers"], "hidden_dim": options["dim"], "node_features": node_features, "edge_features": edge}
        return build_encoder(config).eval()
    from gtransfer.models import load_encoder as load_encoder_file

    return load_encoder_file(resolve_encoder_path(spec, root))


def encoder_identity(spec: str, root=None) -> dict:
    """What determines an encoder's embeddings: the spec, plus the file's SHA-256 for a checkpoint."""
    if spec.startswith("random:"):
        return {"spec": spec}
    from gtransfer.checkpoints import file_sha256

    path = resolve_encoder_path(spec, root)
    return {"spec": path.name, "sha256": file_sha256(path)}
