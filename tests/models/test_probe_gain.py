"""Frozen embeddings of the published encoders beat the same architectures with random weights in a
linear probe (scaffold split): the end-to-end check of the loader. All nine files on a few hundred
BBBP molecules; the two supervised GCN/GraphSAGE files on Tox21 as well (there GAT's supervised file
probes below random weights -- 0.59 against 0.62-0.63 -- so no ordering is asserted for GAT on Tox21)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.loader import DataLoader

from gtransfer.embeddings.embed import embed_loader
from gtransfer.models import build_encoder, load_pretrain_gnns
from gtransfer.models.specs import PUBLISHED_ENCODERS
from gtransfer.training.probe import probe_rocauc

pytestmark = [pytest.mark.slow, pytest.mark.shared_data]


@pytest.fixture(scope="module", params=["ogbg-moltox21"])
def hu2020_dataset(request, shared_data, tmp_path_factory):
    from gtransfer.data import load_dataset

    # the default processed cache (GTRANSFER_CACHE or ~/.cache/gtransfer) spares re-featurising on reruns
    ds = load_dataset(request.param, root=shared_data, featurizer="hu2020", progress=False)
    split = ds.get_idx_split()
    # every other training molecule keeps the test quick; valid/test stay whole
    rows = np.concatenate([split["train"][::2], split["test"]])
    subset = ds[torch.as_tensor(rows)]
    labels = torch.cat([g.y for g in subset]).numpy()
    n_train = len(split["train"][::2])
    return subset, labels, {"train": np.arange(n_train), "test": np.arange(n_train, len(rows))}


@pytest.mark.parametrize("arch", ["gcn", "graphsage"])
def test_supervised_checkpoint_beats_random_weights(hu2020_dataset, shared_data, arch):
    ds, labels, split = hu2020_dataset
    torch.set_num_threads(1)
    encoder = load_pretrain_gnns(shared_data / "checkpoints" / "pretrain_gnns" / "chem" / f"{arch}_supervised.pth")
    torch.manual_seed(0)
    random = build_encoder(encoder.config).eval()
    loader = DataLoader(ds, batch_size=512)
    aucs = {}
    for name, enc in (("pretrained", encoder), ("random", random)):
        aucs[name] = probe_rocauc(embed_loader(enc, loader), labels, split["train"], split["test"])
    # measured (README, "The nine published encoders"): BBBP gcn 0.68 vs 0.58, graphsage 0.63 vs 0.53; Tox21 0.76 vs
    # 0.70, 0.76 vs 0.68
    assert aucs["pretrained"] > aucs["random"] + 0.04, aucs
    assert 0.6 < aucs["pretrained"] < 0.85, aucs


@pytest.fixture(scope="module")
def bbbp_sample(shared_data):
    """Every sixth BBBP training molecule (272) and the whole scaffold test split (204), hu2020 features."""
    from gtransfer.data import load_dataset

    ds = load_dataset("ogbg-molbbbp", root=shared_data, featurizer="hu2020", progress=False)
    split = ds.get_idx_split()
    rows = np.concatenate([split["train"][::6], split["test"]])
    subset = ds[torch.as_tensor(rows)]
    labels = torch.cat([g.y for g in subset]).numpy()
    n_train = len(split["train"][::6])
    return DataLoader(subset, batch_size=512), labels, np.arange(n_train), np.arange(n_train, len(rows))


def test_all_nine_published_checkpoints_beat_random_weights_on_bbbp(bbbp_sample, shared_data):
    loader, labels, train, test = bbbp_sample
    torch.set_num_threads(1)
    aucs, random = {}, {}
    for name in PUBLISHED_ENCODERS:
        encoder = load_pretrain_gnns(shared_data / "checkpoints" / "pretrain_gnns" / "chem" / f"{name}.pth")
        arch = name.split("_")[0]
        if arch not in random:
            torch.manual_seed(0)
            random[arch] = probe_rocauc(embed_loader(build_encoder(encoder.config).eval(), loader), labels, train, test)
        aucs[name] = probe_rocauc(embed_loader(encoder, loader), labels, train, test)
    # measured 2026-12-02 (docs/models.md): random seeds 0-2 gcn 0.54-0.55, graphsage 0.52, gat 0.54-0.55;
    # published 0.61-0.68, the smallest gain over the best random seed 0.057 (gat_supervised_contextpred)
    for name, auc in aucs.items():
        arch = name.split("_")[0]
        assert auc > random[arch] + 0.04, (name, auc, random[arch])
        assert 0.58 < auc < 0.75, (name, auc)


def test_probe_encoders_on_molecules_probes_each_encoder_on_the_scaffold_split(shared_data):
    from gtransfer.data import load_dataset
    from gtransfer.embeddings.probe import probe_encoders_on_molecules

    torch.manual_seed(0)
    first = build_encoder({"arch": "gin", "num_layers": 2, "hidden_dim": 16, "node_features": "hu2020"})
    torch.manual_seed(1)
    second = build_encoder({"arch": "gin", "num_layers": 2, "hidden_dim": 16, "node_features": "hu2020"})
    aucs = probe_encoders_on_molecules({"b": second, "a": first}, "ogbg-molbace", root=shared_data)
    assert list(aucs) == ["b", "a"]
    ds = load_dataset("ogbg-molbace", root=shared_data, featurizer="hu2020", progress=False)
    split = ds.get_idx_split()
    labels = torch.cat([g.y for g in ds]).numpy()
    loader = DataLoader(ds, batch_size=512)
    for name, encoder in (("a", first), ("b", second)):
        expected = probe_rocauc(embed_loader(encoder, loader), labels, split["train"].numpy(), split["test"].numpy())
        assert aucs[name] == pytest.approx(expected, abs=1e-12) and 0.5 < aucs[name] < 0.9
    assert aucs["a"] != aucs["b"]
