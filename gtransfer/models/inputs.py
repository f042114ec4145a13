"""Input encoders: integer molecule features or float node/edge features -> dense vectors.

Two molecule featurisations are supported (see :mod:`gtransfer.data.featurizers`):

* ``"hu2020"`` (Hu et al. 2020, the published ``pretrain_gnns`` encoders): atom (type, chirality),
  bond (type, direction). Row counts follow the released checkpoints: 120 atom types (119 = mask
  token), **3 chirality rows**, 6 bond types (4 = self-loop, 5 = mask), 3 bond directions.
  The featuriser encodes ``CHI_OTHER`` (and any newer RDKit tag) as index 3, which has no row in the
  published ``x_embedding2``; this module maps index 3 to row 0 (``CHI_UNSPECIFIED``), i.e. "no
  usable chirality information". The released code would have crashed on such atoms; they are rare
  (none in BBBP or Tox21). :func:`count_unknown_chirality` lets callers report how many atoms it hit.
* ``"ogb"`` (``ogb.utils.smiles2graph``): 9 atom / 3 bond integer features. Each vocabulary gets
  one extra row: atom column 0 a mask token (index 119), bond column 0 a self-loop (index 5) and a
  mask token (index 6).

Generic graphs (TU, Planetoid) have float features: ``node_features=<int>`` gives a linear layer;
``edge_features=<int>`` a linear edge layer plus a learned self-loop vector; ``None`` no edge term.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = [
    "CategoricalSpec",
    "CategoricalEmbedding",
    "LinearEdgeEncoder",
    "MOLECULE_SPECS",
    "count_unknown_chirality",
    "make_node_encoder",
    "make_edge_encoder",
]


@dataclass(frozen=True)
class CategoricalSpec:
    """Vocabulary sizes of integer features and the special indices the encoders need.

    Args:
        cardinalities: rows of the embedding table of each feature column.
        fallback: per column, the row that out-of-vocabulary indices map to (``None``: refuse them).
        self_loop: the edge feature row given to the self-loops every conv adds (edges only).
        mask: the feature row that stands for a masked node/edge in attribute masking.
    """

    cardinalities: tuple[int, ...]
    fallback: tuple[int | None, ...]
    self_loop: tuple[int, ...] | None = None
    mask: tuple[int, ...] | None = None


def _ogb_specs() -> tuple[CategoricalSpec, CategoricalSpec]:
    from ogb.utils.features import get_atom_feature_dims, get_bond_feature_dims

    atom = list(get_atom_feature_dims())
    bond = list(get_bond_feature_dims())
    atom_mask = atom[0]  # 119: one row past the vocabulary
    atom[0] += 1
    bond_self, bond_mask = bond[0], bond[0] + 1
    bond[0] += 2
    return (
        CategoricalSpec(tuple(atom), (None,) * len(atom), mask=(atom_mask,) + (0,) * (len(atom) - 1)),
        CategoricalSpec(tuple(bond), (None,) * len(bond), self_loop=(bond_self, 0, 0), mask=(bond_mask, 0, 0)),
    )


HU2020_ATOM = CategoricalSpec((120, 3), fallback=(None, 0), mask=(119, 0))
HU2020_BOND = CategoricalSpec((6, 3), fallback=(None, None), self_loop=(4, 0), mask=(5, 0))
#: name -> (atom spec, bond spec); "ogb" is filled on first use (needs the ogb package)
MOLECULE_SPECS: dict[str, tuple[CategoricalSpec, CategoricalSpec]] = {"hu2020": (HU2020_ATOM, HU2020_BOND)}


def molecule_specs(featurizer: str) -> tuple[CategoricalSpec, CategoricalSpec]:
    """(atom spec, bond spec) of a molecule featuriser name."""
    if featurizer == "ogb" and "ogb" not in MOLECULE_SPECS:
        MOLECULE_SPECS["ogb"] = _ogb_specs()
    try:
        return MOLECULE_SPECS[featurizer]
    except KeyError:
        raise ValueError(f"unknown molecule featurizer {featurizer!r}; choose 'hu2020' or 'ogb'") from None


def count_unknown_chirality(node_feat: Tensor) -> int:
    """Number of hu2020 atoms whose chirality index (3 = CHI_OTHER) has no published embedding row."""
    return int((node_feat[:, 1] >= HU2020_ATOM.cardinalities[1]).sum())


class CategoricalEmbedding(nn.Module):
    r"""Sum of one embedding per integer feature column: :math:`h = \sum_k E_k[x_k]`.

    Args:
        spec: vocabulary sizes and fallbacks.
        dim: output width.

    Shapes:
        input (N, K) int64 -> output (N, dim).
    """

    def __init__(self, spec: CategoricalSpec, dim: int) -> None:
        super().__init__()
        self.spec = spec
        self.embeddings = nn.ModuleList(nn.Embedding(n, dim) for n in spec.cardinalities)
        for emb in self.embeddings:
            nn.init.xavier_uniform_(emb.weight)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.size(1) != len(self.embeddings):
            raise ValueError(
                f"CategoricalEmbedding expects (N, {len(self.embeddings)}) integer features, got {tuple(x.shape)}"
            )
        if x.is_floating_point():
            raise ValueError("CategoricalEmbedding expects integer features; got floating point (wrong featurizer?)")
        out = 0
        for k, (emb, fallback) in enumerate(zip(self.embeddings, self.spec.fallback)):
            col = x[:, k]
            if col.numel():
                if fallback is not None:
                    col = torch.where(col >= emb.num_embeddings, torch.full_like(col, fallback), col)
                elif int(col.max()) >= emb.num_embeddings or int(col.min()) < 0:
                    raise ValueError(
                        f"feature column {k} has index {int(col.max())} outside its vocabulary of "
                        f"{emb.num_embeddings} (wrong featurizer?)"
                    )
            out = out + emb(col)
        if isinstance(out, int):  # no columns
            raise ValueError("CategoricalEmbedding needs at least one feature column")
        return out

    def self_loop(self, num_nodes: int, device: torch.device) -> Tensor:
        """Embeddings of the self-loop edge attribute, one row per node."""
        if self.spec.self_loop is None:
            raise ValueError("this feature spec has no self-loop attribute")
        attr = torch.tensor(self.spec.self_loop, dtype=torch.long, device=device)
        return self(attr.expand(num_nodes, -1))


class LinearEdgeEncoder(nn.Module):
    """Float edge features -> vectors; self-loops get a learned vector of their own."""

    def __init__(self, in_dim: int, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, dim)
        self.self_loop_vector = nn.Parameter(torch.zeros(dim))

    def forward(self, edge_attr: Tensor) -> Tensor:
        if edge_attr.dim() == 1:
            edge_attr = edge_attr.unsqueeze(-1)
        return self.linear(edge_attr.to(self.linear.weight.dtype))

    def self_loop(self, num_nodes: int, device: torch.device) -> Tensor:
        return self.self_loop_vector.expand(num_nodes, -1)


class LinearNodeEncoder(nn.Module):
    """Float node features -> vectors."""

    def __init__(self, in_dim: int, dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_dim, dim)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or x.size(1) != self.linear.in_features:
            raise ValueError(f"expected (N, {self.linear.in_features}) node features, got {tuple(x.shape)}")
        return self.linear(x.to(self.linear.weight.dtype))


def make_node_encoder(node_features: str | int, dim: int) -> nn.Module:
    """Node encoder for a featuriser name (``"hu2020"``, ``"ogb"``) or a float feature width."""
    if isinstance(node_features, str):
        return CategoricalEmbedding(molecule_specs(node_features)[0], dim)
    if isinstance(node_features, int) and node_features > 0:
        return LinearNodeEncoder(node_features, dim)
    raise ValueError(f"node_features must be 'hu2020', 'ogb' or a positive int, got {node_features!r}")


def make_edge_encoder(edge_features: str | int | None, dim: int) -> nn.Module | None:
    """Edge encoder for a featuriser name, a float edge feature width, or ``None`` (no edge term)."""
    if edge_features is None:
        return None
    if isinstance(edge_features, str):
        return CategoricalEmbedding(molecule_specs(edge_features)[1], dim)
    if isinstance(edge_features, int) and edge_features > 0:
        return LinearEdgeEncoder(edge_features, dim)
    raise ValueError(f"edge_features must be 'hu2020', 'ogb', a positive int or None, got {edge_features!r}")
