"""Molecule featurisers: SMILES -> graph arrays.

Two featurisations, not interchangeable:

* ``"ogb"``: ``ogb.utils.smiles2graph`` (9 integer atom features, 3 integer bond features), the
  featurisation of the ``ogbg-mol*`` datasets.
* ``"hu2020"``: the 2 atom / 2 bond integer features of Hu et al. 2020, "Strategies for
  Pre-training Graph Neural Networks" (ICLR 2020), which their published encoders expect
  (see ``docs/pretrain_gnns_format.md``):

  - atom: ``atomic_number - 1`` and the chirality tag's index in
    ``[CHI_UNSPECIFIED, CHI_TETRAHEDRAL_CW, CHI_TETRAHEDRAL_CCW, CHI_OTHER]`` (any newer RDKit tag
    maps to ``CHI_OTHER``). Atomic numbers 1..118 only: a ``*`` dummy (wildcard) atom has atomic
    number 0, which would become index -1; such a molecule is refused (and, in a dataset, skipped
    and counted), as Hu et al.'s featuriser refuses it (``list(range(1, 119)).index(0)`` raises).
    ClinTox's first row, ``*C(=O)[C@H](CCCCNC(=O)OCCOC)NC(=O)OCCOC``, is the one such molecule in
    the nine MoleculeNet files of the shared data root;
  - bond (both directions, same features): type index in ``[SINGLE, DOUBLE, TRIPLE, AROMATIC]``
    and direction index in ``[NONE, ENDUPRIGHT, ENDDOWNRIGHT]``.

Every featuriser returns a dict with ``node_feat`` (N, F) int64, ``edge_index`` (2, E) int64,
``edge_feat`` (E, F_e) int64 and ``num_nodes`` -- the layout of ``ogb.utils.smiles2graph``.
Unparsable SMILES raise :class:`InvalidSmilesError` so callers can count and report them.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from rdkit import Chem
    from torch_geometric.data import Data

__all__ = [
    "InvalidSmilesError",
    "FEATURIZERS",
    "FEATURIZER_VERSIONS",
    "get_featurizer",
    "hu2020_smiles2graph",
    "ogb_smiles2graph",
    "smiles_to_graphs",
]


class InvalidSmilesError(ValueError):
    """Raised when RDKit cannot parse a SMILES string."""


def _mol_from_smiles(smiles: str) -> Chem.Mol:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # parse failures are reported by the caller, counted
    mol = Chem.MolFromSmiles(smiles) if isinstance(smiles, str) else None
    if mol is None:
        raise InvalidSmilesError(f"RDKit cannot parse SMILES {smiles!r}")
    return mol


def ogb_smiles2graph(smiles: str) -> dict:
    """OGB featurisation (9 atom, 3 bond features), exactly ``ogb.utils.smiles2graph``."""
    from ogb.utils import smiles2graph

    _mol_from_smiles(smiles)  # ogb itself fails with an AttributeError on bad SMILES
    graph = smiles2graph(smiles)
    graph["node_feat"] = np.asarray(graph["node_feat"], dtype=np.int64)
    graph["edge_feat"] = np.asarray(graph["edge_feat"], dtype=np.int64).reshape(-1, 3)
    graph["edge_index"] = np.asarray(graph["edge_index"], dtype=np.int64).reshape(2, -1)
    return graph


def _hu2020_vocabularies() -> tuple[list[Chem.ChiralType], list[Chem.BondType], list[Chem.BondDir]]:
    from rdkit import Chem

    chirality = [
        Chem.rdchem.ChiralType.CHI_UNSPECIFIED,
        Chem.rdchem.ChiralType.CHI_TETRAHEDRAL_CW,
        Chem.rdchem.ChiralType.CHI_TETRAHEDRAL_CCW,
        Chem.rdchem.ChiralType.CHI_OTHER,
    ]
    bond_types = [
        Chem.rdchem.BondType.SINGLE,
        Chem.rdchem.BondType.DOUBLE,
        Chem.rdchem.BondType.TRIPLE,
        Chem.rdchem.BondType.AROMATIC,
    ]
    bond_dirs = [
        Chem.rdchem.BondDir.NONE,
        Chem.rdchem.BondDir.ENDUPRIGHT,
        Chem.rdchem.BondDir.ENDDOWNRIGHT,
    ]
    return chirality, bond_types, bond_dirs


#: the largest atomic number the hu2020 atom vocabulary holds (index 117; Hu et al.'s ``range(1, 119)``)
HU2020_MAX_ATOMIC_NUMBER = 118


def hu2020_smiles2graph(smiles: str) -> dict:
    """Hu et al. 2020 featurisation: atom (type, chirality), bond (type, direction), both directions."""
    mol = _mol_from_smiles(smiles)
    chirality, bond_types, bond_dirs = _hu2020_vocabularies()
    other_chirality = chirality.index(chirality[-1])
    atoms = []
    for atom in mol.GetAtoms():
        number = atom.GetAtomicNum()
        if not 1 <= number <= HU2020_MAX_ATOMIC_NUMBER:
            what = "a '*' dummy (wildcard) atom, atomic number 0" if number == 0 else f"atomic number {number}"
            raise ValueError(f"SMILES {smiles!r}: atom #{atom.GetIdx()} is {what}, outside the hu2020 vocabulary "
                             f"(atomic numbers 1-{HU2020_MAX_ATOMIC_NUMBER})")
        tag = atom.GetChiralTag()
        atoms.append([atom.GetAtomicNum() - 1, chirality.index(tag) if tag in chirality else other_chirality])
    rows, feats = [], []
    for bond in mol.GetBonds():
        if bond.GetBondType() not in bond_types:
            raise ValueError(f"SMILES {smiles!r}: bond type {bond.GetBondType()} is outside the hu2020 vocabulary")
        direction = bond.GetBondDir()
        if direction not in bond_dirs:
            raise ValueError(f"SMILES {smiles!r}: bond direction {direction} is outside the hu2020 vocabulary")
        feature = [bond_types.index(bond.GetBondType()), bond_dirs.index(direction)]
        i, j = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
        rows += [(i, j), (j, i)]
        feats += [feature, feature]
    return {
        "node_feat": np.asarray(atoms, dtype=np.int64).reshape(-1, 2),
        "edge_index": np.asarray(rows, dtype=np.int64).reshape(-1, 2).T.copy(),
        "edge_feat": np.asarray(feats, dtype=np.int64).reshape(-1, 2),
        "num_nodes": len(atoms),
    }


FEATURIZERS: dict[str, Callable[[str], dict]] = {
    "ogb": ogb_smiles2graph,
    "hu2020": hu2020_smiles2graph,
}


#: bumped when a featuriser's output changes, so that processed datasets built before are rebuilt
#: (hu2020 v2: dummy atoms refused instead of written as atom index -1)
FEATURIZER_VERSIONS: dict[str, int] = {"ogb": 1, "hu2020": 2}


def get_featurizer(name: str) -> Callable[[str], dict]:
    """Return the featuriser called ``name`` (``"ogb"`` or ``"hu2020"``)."""
    try:
        return FEATURIZERS[name]
    except KeyError:
        raise ValueError(f"unknown featurizer {name!r}; choose one of {sorted(FEATURIZERS)}") from None


def smiles_to_graphs(
    smiles: Sequence[str], featurizer: str, *, on_invalid: str = "raise"
) -> tuple[list[Data], list[int]]:
    """Featurise SMILES into PyG ``Data`` graphs (``x``/``edge_attr`` int64).

    Args:
        smiles: the molecules.
        featurizer: ``"hu2020"`` or ``"ogb"`` (:func:`get_featurizer`).
        on_invalid: ``"raise"`` (ValueError naming the first bad SMILES) or ``"skip"`` (left out,
            counted in a warning, positions returned).

    Returns:
        ``(graphs, invalid_positions)``.
    """
    import torch
    from torch_geometric.data import Data

    if on_invalid not in ("raise", "skip"):
        raise ValueError(f"on_invalid must be 'raise' or 'skip', got {on_invalid!r}")
    featurize = get_featurizer(featurizer)
    graphs, invalid = [], []
    for position, smi in enumerate(smiles):
        try:
            g = featurize(smi)
        except ValueError as err:  # InvalidSmilesError or a bond outside the vocabulary
            if on_invalid == "raise":
                raise ValueError(f"SMILES #{position} cannot be featurised with {featurizer!r}: {err}") from None
            invalid.append(position)
            continue
        graphs.append(Data(x=torch.from_numpy(g["node_feat"]), edge_index=torch.from_numpy(g["edge_index"]),
                           edge_attr=torch.from_numpy(g["edge_feat"]), num_nodes=int(g["num_nodes"])))
    if invalid:
        warnings.warn(f"{len(invalid)} of {len(smiles)} SMILES could not be featurised with {featurizer!r} "
                      f"and were left out (first positions: {invalid[:10]})", stacklevel=2)
    return graphs, invalid
