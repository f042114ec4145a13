"""Encoders named by a string, resolved once into an :class:`EncoderSpec` (path, featuriser, identity).

The grammar, shared by every command, trial kind and study spec:

* ``path/to/gcn_contextpred.pth`` -- a published Hu et al. 2020 chem encoder, a gtransfer
  checkpoint (a pretrained zoo member) or a DGL encoder checkpoint (``save_dgl_encoder``; needs the
  ``dgl`` extra), opened by :func:`gtransfer.models.load_encoder`.
* ``published:gcn_contextpred`` -- one of the nine published encoders, found under
  ``checkpoints/pretrain_gnns/chem/`` of the data root (so the name, not a machine's path, is what a
  sweep's trial keys hold).
* ``random:gin`` or ``random:gcn:layers=3,dim=64,seed=1`` -- an untrained encoder, the baseline every
  pretrained one should beat; its input layer matches the target (``hu2020`` molecule features or
  the dataset's float features).

``resolve_encoder(text, root)`` does the string work once: it finds the file, and the spec then
carries its path, the molecule featuriser the encoder expects and its identity (what determines its
embeddings: the spec, plus the file's SHA-256 for a checkpoint), computed when first asked for.
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from torch import nn

if TYPE_CHECKING:
    from gtransfer.models.source_heads import SourceHead

#: the nine published Hu et al. 2020 chem encoders shipped in the data root
PUBLISHED_ENCODERS = tuple(
    f"{arch}_{strategy}"
    for arch in ("gcn", "graphsage", "gat")
    for strategy in ("contextpred", "supervised", "supervised_contextpred")
)

RANDOM_ARCHITECTURES = ("gin", "gcn", "graphsage", "gat")

__all__ = ["PUBLISHED_ENCODERS", "EncoderSpec", "resolve_encoder", "published_encoder_path"]


def _random_options(text: str) -> tuple[str, dict[str, int]]:
    parts = text.split(":")
    if len(parts) < 2 or parts[1] not in RANDOM_ARCHITECTURES:
        raise ValueError(
            f"encoder {text!r}: write random:ARCH[:layers=L,dim=D,seed=S] with ARCH one of "
            f"{', '.join(RANDOM_ARCHITECTURES)}"
        )
    options = {"layers": 5, "dim": 300, "seed": 0}
    if len(parts) > 2:
        for item in parts[2].split(","):
            key, _, value = item.partition("=")
            if key not in options or not value.isdigit():
                raise ValueError(f"encoder {text!r}: options are layers=, dim=, seed= (integers); got {item!r}")
            options[key] = int(value)
    return parts[1], options


def published_encoder_path(name: str, *, root: str | os.PathLike | None = None) -> Path:
    """The file of the published encoder ``name`` in the data roots.

    Raises:
        FileNotFoundError: not there (the message lists the paths tried and the public source).
    """
    from gtransfer.data.roots import data_roots, find_data_path

    return find_data_path(
        [f"checkpoints/pretrain_gnns/chem/{name}.pth"], data_roots(root), what=f"published encoder {name}",
        source="https://github.com/snap-stanford/pretrain-gnns (chem/model_gin and friends)",
    )


class EncoderSpec:
    """An encoder string resolved once (see the module docstring); build it with :func:`resolve_encoder`.

    Attributes:
        text: the string as given (what trial params and reports hold).
        kind: ``"published"``, ``"random"`` or ``"file"``.
        path: the checkpoint file (``None`` for ``random:``).
        arch, options: architecture and ``layers``/``dim``/``seed`` of a ``random:`` encoder.
    """

    def __init__(self, text: str, kind: str, *, path: Path | None = None, arch: str | None = None,
                 options: dict[str, int] | None = None) -> None:
        self.text, self.kind, self.path, self.arch, self.options = text, kind, path, arch, dict(options or {})

    def __repr__(self) -> str:
        return f"EncoderSpec({self.text!r}, kind={self.kind!r}, path={str(self.path) if self.path else None!r})"

    @property
    def name(self) -> str:
        """What reports show: the string, or a checkpoint's file name."""
        return self.path.name if self.kind == "file" and self.path is not None else self.text

    @cached_property
    def _file_encoder(self) -> nn.Module:
        from gtransfer.models.loading import load_encoder as load_encoder_file

        assert self.path is not None
        return load_encoder_file(self.path)

    @cached_property
    def featurizer(self) -> str:
        """The molecule featuriser the encoder expects (``hu2020`` for published and random encoders)."""
        if self.kind in ("random", "published"):
            return "hu2020"
        return getattr(self._file_encoder, "featurizer", None) or "ogb"

    @cached_property
    def pooling(self) -> str:
        """The graph pooling the encoder applies when none is asked for: a checkpoint's own (its config's), ``mean``
        for the published encoders and for ``random:`` ones (as :func:`~gtransfer.models.encoder.build_encoder`
        makes them)."""
        if self.kind in ("random", "published"):
            return "mean"
        return str(getattr(self._file_encoder, "pooling", None) or "mean")

    @cached_property
    def node_input(self) -> str | int | None:
        """What the encoder reads per node: a molecule featuriser name (``"hu2020"``, ``"ogb"``), a float
        feature width, or ``None`` for a ``random:`` encoder (built for whatever the target has) or a
        checkpoint that does not say."""
        if self.kind == "random":
            return None
        if self.kind == "published":
            return "hu2020"
        config = getattr(self._file_encoder, "config", None)
        # a wrapped foreign module (a DGL encoder) need not say: unknown, left to the embedding itself
        return config.get("node_features") if isinstance(config, dict) else None

    def fit_problem(self, dataset: str, kind: str, *, num_features: int | None = None) -> str | None:
        """Why this encoder cannot read ``dataset``'s nodes (``kind``: ``"molecule"``, ``"tu"``, ``"planetoid"``), or
        None.

        Molecule encoders read atom categories and cannot embed float node features; a float-feature
        encoder reads exactly its width.
        """
        expected = self.node_input
        if expected is None:
            return None
        if isinstance(expected, str) and kind != "molecule":
            return (
                f"{self.name} reads molecule atoms ({expected} features) and {dataset} has float node features"
                f"{f' ({num_features} per node)' if num_features else ''}; "
                f"use a random:ARCH encoder or one trained on {dataset}'s features"
            )
        if isinstance(expected, int) and kind == "molecule":
            return (
                f"{self.name} reads {expected} float features per node and {dataset} is a molecule dataset "
                "(atom categories)"
            )
        if isinstance(expected, int) and num_features is not None and expected != num_features:
            return f"{self.name} reads {expected} float features per node and {dataset} has {num_features}"
        return None
    @cached_property
    def source_head(self) -> SourceHead | None:
        """The classifier the encoder was trained with on a source task (a source-zoo checkpoint), else None.

        Published and ``random:`` encoders have none: NCE and LEEP cannot score them as the paper defines.
        """
        if self.kind != "file" or self.path is None:
            return None
        from gtransfer.models.source_heads import read_source_head

        return read_source_head(self.path)

    @cached_property
    def identity(self) -> dict[str, Any]:
        """What determines the encoder's embeddings: the spec, plus the file's SHA-256 for a checkpoint."""
        if self.kind == "random":
            return {"spec": self.text}
        from gtransfer.io.digests import file_sha256

        assert self.path is not None
        return {"spec": self.path.name, "sha256": file_sha256(self.path)}

    def load(self, *, node_features: str | int = "hu2020") -> nn.Module:
        """The encoder in eval mode.

        Args:
            node_features: input of a ``random:`` encoder: ``"hu2020"``/``"ogb"`` molecule features or
                the width of float node features (ignored for checkpoints, whose input is fixed).
        """
        if self.kind == "random":
            import torch

            from gtransfer.models.encoder import build_encoder

            torch.manual_seed(self.options["seed"])
            edge = node_features if isinstance(node_features, str) else None
            config = {"arch": self.arch, "num_layers": self.options["layers"], "hidden_dim": self.options["dim"],
                      "node_features": node_features, "edge_features": edge}
            return build_encoder(config).eval()
        # the file was opened once already to read its featuriser: hand that copy over (once; a second
        # call gets a fresh one, since callers train what they are given)
        cached = self.__dict__.pop("_file_encoder", None)
        if cached is not None:
            return cached
        from gtransfer.models.loading import load_encoder as load_encoder_file

        assert self.path is not None
        return load_encoder_file(self.path)


