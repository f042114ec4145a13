"""Dataset embeddings: cache keyed by checkpoint hash and request, atomic entries, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from gtransfer.cli import main
from gtransfer.embeddings.dataset import embed_dataset
from gtransfer.embeddings.embed import embed_loader
from gtransfer.io.checkpoints import save_checkpoint
from gtransfer.models import GIN

pytestmark = pytest.mark.shared_data


@pytest.fixture()
def mutag_checkpoint(tmp_path):
    torch.manual_seed(0)
    encoder = GIN(num_layers=2, hidden_dim=8, node_features=7, edge_features=4, jk="concat")
    path = save_checkpoint(tmp_path / "gin.pt", encoder.state_dict(), {"architecture": encoder.config})
    return encoder.eval(), path


def test_cached_embeddings_match_a_direct_computation(mutag_checkpoint, shared_data, tmp_path):
    from gtransfer.data import load_dataset

    encoder, path = mutag_checkpoint
    first = embed_dataset(path, "MUTAG", pooling="sum", root=shared_data, cache=tmp_path / "cache")
    again = embed_dataset(path, "MUTAG", pooling="sum", root=shared_data, cache=tmp_path / "cache")
    assert not first.from_cache and again.from_cache and again.path == first.path
    ds = load_dataset("MUTAG", root=shared_data)
    want = embed_loader(encoder, DataLoader(ds, batch_size=50), pooling="sum")
    np.testing.assert_allclose(first.load(), want, rtol=1e-5, atol=1e-6)
    assert first.load().shape == (188, 24)
    np.testing.assert_array_equal(first.load_labels().ravel(), ds.y.numpy())
    meta = first.metadata
    assert meta["pooling"] == "sum" and meta["dataset"] == "MUTAG" and meta["shape"] == [188, 24]
    stored = json.loads((first.path.parent / "meta.json").read_text())
    assert stored["fields"]["pooling"] == "sum" and stored["arrays"]["features"]["shape"] == [188, 24]

    other = embed_dataset(path, "MUTAG", pooling="max", layer=1, root=shared_data, cache=tmp_path / "cache")
    assert other.path != first.path and other.load().shape == (188, 8)
    nodes = embed_dataset(path, "MUTAG", level="node", root=shared_data, cache=tmp_path / "cache")
    assert nodes.load().shape == (int(ds.x.size(0)), 24)


def test_a_changed_checkpoint_is_a_new_entry(mutag_checkpoint, shared_data, tmp_path):
    encoder, path = mutag_checkpoint
    first = embed_dataset(path, "MUTAG", root=shared_data, cache=tmp_path / "cache")
    with torch.no_grad():
        encoder.convs[0].mlp[0].weight.add_(1.0)
    save_checkpoint(path, encoder.state_dict(), {"architecture": encoder.config})
    second = embed_dataset(path, "MUTAG", root=shared_data, cache=tmp_path / "cache")
    assert not second.from_cache and not np.allclose(first.load(), second.load())


def test_command_line_writes_npy_and_metadata(mutag_checkpoint, shared_data, tmp_path, capsys):
    _, path = mutag_checkpoint
    out = tmp_path / "out" / "mutag.npy"
    main(
        ["embed", str(path), "MUTAG", "--root", str(shared_data), "--cache", str(tmp_path / "cache"), "--out", str(out)]
    )
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["shape"] == [188, 24] and np.load(out).shape == (188, 24)
    assert json.loads(out.with_suffix(".json").read_text())["checkpoint_sha256"]
    # a split is the target grammar's, as in `gtransfer rank`: MUTAG's stratified 80/10/10 split
    from gtransfer.embeddings.targets import target_embeddings

    test_part = embed_dataset(path, "MUTAG", split="test", pooling="mean", root=shared_data, cache=tmp_path / "cache")
    features, labels = target_embeddings(str(path), "MUTAG", root=shared_data).part("test")
    np.testing.assert_allclose(test_part.load(), features, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(test_part.load_labels(), labels)
    assert test_part.load_labels().shape == (20,) and test_part.load_labels().dtype == np.int64
    with pytest.raises(FileNotFoundError):
        embed_dataset(tmp_path / "absent.pt", "MUTAG", root=shared_data, cache=tmp_path / "cache")
