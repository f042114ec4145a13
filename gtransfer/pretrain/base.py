"""The strategy interface shared by every pretraining method, and masking helpers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor, nn

from gtransfer.models.encoder import GNNEncoder
from gtransfer.models.inputs import molecule_specs

if TYPE_CHECKING:
    from torch_geometric.data import Batch

__all__ = ["PretrainStrategy", "mask_node_features", "node_target"]


class PretrainStrategy(nn.Module):
    """A self-supervised (or supervised) objective around an encoder.

    Subclasses own their heads as submodules and implement :meth:`loss`. Randomness (masks,
    negatives, augmentations) comes from torch's global generator, which the runner seeds per epoch,
    so an interrupted run resumes to the same weights.
    """

    name: str = ""

    def __init__(self, encoder: GNNEncoder) -> None:
        super().__init__()
        if not isinstance(encoder, GNNEncoder):
            raise ValueError(f"{type(self).__name__} needs a GNNEncoder, got {type(encoder).__name__}")
        self.encoder = encoder

    def head_state_dict(self) -> dict[str, Tensor]:
        """State of the strategy's own heads (everything but the encoder)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}

    def loss(self, batch: Batch) -> Tensor:  # pragma: no cover - interface
        raise NotImplementedError


def node_target(encoder: GNNEncoder, x: Tensor) -> tuple[Tensor, int | None]:
    """What attribute masking predicts: the atom type (column 0) of integer features, with the number
    of classes; float features are reconstructed (``None`` classes)."""
    if encoder.featurizer is not None:
        atom_spec, _ = molecule_specs(encoder.featurizer)
        return x[:, 0].long(), atom_spec.cardinalities[0]
    return x.float(), None


def mask_node_features(encoder: GNNEncoder, x: Tensor, mask: Tensor) -> Tensor:
    """Copy of ``x`` with the rows in ``mask`` replaced by the mask token (molecules) or zeros (floats)."""
    x = x.clone()
    if encoder.featurizer is not None:
        atom_spec, _ = molecule_specs(encoder.featurizer)
        x[mask] = torch.tensor(atom_spec.mask, dtype=x.dtype, device=x.device)
    else:
        x[mask] = 0
    return x


def sample_mask(num: int, rate: float, device: torch.device) -> Tensor:
    """Boolean mask with round(rate * num) (at least one) entries set, chosen uniformly."""
    k = max(1, int(round(rate * num)))
    mask = torch.zeros(num, dtype=torch.bool, device=device)
    mask[torch.randperm(num, device=device)[:k]] = True
    return mask