def resolve_encoder(text: str | EncoderSpec, *, root: str | os.PathLike | None = None) -> EncoderSpec:
    """Resolve an encoder string (see the module docstring); an :class:`EncoderSpec` is returned as is.

    Raises:
        FileNotFoundError: a checkpoint that does not exist, or a published name not in the data roots.
        ValueError: a bad ``random:`` string, or an unknown ``published:`` name (the message lists them).
    """
    if isinstance(text, EncoderSpec):
        return text
    if not isinstance(text, str) or not text.strip():
        raise ValueError(
            f"an encoder must be a non-empty string (a checkpoint path, published:NAME or random:ARCH), got {text!r}"
        )
    if text.startswith("random:"):
        arch, options = _random_options(text)
        return EncoderSpec(text, "random", arch=arch, options=options)
    if text.startswith("published:"):
        name = text.split(":", 1)[1]
        if name not in PUBLISHED_ENCODERS:
            raise ValueError(f"encoder {text!r}: no published encoder {name!r}; the published encoders are "
                             + ", ".join(f"published:{n}" for n in PUBLISHED_ENCODERS))
        return EncoderSpec(text, "published", path=published_encoder_path(name, root=root))
    path = Path(text)
    if not path.is_file():
        raise FileNotFoundError(f"encoder checkpoint {path} does not exist (or write published:NAME / random:ARCH)")
    return EncoderSpec(text, "file", path=path)
