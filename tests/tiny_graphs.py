"""Tiny hand-built graphs shared by the tests (exposed as fixtures in ``tests/conftest.py``)."""

from __future__ import annotations

import itertools

import torch
from torch_geometric.data import Data

#: small drug-like molecules, parsable by RDKit in both featurisations
SMILES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC", "C1CCCCC1", "O=C(O)c1ccncc1",
          "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "CN1CCC[C@H]1c1cccnc1"]


def hu2020_chain(n: int, seed: int) -> Data:
    """A chain molecule in hu2020 features: atoms (type, chirality), bonds (type, direction) both ways."""
    g = torch.Generator().manual_seed(seed)
    x = torch.stack([torch.randint(0, 10, (n,), generator=g), torch.randint(0, 3, (n,), generator=g)], 1)
    src = torch.arange(n - 1)
    edge_index = torch.stack([torch.cat([src, src + 1]), torch.cat([src + 1, src])])
    bond = torch.stack([torch.randint(0, 4, (n - 1,), generator=g), torch.randint(0, 3, (n - 1,), generator=g)], 1)
    return Data(x=x, edge_index=edge_index, edge_attr=torch.cat([bond, bond]), num_nodes=n)


def float_graph(n: int, seed: int, node_dim: int = 5, edge_dim: int | None = 3) -> Data:
    """A random undirected graph on n nodes with float node (and edge) features."""
    g = torch.Generator().manual_seed(seed)
    pairs = [(i, j) for i, j in itertools.combinations(range(n), 2) if torch.rand(1, generator=g) < 0.5]
    pairs = pairs or [(0, 1)]
    edge_index = torch.tensor(pairs + [(j, i) for i, j in pairs]).T
    data = Data(x=torch.randn(n, node_dim, generator=g), edge_index=edge_index, num_nodes=n)
    if edge_dim:
        half = torch.randn(len(pairs), edge_dim, generator=g)
        data.edge_attr = torch.cat([half, half])
    return data


def float_rings(sizes: tuple[int, ...] = (4, 5, 6, 7), node_dim: int = 3) -> list[Data]:
    """Rings of the given sizes with random float node features (seeded)."""
    g = torch.Generator().manual_seed(0)
    out = []
    for n in sizes:
        src = torch.arange(n)
        dst = (src + 1) % n
        out.append(
            Data(
                x=torch.randn(n, node_dim, generator=g),
                edge_index=torch.stack([torch.cat([src, dst]), torch.cat([dst, src])]),
            )
        )
    return out


def molecules(labelled: bool = False) -> list[Data]:
    """:data:`SMILES` in hu2020 features; ``labelled`` adds two tasks, the second with missing labels."""
    from gtransfer.data.featurizers import smiles_to_graphs

    graphs, _ = smiles_to_graphs(SMILES, "hu2020")
    for k, g in enumerate(graphs):
        g.y = torch.tensor([[float(k % 2), float("nan") if k % 3 == 0 else 1.0]])
    return graphs if labelled else [Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr) for g in graphs]
