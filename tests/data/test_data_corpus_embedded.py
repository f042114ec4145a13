"""Pretraining corpus (counts, shards, resumption) and the embedded demo datasets (checksums)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import gtransfer.data.roots as roots
from gtransfer.data import load_dataset
from gtransfer.data.corpus import CORPORA, ShardedCorpus, featurize_corpus, read_corpus_smiles
from gtransfer.data.featurizers import ogb_smiles2graph
from gtransfer.data.molecules import SkippedMoleculesWarning
from gtransfer.io.digests import file_digest


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_corpus_published_sizes(name, data_root):
    smiles = read_corpus_smiles(name, root=data_root)
    assert len(smiles) == CORPORA[name].num_molecules
    assert all(smiles[:100]) and all(s == s.strip() for s in smiles[:100])


def test_shards_hold_exactly_the_featurised_graphs(data_root, tmp_path):
    smiles = read_corpus_smiles("zinc250k-jtnn-test", root=data_root, limit=60)
    result = featurize_corpus("zinc250k-jtnn-test", tmp_path / "s", num_workers=2, shard_size=25, limit=60,
                              root=data_root, progress=False)
    assert (result["num_shards"], result["shards_built"], result["num_kept"], result["complete"]) == (3, 3, 60, True)
    corpus = ShardedCorpus(tmp_path / "s")
    graphs = list(corpus)
    assert len(corpus) == len(graphs) == 60
    for graph, s in zip(graphs, smiles):
        reference = ogb_smiles2graph(s)
        assert graph.smiles == s
        assert torch.equal(graph.x, torch.from_numpy(reference["node_feat"]))
        assert torch.equal(graph.edge_index, torch.from_numpy(reference["edge_index"]))
        assert torch.equal(graph.edge_attr, torch.from_numpy(reference["edge_feat"]))


def test_one_and_two_workers_write_identical_shards(tmp_path):
    smiles = ["CCO", "c1ccccc1", "CC(=O)O", "C1CC1N", "CCN(CC)CC", "O=C=O", "CCCl"] * 6
    featurize_corpus(smiles, tmp_path / "one", num_workers=1, shard_size=10, progress=False)
    featurize_corpus(smiles, tmp_path / "two", num_workers=2, shard_size=10, progress=False)
    for shard in sorted((tmp_path / "one").glob("shard_*.pt")):
        a = torch.load(shard, weights_only=True)
        b = torch.load(tmp_path / "two" / shard.name, weights_only=True)
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a if isinstance(a[k], torch.Tensor))


def test_interrupted_run_resumes_without_redoing_shards(tmp_path):
    smiles = ["CCO", "c1ccccc1O", "CCN", "CC(C)C", "C1CCCCC1", "bad((", "CC#N"] * 5
    out = tmp_path / "s"
    with pytest.warns(SkippedMoleculesWarning, match="skipped 5 of 35"):
        first = featurize_corpus(smiles, out, shard_size=5, progress=False)
    reference = {p.name: p.read_bytes() for p in out.glob("shard_*.pt")}
    # simulate a kill: two shards never written, one half-written temporary file, manifest unfinished
    (out / "shard_00002.pt").unlink()
    (out / "shard_00005.pt").unlink()
    (out / ".shard_00005.pt.partial").write_bytes(b"half")
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["complete"] = False
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="unfinished run"):
        ShardedCorpus(out)
    with pytest.warns(SkippedMoleculesWarning, match="skipped 5 of 35"):
        resumed = featurize_corpus(smiles, out, shard_size=5, progress=False)
    assert resumed["shards_built"] == 2 and resumed["num_kept"] == first["num_kept"] == 30
    assert {p.name: p.read_bytes() for p in out.glob("shard_*.pt")} == reference
    assert not list(out.glob(".shard_*"))
    with pytest.raises(ValueError, match="other settings"):
        featurize_corpus(smiles, out, shard_size=7, progress=False)


# -- embedded datasets ---------------------------------------------------------------------------
def test_manifest_lists_every_embedded_file_with_its_checksum():
    manifest = roots._read_manifest()
    files = {p.relative_to(roots.EMBEDDED_DIR).as_posix() for p in roots.EMBEDDED_DIR.rglob("*")
             if p.is_file() and p.name not in ("MANIFEST.sha256", "README.md")}
    assert set(manifest) == files
    for relative, digest in manifest.items():
        assert file_digest(roots.EMBEDDED_DIR / relative) == digest


def test_fresh_clone_loads_the_embedded_demo_sets_without_a_data_root(tmp_path):
    empty_root = tmp_path / "empty"
    mutag = load_dataset("MUTAG", root=empty_root)
    assert (len(mutag), mutag.num_classes, mutag.num_node_labels) == (188, 2, 7)
    assert Path(mutag.raw_dir).is_relative_to(roots.EMBEDDED_DIR)
    assert len(load_dataset("PTC_MR", root=empty_root)) == 344
    assert len(load_dataset("ogbg-molbbbp", root=empty_root, progress=False)) == 2039
    assert len(load_dataset("ogbg-molbace", root=empty_root, progress=False)) == 1513
    with pytest.warns(SkippedMoleculesWarning, match="skipped 4 of 1484"):
        assert len(load_dataset("ogbg-molclintox", root=empty_root, progress=False)) == 1480
    assert not empty_root.exists()


def test_an_edited_embedded_file_fails_its_checksum(tmp_path, monkeypatch):
    copy = tmp_path / "datasets"
    shutil.copytree(roots.EMBEDDED_DIR, copy)
    monkeypatch.setattr(roots, "EMBEDDED_DIR", copy)
    labels = copy / "tu" / "MUTAG" / "raw" / "MUTAG_graph_labels.txt"
    labels.write_text(labels.read_text().replace("-1", "1", 1))
    with pytest.raises(ValueError, match="MUTAG_graph_labels.txt fails its checksum"):
        load_dataset("MUTAG", root=tmp_path / "empty", cache=tmp_path / "cache")
    np.testing.assert_equal(len(load_dataset("PTC_MR", root=tmp_path / "empty", cache=tmp_path / "cache")), 344)
