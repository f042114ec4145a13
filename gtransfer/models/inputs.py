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
    "VocabularyViolation",
    "check_molecule_vocabulary",
    "count_unknown_chirality",
    "find_vocabulary_violation",
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


@dataclass(frozen=True)
class VocabularyViolation:
    """The first feature column holding an index without an embedding row.

    Attributes:
        column: the feature column; index: the first offending value (negative, or past the table);
        row: the first row (node or edge) holding it; count: offending entries in that column;
        size: rows of the column's embedding table.
    """

    column: int
    index: int
    row: int
    count: int
    size: int


def find_vocabulary_violation(x: Tensor, spec: CategoricalSpec) -> VocabularyViolation | None:
    """The first column of integer features ``x`` (N, K) with an index ``spec`` cannot embed, or None.

    Negative indices never embed; indices past a table embed only in a column with a ``fallback`` row.
    """
    for k, (size, fallback) in enumerate(zip(spec.cardinalities, spec.fallback)):
        col = x[:, k]
        bad = col < 0 if fallback is not None else (col < 0) | (col >= size)
        if bool(bad.any()):
            rows = torch.nonzero(bad).view(-1)
            return VocabularyViolation(k, int(col[rows[0]]), int(rows[0]), int(rows.numel()), size)
    return None


def check_molecule_vocabulary(dataset: object, featurizer: str, *, name: str = "dataset") -> None:
    """Refuse a molecule dataset holding a feature index its featuriser's embeddings cannot look up.

    Checks every atom and bond of ``dataset`` (a PyG ``InMemoryDataset``, or any sequence of graphs)
    at once, so that the error names the molecule -- its position and, where the dataset keeps them
    (``dataset.smiles``), its SMILES -- instead of surfacing in the middle of an embedding batch.

    Raises:
        ValueError: naming the dataset, the molecule, atom or bond, the column, the index and the fix.
    """
    atom_spec, bond_spec = molecule_specs(featurizer)
    data, slices = getattr(dataset, "_data", None), getattr(dataset, "slices", None)
    if data is not None and slices is not None and "x" in slices:  # one tensor for the whole dataset
        parts = [("atom", atom_spec, data.x, slices["x"])]
        if getattr(data, "edge_attr", None) is not None and "edge_attr" in slices:
            parts.append(("bond", bond_spec, data.edge_attr, slices["edge_attr"]))
    else:
        graphs = list(dataset)  # type: ignore[call-overload]
        parts = []
        for what, spec, attr in (("atom", atom_spec, "x"), ("bond", bond_spec, "edge_attr")):
            tensors = [getattr(g, attr) for g in graphs]
            if any(t is None for t in tensors) or not tensors:
                continue
            bounds = torch.tensor([0] + [t.size(0) for t in tensors]).cumsum(0)
            parts.append((what, spec, torch.cat(tensors), bounds))
    for what, spec, features, bounds in parts:
        if features.dim() != 2 or features.size(1) != len(spec.cardinalities) or features.is_floating_point():
            raise ValueError(f"{name}: {what} features of shape {tuple(features.shape)} ({features.dtype}) are not "
                             f"{featurizer} features ({len(spec.cardinalities)} integer columns); wrong featurizer?")
        found = find_vocabulary_violation(features, spec)
        if found is None:
            continue
        molecule = int(torch.searchsorted(bounds, torch.tensor(found.row), right=True)) - 1
        smiles = getattr(dataset, "smiles", None)
        label = f"molecule #{molecule}" + (
            f" (SMILES {smiles[molecule]!r})" if smiles is not None and molecule < len(smiles) else ""
        )
        raise ValueError(
            f"{name}: {label} has {what} feature column {found.column} = {found.index}, outside the {featurizer} "
            f"vocabulary 0..{found.size - 1} ({found.count} {what}(s) in all): these graphs were made by an older or "
            "different featuriser; for a processed dataset delete its cache "
            "(under GTRANSFER_CACHE/processed/molecules) to rebuild it, which skips and counts the molecules outside "
            "the vocabulary"
        )


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
        found = find_vocabulary_violation(x, self.spec) if x.numel() else None
        if found is not None:
            raise ValueError(
                f"feature column {found.column} has index {found.index} outside its vocabulary 0..{found.size - 1} "
                f"(row {found.row} of this batch, {found.count} such rows; wrong featurizer? "
                "gtransfer.models.inputs.check_molecule_vocabulary names the molecule)"
            )
        out = 0
        for k, (emb, fallback) in enumerate(zip(self.embeddings, self.spec.fallback)):
            col = x[:, k]
            if fallback is not None:
                col = torch.where(col >= emb.num_embeddings, torch.full_like(col, fallback), col)
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
