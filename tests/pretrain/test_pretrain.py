"""Pretraining strategies on tiny graphs: losses, gradients, learning, determinism, augmentations,
and an interrupted run that resumes to exactly the weights of an uninterrupted one."""

from __future__ import annotations

import pytest
import torch
from torch_geometric.data import Batch

from gtransfer.io.checkpoints import load_checkpoint
from gtransfer.models import GCN, GIN, build_encoder
from gtransfer.pretrain import STRATEGIES, make_strategy, pretrain
from gtransfer.pretrain.augment import drop_edges, drop_nodes, mask_attributes, sample_subgraph
from tests.tiny_graphs import float_rings as _float_graphs
from tests.tiny_graphs import molecules as _molecules


def _options(name):
    return {"num_tasks": 2} if name == "supervised" else {}


CASES = [(name, "molecule") for name in STRATEGIES] + [
    (n, "float") for n in ("attrmask", "contextpred", "edgepred", "infomax", "graphcl")
]


@pytest.mark.parametrize("name,data", CASES)
def test_strategy_loss_gradients_and_learning(name, data):
    torch.manual_seed(0)
    if data == "molecule":
        batch = Batch.from_data_list(_molecules(labelled=name == "supervised"))
        encoder = GIN(num_layers=2, hidden_dim=16)
    else:
        batch = Batch.from_data_list(_float_graphs())
        encoder = GCN(num_layers=2, hidden_dim=16, node_features=3, edge_features=None)
    strategy = make_strategy(name, encoder, **_options(name))
    optimizer = torch.optim.Adam(strategy.parameters(), lr=1e-2)
    losses = []
    for _ in range(25):
        torch.manual_seed(1)  # same masks / negatives / views each step: the loss must go down
        loss = strategy.loss(batch)
        assert loss.dim() == 0 and torch.isfinite(loss)
        optimizer.zero_grad()
        loss.backward()
        if not losses:
            grads = [p.grad for p in encoder.convs.parameters()]
            assert all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0], losses
    torch.manual_seed(5)
    a = strategy.loss(batch)
    torch.manual_seed(5)
    assert strategy.loss(batch).item() == a.item()


def test_augmentations_keep_graphs_valid(tiny_molecules):
    torch.manual_seed(0)
    encoder = GIN(num_layers=1, hidden_dim=4)
    batch = Batch.from_data_list(tiny_molecules())
    for _ in range(10):
        view = drop_nodes(batch, encoder, rate=0.6)
        assert torch.bincount(view.batch, minlength=batch.num_graphs).min() >= 1
        assert view.edge_index.max() < view.x.size(0) and view.edge_attr.size(0) == view.edge_index.size(1)
        view = drop_edges(batch, encoder, rate=0.5)
        pairs = set(map(tuple, view.edge_index.T.tolist()))
        assert all((j, i) in pairs for i, j in pairs)  # both directions dropped together
        assert view.edge_index.size(1) < batch.edge_index.size(1)
    import math

    import networkx as nx

    sizes = torch.bincount(batch.batch, minlength=batch.num_graphs)
    for _ in range(10):
        view = sample_subgraph(batch, encoder, rate=0.4)
        kept = torch.bincount(view.batch, minlength=batch.num_graphs)
        # connected molecules: exactly ceil(0.6 n) nodes of each, one connected piece, edges and features consistent
        assert kept.tolist() == [math.ceil(0.6 * int(n)) for n in sizes]
        assert view.edge_index.max() < view.x.size(0) and view.edge_attr.size(0) == view.edge_index.size(1)
        pieces = nx.Graph()
        pieces.add_nodes_from(range(view.x.size(0)))
        pieces.add_edges_from(view.edge_index.T.tolist())
        assert nx.number_connected_components(pieces) == batch.num_graphs
    masked = mask_attributes(batch, encoder, rate=1.0)
    assert (masked.x == torch.tensor([119, 0])).all() and (batch.x[:, 0] != 119).all()


