"""Every molecule dataset of the data root, with every featuriser, through every encoder family.

ClinTox once failed at scoring time only (a '*' atom featurised as index -1). Here each MoleculeNet
file of the shared data root is read, a sample of its molecules (the first 30 and 20 spread over the
file) is featurised with ``hu2020`` and, when the ogb package is installed, ``ogb``; molecules the
featuriser refuses are left out and counted (as the dataset loader does); the rest pass the
vocabulary check and are embedded by the nine published encoders (hu2020 input) and by random
GIN/GCN/GraphSAGE/GAT encoders (either input), each embedding finite and of the encoder's width.
The whole-file guarantee is the featuriser's: what it returns is inside the vocabulary, and
``check_molecule_vocabulary`` refuses a processed dataset that is not.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from gtransfer.data.molecules import MOLECULE_SPECS, read_molecule_csv
from gtransfer.embeddings.embed import embed_loader
from gtransfer.models.inputs import check_molecule_vocabulary
from gtransfer.models.specs import PUBLISHED_ENCODERS, RANDOM_ARCHITECTURES, resolve_encoder

pytestmark = pytest.mark.shared_data

FIRST, SPREAD = 30, 20


def _featurizers() -> list:
    try:
        import ogb  # noqa: F401
    except ImportError:
        return ["hu2020", pytest.param("ogb", marks=pytest.mark.skip(reason="the ogb package is not installed"))]
    return ["hu2020", "ogb"]


def _files(shared_data) -> dict[str, object]:
    """OGB name -> the CSV of every MoleculeNet dataset whose file is in the data root."""
    found = {}
    for name, spec in MOLECULE_SPECS.items():
        for file in spec.files:
            path = shared_data / "moleculenet" / spec.folder / "raw" / file
            if path.is_file():
                found[name] = path
                break
    return found


@pytest.fixture(scope="module")
def samples(shared_data) -> dict[str, list[str]]:
    """A sample of each dataset's SMILES: its first rows and rows spread over the whole file."""
    out = {}
    for name, path in _files(shared_data).items():
        smiles, _, _ = read_molecule_csv(path, MOLECULE_SPECS[name])
        spread = np.linspace(FIRST, len(smiles) - 1, SPREAD).astype(int)
        out[name] = [smiles[i] for i in sorted(set(range(FIRST)) | set(spread.tolist()))]
    return out


def test_every_moleculenet_file_of_the_root_is_sampled(samples, shared_data):
    folders = {p.name for p in (shared_data / "moleculenet").iterdir() if p.is_dir()}
    assert {MOLECULE_SPECS[name].folder for name in samples} == folders
    assert all(len(sample) == FIRST + SPREAD for sample in samples.values())


@pytest.mark.parametrize("featurizer", _featurizers())
def test_every_dataset_embeds_with_every_encoder_family(samples, shared_data, featurizer):
    from gtransfer.data.featurizers import smiles_to_graphs

    torch.set_num_threads(1)
    encoders = [f"random:{arch}:layers=2,dim=32" for arch in RANDOM_ARCHITECTURES]
    if featurizer == "hu2020":
        encoders += [f"published:{name}" for name in PUBLISHED_ENCODERS]
    models = {text: resolve_encoder(text, root=shared_data).load(node_features=featurizer) for text in encoders}
    refused_smiles = {}
    for name, smiles in samples.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unparsable or out-of-vocabulary molecules: checked below
            graphs, refused = smiles_to_graphs(smiles, featurizer, on_invalid="skip")
        refused_smiles[name] = [smiles[i] for i in refused]
        assert len(graphs) + len(refused) == len(smiles)
        check_molecule_vocabulary(graphs, featurizer, name=f"{name} sample")
        loader = DataLoader(graphs, batch_size=64)
        for text, model in models.items():
            features = embed_loader(model, loader)  # raises on a non-finite value
            assert features.shape == (len(graphs), model.embedding_dim), (name, text)
            assert features.std(axis=0).max() > 0, (name, text)  # molecules are told apart
    # only ClinTox's sample holds molecules a featuriser refuses, each for a reason of its own: RDKit
    # cannot parse it, or (hu2020 only) it has a '*' dummy atom (row 1) or a dative bond
    assert {name for name, refused in refused_smiles.items() if refused} == {"ogbg-molclintox"}
    reasons = [_refusal(smiles) for smiles in refused_smiles["ogbg-molclintox"]]
    assert "dummy atom" in reasons if featurizer == "hu2020" else set(reasons) == {"unparsable"}, reasons


def _refusal(smiles: str) -> str:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return "unparsable"
    if any(atom.GetAtomicNum() == 0 for atom in mol.GetAtoms()):
        return "dummy atom"
    assert any(str(bond.GetBondType()) == "DATIVE" for bond in mol.GetBonds()), smiles
    return "dative bond"
