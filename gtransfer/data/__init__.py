"""Graph data: data roots, TU, MoleculeNet as OGB molecules, Planetoid, featurisers, splits, tasks."""