def test_bad_strategy_and_options():
    encoder = GIN(num_layers=1, hidden_dim=4)
    with pytest.raises(ValueError, match="unknown pretraining strategy"):
        make_strategy("nonsense", encoder)
    with pytest.raises(ValueError, match="mask_rate"):
        make_strategy("attrmask", encoder, mask_rate=1.5)
    with pytest.raises(ValueError, match="bad options"):
        make_strategy("infomax", encoder, temperature=0.1)
    with pytest.raises(ValueError, match="at least 2 graphs"):
        make_strategy("graphcl", encoder).loss(Batch.from_data_list(_molecules()[:1]))


class _Interrupt(Exception):
    pass


@pytest.mark.parametrize("strategy", ["attrmask", "graphcl"])
def test_interrupted_pretraining_resumes_to_identical_weights(tmp_path, strategy, tiny_molecules):
    graphs = tiny_molecules()
    config = {"arch": "gin", "num_layers": 2, "hidden_dim": 8, "dropout": 0.1}
    kwargs = dict(strategy=strategy, graphs=graphs, epochs=3, corpus="tiny", batch_size=3, seed=4, progress=False)

    torch.manual_seed(0)
    straight = pretrain(build_encoder(config), checkpoint=tmp_path / "straight.pt", **kwargs)

    def stop_after_two(epoch, loss):
        if epoch == 2:
            raise _Interrupt

    torch.manual_seed(0)
    with pytest.raises(_Interrupt):
        pretrain(build_encoder(config), checkpoint=tmp_path / "resumed.pt", on_epoch_end=stop_after_two, **kwargs)
    _, partial = load_checkpoint(tmp_path / "resumed.pt")
    assert partial["epochs_done"] == 2 and partial["complete"] is False
    torch.manual_seed(123)  # a fresh process would start from other random weights
    resumed = pretrain(build_encoder(config), checkpoint=tmp_path / "resumed.pt", **kwargs)

    assert resumed["history"] == straight["history"] and resumed["complete"]
    a, meta = load_checkpoint(tmp_path / "straight.pt")
    b, _ = load_checkpoint(tmp_path / "resumed.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    for key in ("architecture", "featurizer", "strategy", "corpus", "epochs", "seed", "code_version"):
        assert key in meta
    assert meta["architecture"] == build_encoder(config).config and meta["featurizer"] == "hu2020"
    rebuilt = build_encoder(meta["architecture"])
    rebuilt.load_state_dict(a, strict=True)

    # a finished run is not redone; a different run at the same path is refused
    again = pretrain(build_encoder(config), checkpoint=tmp_path / "straight.pt", **kwargs)
    assert again["history"] == straight["history"]
    with pytest.raises(ValueError, match="another run"):
        pretrain(build_encoder(config), checkpoint=tmp_path / "straight.pt", **{**kwargs, "seed": 5})


@pytest.mark.shared_data
def test_pretrain_command_on_the_corpus_writes_a_loadable_encoder(shared_data, tmp_path):
    from gtransfer.cli import main
    from gtransfer.io.checkpoints import load_checkpoint
    from gtransfer.models import load_encoder

    out = tmp_path / "gcn_infomax.pt"
    assert (
        main(
            [
                "pretrain", "--arch", "gcn", "--strategy", "infomax", "--corpus", "zinc250k-jtnn-test", "--limit", "40",
                "--epochs", "2", "--num-layers", "2", "--hidden-dim", "8", "--batch-size", "8", "--root",
                str(shared_data), "--out", str(out),
            ]
        )
        == 0
    )
    _, meta = load_checkpoint(out)
    assert meta["corpus"] == "zinc250k-jtnn-test[:40]" and meta["num_graphs"] == 40 and len(meta["history"]) == 2
    encoder = load_encoder(out)
    assert encoder.arch == "gcn" and encoder.featurizer == "hu2020" and not encoder.training
