"""The nine published Hu et al. 2020 chem encoders: strict loading, refusals, embed_smiles."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from gtransfer.embeddings.embed import embed_smiles
from gtransfer.io.checkpoints import load_checkpoint
from gtransfer.models import GIN, load_pretrain_gnns
from gtransfer.models.pretrain_gnns import from_pretrain_gnns_keys, to_pretrain_gnns_keys

NAMES = [f"{arch}_{strategy}.pth" for arch in ("gcn", "graphsage", "gat")
         for strategy in ("contextpred", "supervised", "supervised_contextpred")]
SMILES = ["CCO", "c1ccccc1O", "C[C@H](N)C(=O)O", "[Na+].[Cl-]", "CC(=O)Oc1ccccc1C(=O)O", "C/C=C/C"]


@pytest.fixture(scope="module")
def chem_dir(shared_data) -> Path:
    return shared_data / "checkpoints" / "pretrain_gnns" / "chem"


@pytest.mark.shared_data
@pytest.mark.parametrize("name", NAMES)
def test_every_published_tensor_lands_in_the_encoder(chem_dir, name):
    published = torch.load(chem_dir / name, map_location="cpu", weights_only=True)
    encoder = load_pretrain_gnns(chem_dir / name)
    assert encoder.arch == name.split("_")[0] and not encoder.training
    assert encoder.num_layers == 5 and encoder.embedding_dim == 300
    state = encoder.state_dict()
    assert len(state) == len(published)  # nothing of the encoder comes from anywhere else
    for key, value in published.items():
        assert torch.equal(state[from_pretrain_gnns_keys(key)], value), key


@pytest.mark.shared_data
def test_embed_smiles_one_row_per_smiles_in_order(chem_dir):
    encoder = load_pretrain_gnns(chem_dir / "gat_supervised_contextpred.pth")
    emb = embed_smiles(encoder, SMILES)
    assert emb.shape == (len(SMILES), 300) and emb.dtype == np.float32
    reversed_emb = embed_smiles(encoder, SMILES[::-1], batch_size=2)
    np.testing.assert_allclose(reversed_emb[::-1], emb, rtol=1e-4, atol=1e-5)
    # mean pooling: sum pooling divided by the atom count
    summed = embed_smiles(encoder, SMILES, pooling="sum")
    atoms = np.array([3, 7, 6, 2, 13, 4])
    np.testing.assert_allclose(summed / atoms[:, None], emb, rtol=1e-4, atol=1e-5)
    assert not np.allclose(emb[0], emb[1])


@pytest.mark.shared_data
def test_gcn_and_graphsage_files_are_not_guessed(chem_dir, tmp_path):
    anonymous = tmp_path / "encoder.pth"
    shutil.copy(chem_dir / "graphsage_supervised.pth", anonymous)
    with pytest.raises(ValueError, match="cannot tell the architecture"):
        load_pretrain_gnns(anonymous)
    sage = load_pretrain_gnns(anonymous, arch="graphsage")
    as_gcn = load_pretrain_gnns(anonymous, arch="gcn")
    a, b = embed_smiles(sage, SMILES[:3]), embed_smiles(as_gcn, SMILES[:3])
    assert not np.allclose(a, b)  # same tensors, different computation
    with pytest.raises(ValueError, match="do not match arch='gat'"):
        load_pretrain_gnns(anonymous, arch="gat")


@pytest.mark.shared_data
def test_leftover_or_missing_keys_are_refused(chem_dir, tmp_path):
    state = torch.load(chem_dir / "gcn_supervised.pth", map_location="cpu", weights_only=True)
    extra = dict(state, **{"graph_pred_linear.weight": torch.zeros(1, 300)})
    torch.save(extra, tmp_path / "gcn_extra.pth")
    with pytest.raises(ValueError, match="graph_pred_linear.weight"):
        load_pretrain_gnns(tmp_path / "gcn_extra.pth")
    missing = {k: v for k, v in state.items() if k != "gnns.3.linear.bias"}
    torch.save(missing, tmp_path / "gcn_missing.pth")
    with pytest.raises(ValueError, match="lacks 1 encoder keys"):
        load_pretrain_gnns(tmp_path / "gcn_missing.pth")
    reshaped = dict(state, **{"x_embedding2.weight": torch.zeros(4, 300)})
    torch.save(reshaped, tmp_path / "gcn_shape.pth")
    with pytest.raises(ValueError, match="shape"):
        load_pretrain_gnns(tmp_path / "gcn_shape.pth")


def test_file_that_needs_unpickling_is_refused(tmp_path):
    torch.save(GIN(num_layers=1, hidden_dim=4), tmp_path / "gin_module.pth")  # a pickled nn.Module
    with pytest.raises(ValueError, match="weights_only"):
        load_pretrain_gnns(tmp_path / "gin_module.pth")
    with pytest.raises(FileNotFoundError):
        load_pretrain_gnns(tmp_path / "gin_absent.pth")


def test_gin_in_the_published_layout_round_trips(tmp_path):
    torch.manual_seed(0)
    gin = GIN(num_layers=3, hidden_dim=16).eval()
    legacy = {to_pretrain_gnns_keys(k): v for k, v in gin.state_dict().items()}
    assert "x_embedding1.weight" in legacy and "gnns.2.mlp.2.weight" in legacy
    assert "gnns.0.edge_embedding2.weight" in legacy
    torch.save(legacy, tmp_path / "gin_synthetic.pth", _use_new_zipfile_serialization=False)
    loaded = load_pretrain_gnns(tmp_path / "gin_synthetic.pth")
    state, meta = load_checkpoint(tmp_path / "gin_synthetic.pth")
    assert meta == {} and len(state) == len(legacy)
    np.testing.assert_array_equal(embed_smiles(loaded, SMILES), embed_smiles(gin, SMILES))


def test_embed_smiles_rejects_bad_input():
    gin = GIN(num_layers=1, hidden_dim=4)
    with pytest.raises(ValueError, match="SMILES #1"):
        embed_smiles(gin, ["CCO", "not a molecule"])
    with pytest.raises(ValueError, match="sequence"):
        embed_smiles(gin, "CCO")
    with pytest.raises(ValueError, match="no SMILES"):
        embed_smiles(gin, [])


def test_a_small_file_asking_for_a_huge_encoder_is_refused_before_allocating(tmp_path, no_huge_layers):
    """x_embedding1 of width 200,000 (0.8 MB) would make a GIN layer of 200,000 x 400,000 weights (320 GB)."""
    state = {"x_embedding1.weight": torch.zeros(1, 200_000), "batch_norms.0.weight": torch.zeros(1),
             "gnns.0.mlp.0.weight": torch.zeros(1, 1)}
    torch.save(state, tmp_path / "gin_huge.pth")
    with pytest.raises(ValueError, match=r"gin_huge.pth \(gin\): 'x_embedding1.weight' has shape \(1, 200000\), "
                                         r"expected \(120, 200000\)"):
        load_pretrain_gnns(tmp_path / "gin_huge.pth")
