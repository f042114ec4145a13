"""The one embedding entry schema (gtransfer.embeddings.entries): every field that changes an array is in its key,
so no entry is served for another request; embed and rank write and read the same entries."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from gtransfer.embeddings import entries
from gtransfer.embeddings.cache import ArrayCache
from gtransfer.embeddings.dataset import embed_dataset
from gtransfer.embeddings.embed import embed_loader
from gtransfer.embeddings.entries import embedding_fields, graph_embeddings
from gtransfer.embeddings.targets import target_embeddings
from gtransfer.io.checkpoints import save_checkpoint
from gtransfer.models import GIN
from gtransfer.models.specs import resolve_encoder

ENCODER = "random:gin:layers=2,dim=8,seed=0"
# every (pooling, layer) pair below gives a different array: an entry served for another request shows
REQUESTS = [("max", -1), ("mean", -1), ("mean", -2), ("mean", 0)]


@pytest.fixture(scope="module")
def mutag():
    from gtransfer.data import load_dataset

    return load_dataset("MUTAG")


def _count(folder):
    """The entries in a cache folder (its build locks left aside)."""
    return len(list(folder.glob("*/meta.json")))


def _direct(dataset, pooling, layer):
    """What an encoder computes for a request, without any cache."""
    net = resolve_encoder(ENCODER).load(node_features=int(dataset.num_features))
    return embed_loader(net, DataLoader(dataset, batch_size=64), level="graph", pooling=pooling, layer=layer)


def _served(dataset, folder):
    """Each request of REQUESTS, asked of one cache folder in turn: the arrays it served."""
    spec = resolve_encoder(ENCODER)
    return [graph_embeddings(spec, dataset, "MUTAG", level="graph", node_input=7, pooling=pooling, layer=layer,
                             cache=folder).features for pooling, layer in REQUESTS]


def _wrong(dataset, served):
    """The requests whose served array is not what the encoder computes for them."""
    return [request for request, array in zip(REQUESTS, served, strict=True)
            if not np.allclose(array, _direct(dataset, *request), rtol=1e-5, atol=1e-6)]


def test_an_entry_is_never_served_for_another_pooling_or_layer(mutag, tmp_path):
    direct = [_direct(mutag, *request) for request in REQUESTS]
    for a in range(len(direct)):  # the check below can tell the requests apart
        for b in range(a):
            assert not np.allclose(direct[a], direct[b], rtol=1e-3), (REQUESTS[a], REQUESTS[b])
    served = _served(mutag, tmp_path)
    assert _wrong(mutag, served) == []
    assert _count(tmp_path) == len(REQUESTS)  # four entries, one per request
    assert _wrong(mutag, _served(mutag, tmp_path)) == []  # and read back, each its own


@pytest.mark.parametrize("dropped", ["pooling", "layer"])
def test_the_check_fails_when_the_key_loses_a_field(mutag, tmp_path, monkeypatch, dropped):
    """The test above is not vacuous: with a field dropped from the key, the cache serves one request's array for
    another and the same check sees it."""
    real = entries.embedding_fields

    def broken(*args, **kwargs):
        fields = real(*args, **kwargs)
        del fields[dropped]
        return fields

    monkeypatch.setattr(entries, "embedding_fields", broken)
    wrong = _wrong(mutag, _served(mutag, tmp_path))
    assert wrong == ([("mean", -1)] if dropped == "pooling" else [("mean", -2), ("mean", 0)])


def test_the_key_holds_every_field_that_changes_an_array():
    spec = resolve_encoder(ENCODER)
    base = {"level": "graph", "node_input": 7, "pooling": "mean", "layer": None, "size": 188, "rows": None}
    key = embedding_fields(spec, "MUTAG", **base)
    assert set(key) == {"kind", "format", "encoder", "dataset", "size", "level", "node_input", "pooling", "layer",
                        "samples"}
    changes = {"level": "node", "node_input": "hu2020", "pooling": "sum", "layer": 0, "size": 187,
               "rows": np.arange(10)}
    for name, value in changes.items():
        assert embedding_fields(spec, "MUTAG", **{**base, name: value}) != key, name
    assert embedding_fields(spec, "PTC_MR", **base) != key
    assert embedding_fields(resolve_encoder("random:gin:layers=2,dim=8,seed=1"), "MUTAG", **base) != key
    # the rows' order is part of them; node-level entries have no pooling
    rows = {**base, "rows": np.arange(10)}
    assert embedding_fields(spec, "MUTAG", **rows) != embedding_fields(spec, "MUTAG", **{**rows,
                                                                                        "rows": np.arange(10)[::-1]})
    node = {**base, "level": "node"}
    assert embedding_fields(spec, "MUTAG", **node) == embedding_fields(spec, "MUTAG", **{**node, "pooling": "max"})
    with pytest.raises(ValueError, match="level must be"):
        embedding_fields(spec, "MUTAG", **{**base, "level": "edge"})


def test_embed_and_rank_write_one_schema_and_share_entries(tmp_path, monkeypatch):
    """rank (a target) and embed (a dataset's split, any pooling or layer) write entries of the one key schema; embed
    reads rank's whole-dataset entry for the encoder's pooling and JK output, so it embeds nothing new."""
    from gtransfer.embeddings import embed

    calls: list[int] = []
    real = embed.embed_loader
    monkeypatch.setattr(embed, "embed_loader", lambda *a, **k: calls.append(1) or real(*a, **k))
    cache = tmp_path / "cache"
    ranked = target_embeddings(ENCODER, "MUTAG", cache=cache / "embeddings")
    assert len(calls) == 1
    train = embed_dataset(ENCODER, "MUTAG", split="train", cache=cache)  # 150 of 188: cut from rank's entry
    assert len(calls) == 1 and not train.from_cache
    np.testing.assert_array_equal(train.load(), ranked.part("train")[0])
    np.testing.assert_array_equal(train.load_labels(), ranked.part("train")[1])
    small = embed_dataset(ENCODER, "MUTAG", max_samples=40, pooling="max", layer=1, cache=cache)  # embedded alone
    assert len(calls) == 2 and small.load().shape == (40, 8)
    fields = [json.loads(meta.read_text())["fields"] for meta in (cache / "embeddings").glob("*/meta.json")]
    assert len(fields) == 3 and {frozenset(f) for f in fields} == {frozenset(embedding_fields(
        resolve_encoder(ENCODER), "MUTAG", level="graph", node_input=7, pooling="mean", layer=None, size=188,
        rows=None))}
    assert sorted((f["pooling"], f["layer"], f["samples"] is None) for f in fields) == [
        ("max", 1, False), ("mean", None, False), ("mean", None, True)]
    assert train.metadata["split"] == "train" and train.metadata["pooling"] == "mean"


def test_embed_mean_of_a_sum_pooled_encoder_is_mean_pooled(tmp_path):
    """embed's default pooling (mean) used to read rank's entry, embedded with the encoder's own pooling: for a
    sum-pooled checkpoint it returned sum-pooled features as mean-pooled ones. The pooling is now a key field."""
    from gtransfer.data import load_dataset

    torch.manual_seed(0)
    encoder = GIN(num_layers=2, hidden_dim=8, node_features=7, edge_features=4, pooling="sum").eval()
    path = save_checkpoint(tmp_path / "sum.pt", encoder.state_dict(), {"architecture": encoder.config})
    assert resolve_encoder(str(path)).pooling == "sum"
    ranked = target_embeddings(str(path), "MUTAG", cache=tmp_path / "cache" / "embeddings")  # the encoder's own: sum
    embedded = embed_dataset(path, "MUTAG", cache=tmp_path / "cache")  # pooling="mean"
    loader = DataLoader(load_dataset("MUTAG"), batch_size=64)
    np.testing.assert_allclose(ranked.features, embed_loader(encoder, loader, pooling="sum"), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(embedded.load(), embed_loader(encoder, loader, pooling="mean"), rtol=1e-5, atol=1e-6)
    assert not np.allclose(embedded.load(), ranked.features, rtol=1e-3)
    same = embed_dataset(path, "MUTAG", pooling=None, cache=tmp_path / "cache")  # None: the encoder's own, rank's
    assert same.from_cache and same.metadata["pooling"] == "sum"
    np.testing.assert_array_equal(same.load(), ranked.features)


def test_entries_of_the_old_schemas_are_not_read(mutag, tmp_path):
    """Entries written before the one schema (embed's format 3, rank's graph-target-embedding) are never read: their
    keys are never asked for, so a request is computed afresh under the new key."""
    spec = resolve_encoder(ENCODER)
    folder = tmp_path / "embeddings"
    poison = {"features": np.zeros((188, 16), dtype=np.float32)}
    ArrayCache(folder).put({"kind": "graph-target-embedding", "encoder": spec.identity, "dataset": "MUTAG",
                            "level": "graph", "featurizer": 7, "size": 188, "format": 1, "samples": None}, poison)
    ArrayCache(folder).put({"encoder": spec.identity, "dataset": "MUTAG", "split": "all", "featurizer": "none",
                            "pooling": "mean", "layer": None, "level": "graph", "max_samples": None,
                            "sample_seed": 0, "format": 3}, poison)
    ranked = target_embeddings(ENCODER, "MUTAG", cache=folder)
    embedded = embed_dataset(ENCODER, "MUTAG", cache=tmp_path)
    direct = _direct(mutag, "mean", None)
    np.testing.assert_allclose(ranked.features, direct, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(embedded.load(), direct, rtol=1e-5, atol=1e-6)
    assert embedded.from_cache and _count(folder) == 3  # embed read rank's new entry; the two old ones lie unread


def test_a_selection_is_cut_from_the_whole_or_embedded_alone_by_one_rule(mutag, tmp_path):
    """At least half of the graphs: read from the whole dataset's entry (kept as its own entry only when asked);
    fewer: embedded alone. Either way the rows' features are the whole dataset's rows, and no cache is needed."""
    spec = resolve_encoder(ENCODER)
    whole = graph_embeddings(spec, mutag, "MUTAG", level="graph", node_input=7, cache=tmp_path)
    big, few = np.arange(100)[::-1], np.array([5, 3, 180])
    cut = graph_embeddings(spec, mutag, "MUTAG", level="graph", node_input=7, rows=big, cache=tmp_path)
    assert cut.entry is None and _count(tmp_path) == 1  # cut in memory, nothing new kept
    np.testing.assert_array_equal(cut.features, whole.features[big])
    np.testing.assert_array_equal(cut.labels, mutag._data.y.numpy()[big])
    kept = graph_embeddings(spec, mutag, "MUTAG", level="graph", node_input=7, rows=big, keep_rows=True,
                            cache=tmp_path)
    assert kept.entry is not None and _count(tmp_path) == 2
    np.testing.assert_array_equal(kept.entry.load("features"), whole.features[big])
    alone = graph_embeddings(spec, mutag, "MUTAG", level="graph", node_input=7, rows=few, cache=tmp_path)
    assert alone.entry is not None and alone.entry.load("features").shape == (3, 8)
    np.testing.assert_allclose(alone.features, whole.features[few], rtol=1e-5, atol=1e-6)
    uncached = graph_embeddings(spec, mutag, "MUTAG", level="graph", node_input=7, rows=few)
    assert uncached.entry is None
    np.testing.assert_allclose(uncached.features, whole.features[few], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="rows of MUTAG must lie in 0..187"):
        graph_embeddings(spec, mutag, "MUTAG", level="graph", node_input=7, rows=np.array([188]))


@pytest.mark.parametrize("text", [ENCODER, "published:gcn_contextpred"])
def test_the_encoders_own_pooling_is_what_it_applies(text):
    """rank keys its entries by the encoder's own pooling, read from the spec before anything is embedded: it must be
    the pooling the loaded encoder applies when none is asked for."""
    spec = resolve_encoder(text)
    assert spec.pooling == resolve_encoder(text).load(node_features=7 if text == ENCODER else "hu2020").pooling
