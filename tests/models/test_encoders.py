"""Encoders on tiny hand-built graphs: layer formulas against dense references, shapes, gradients,
invariances, determinism and the checkpoint round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch, Data

from gtransfer.io.checkpoints import load_checkpoint, save_checkpoint
from gtransfer.models import GAT, GCN, GIN, GNNEncoder, GraphSAGE, build_encoder
from gtransfer.models.convs import GATLayer, GCNLayer, GINLayer, SAGELayer
from tests.tiny_graphs import float_graph as _float_graph
from tests.tiny_graphs import hu2020_chain as _path_graph_hu

ARCHS = ["gin", "gcn", "graphsage", "gat"]




def _dense_reference(layer, x: torch.Tensor, edge_index: torch.Tensor, edge_emb: torch.Tensor | None) -> torch.Tensor:
    """Node-by-node loop over neighbour lists, written from the formulas in docs/pretrain_gnns_format.md."""
    n = x.size(0)
    neighbours = {i: [] for i in range(n)}  # i -> [(j, edge row)], self-loop last
    for e, (j, i) in enumerate(edge_index.T.tolist()):
        neighbours[i].append((j, e))
    loop_emb = layer.edge_encoder.self_loop(n, x.device) if edge_emb is not None else None

    def e_ij(i, e):
        if edge_emb is None:
            return 0.0
        return loop_emb[i] if e is None else edge_emb[e]

    rows = []
    for i in range(n):
        nbrs = neighbours[i] + [(i, None)]
        if isinstance(layer, GINLayer):
            rows.append(layer.mlp(sum(x[j] + e_ij(i, e) for j, e in nbrs)))
        elif isinstance(layer, GCNLayer):
            deg = [len(neighbours[k]) + 1 for k in range(n)]
            rows.append(sum((deg[i] * deg[j]) ** -0.5 * (layer.linear(x[j]) + e_ij(i, e)) for j, e in nbrs))
        elif isinstance(layer, SAGELayer):
            mean = sum(layer.linear(x[j]) + e_ij(i, e) for j, e in nbrs) / len(nbrs)
            rows.append(mean / mean.norm().clamp_min(1e-12))
        else:  # GAT
            H, D = layer.heads, layer.dim
            wx = layer.weight_linear(x).view(n, H, D)
            msgs = [wx[j] + (e_ij(i, e).view(H, D) if edge_emb is not None else 0.0) for j, e in nbrs]
            scores = torch.stack([
                torch.nn.functional.leaky_relu((torch.cat([wx[i], m], -1) * layer.att[0]).sum(-1), 0.2) for m in msgs
            ])  # (deg, H)
            alpha = torch.softmax(scores, dim=0)
            out = sum(alpha[k].unsqueeze(-1) * msgs[k] for k in range(len(msgs)))
            rows.append(out.mean(0) + layer.bias)
    return torch.stack(rows)


@pytest.mark.parametrize("layer_cls", [GINLayer, GCNLayer, SAGELayer, GATLayer])
@pytest.mark.parametrize("features", ["hu2020", "float", "none"])
def test_layer_matches_node_by_node_reference(layer_cls, features):
    torch.manual_seed(0)
    dim = 6
    if features == "hu2020":
        graph = _path_graph_hu(5, seed=1)
        layer = layer_cls(dim, "hu2020")
        # the layer's edge encoder sees raw integer attributes
    else:
        graph = _float_graph(6, seed=2, node_dim=dim, edge_dim=3 if features == "float" else None)
        layer = layer_cls(dim, 3 if features == "float" else None)
    x = torch.randn(graph.num_nodes, dim)
    with torch.no_grad():
        if features == "float":  # the learned self-loop vector starts at 0; make it count
            torch.nn.init.normal_(layer.edge_encoder.self_loop_vector)
        edge_emb = None if features == "none" else layer.edge_encoder(graph.edge_attr)
        got = layer(x, graph.edge_index, graph.edge_attr if features != "none" else None)
        want = _dense_reference(layer, x, graph.edge_index, edge_emb)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_hu2020_self_loop_uses_bond_type_4_direction_0():
    layer = GCNLayer(4, "hu2020")
    with torch.no_grad():
        loop = layer.edge_encoder.self_loop(2, torch.device("cpu"))
        emb = layer.edge_encoder.embeddings
        torch.testing.assert_close(loop[0], emb[0].weight[4] + emb[1].weight[0])


def _encoders(**kwargs) -> list[GNNEncoder]:
    return [cls(**kwargs) for cls in (GIN, GCN, GraphSAGE, GAT)]


@pytest.mark.parametrize("jk,width", [("last", 8), ("concat", 8 * 4), ("max", 8), ("sum", 8)])
def test_shapes_every_arch_and_jk(jk, width):
    torch.manual_seed(0)
    batch = Batch.from_data_list([_path_graph_hu(n, seed=n) for n in (3, 5, 4)])
    for enc in _encoders(num_layers=3, hidden_dim=8, jk=jk):
        enc.eval()
        assert enc.embedding_dim == width
        assert enc.embed(batch).shape == (3, width)
        assert enc.embed(batch, level="node").shape == (12, width)
        for layer in range(4):
            assert enc.embed(batch, layer=layer, pooling="max").shape == (3, 8)


def test_graph_embedding_is_mean_of_node_embeddings_and_batch_independent():
    torch.manual_seed(0)
    graphs = [_path_graph_hu(n, seed=n) for n in (3, 6)]
    for enc in _encoders(num_layers=2, hidden_dim=8):
        enc.eval()
        with torch.no_grad():
            both = enc.embed(Batch.from_data_list(graphs))
            nodes = enc.embed(Batch.from_data_list(graphs), level="node")
            alone = torch.cat([enc.embed(Batch.from_data_list([g])) for g in graphs])
        torch.testing.assert_close(both, alone, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(both[0], nodes[:3].mean(0), rtol=1e-5, atol=1e-6)


def test_graph_embedding_is_invariant_to_node_permutation(float_graph):
    torch.manual_seed(0)
    graph = float_graph(7, seed=3)
    perm = torch.randperm(7)
    inverse = torch.empty_like(perm)
    inverse[perm] = torch.arange(7)
    permuted = Data(x=graph.x[perm], edge_index=inverse[graph.edge_index], edge_attr=graph.edge_attr, num_nodes=7)
    for enc in _encoders(num_layers=3, hidden_dim=8, node_features=5, edge_features=3, pooling="sum"):
        enc.eval()
        with torch.no_grad():
            torch.testing.assert_close(enc.embed(graph), enc.embed(permuted), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_parameter_gets_a_gradient(arch):
    torch.manual_seed(0)
    batch = Batch.from_data_list([_path_graph_hu(n, seed=n) for n in (4, 5, 6)])
    enc = build_encoder({"arch": arch, "num_layers": 2, "hidden_dim": 8, "jk": "concat"})
    enc.train()
    enc.embed(batch).pow(2).sum().backward()
    for name, p in enc.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
        if not name.startswith("node_encoder") and "edge_encoder" not in name:
            assert p.grad.abs().sum() > 0, name  # embedding rows of unseen atom types stay 0, the rest must move


@pytest.mark.parametrize("arch", ARCHS)
def test_same_seed_same_weights_and_outputs(arch):
    batch = Batch.from_data_list([_path_graph_hu(5, seed=1)])
    outs = []
    for _ in range(2):
        torch.manual_seed(7)
        enc = build_encoder({"arch": arch, "num_layers": 2, "hidden_dim": 8, "dropout": 0.5})
        enc.train()
        torch.manual_seed(3)  # dropout masks
        outs.append(enc.embed(batch))
    torch.testing.assert_close(outs[0], outs[1], rtol=0, atol=0)


@pytest.mark.parametrize("arch", ARCHS)
def test_checkpoint_round_trip_rebuilds_the_same_encoder(arch, tmp_path, float_graph):
    torch.manual_seed(0)
    enc = build_encoder({"arch": arch, "num_layers": 2, "hidden_dim": 8, "node_features": 5, "edge_features": 3,
                         "jk": "sum", "pooling": "max"})
    graph = float_graph(6, seed=4)
    enc.train()
    enc.embed(graph)  # move BatchNorm running statistics off their initial values
    enc.eval()
    path = save_checkpoint(tmp_path / "enc.pt", enc.state_dict(), {"architecture": enc.config, "seed": 0})
    state, meta = load_checkpoint(path)
    assert torch.load(path, weights_only=True)["metadata"]["architecture"]["arch"] == arch
    again = build_encoder(meta["architecture"]).eval()
    again.load_state_dict(state, strict=True)
    with torch.no_grad():
        torch.testing.assert_close(enc.embed(graph), again.embed(graph), rtol=0, atol=0)


def test_chirality_other_is_embedded_as_unspecified():
    torch.manual_seed(0)
    enc = GCN(num_layers=1, hidden_dim=4).eval()
    graph = _path_graph_hu(3, seed=0)
    other, unspecified = graph.clone(), graph.clone()
    other.x[:, 1] = 3
    unspecified.x[:, 1] = 0
    with torch.no_grad():
        torch.testing.assert_close(enc.embed(other), enc.embed(unspecified), rtol=0, atol=0)


def test_out_of_vocabulary_atom_type_is_refused():
    enc = GIN(num_layers=1, hidden_dim=4).eval()
    graph = _path_graph_hu(3, seed=0)
    graph.x[0, 0] = 120
    with pytest.raises(ValueError, match=r"column 0 has index 120 outside its vocabulary 0..119 \(row 0 of this batch"):
        enc.embed(graph)


def test_negative_index_is_refused_with_its_own_value():
    # ClinTox's '*' atom once became index -1; the message printed the column's maximum instead
    enc = GIN(num_layers=1, hidden_dim=4).eval()
    graph = _path_graph_hu(3, seed=0)
    graph.x[:, 0] = torch.tensor([52, 5, 7])
    graph.x[1, 0] = -1
    with pytest.raises(
        ValueError, match=r"column 0 has index -1 outside its vocabulary 0..119 \(row 1 of this batch, 1 such rows"
    ):
        enc.embed(graph)
    graph.x[1, 0], graph.x[2, 1] = 5, -2  # the chirality column falls back past its table, never below it
    with pytest.raises(ValueError, match=r"column 1 has index -2"):
        enc.embed(graph)


def test_dataset_vocabulary_check_names_the_molecule_column_and_index(tiny_molecules):
    from gtransfer.models.inputs import check_molecule_vocabulary

    graphs = tiny_molecules()
    check_molecule_vocabulary(graphs, "hu2020")  # in vocabulary: silent
    graphs[5].x[1, 0] = -1

    class Named(list):
        smiles = [f"C{i}" for i in range(len(graphs))]

    with pytest.raises(
        ValueError,
        match=r"tiny: molecule #5 \(SMILES 'C5'\) has atom feature column 0 = -1, outside the hu2020 "
        r"vocabulary 0..119 \(1 atom\(s\) in all\)",
    ):
        check_molecule_vocabulary(Named(graphs), "hu2020", name="tiny")
    graphs[5].x[1, 0] = 0
    graphs[2].edge_attr[0, 0] = 6
    with pytest.raises(
        ValueError, match=r"molecule #2 has bond feature column 0 = 6, outside the hu2020 vocabulary 0..5"
    ):
        check_molecule_vocabulary(graphs, "hu2020")


def test_ogb_features_and_float_features():
    from gtransfer.data.featurizers import ogb_smiles2graph

    g = ogb_smiles2graph("CC(=O)Oc1ccccc1C(=O)O")
    data = Data(x=torch.from_numpy(g["node_feat"]), edge_index=torch.from_numpy(g["edge_index"]),
                edge_attr=torch.from_numpy(g["edge_feat"]), num_nodes=g["num_nodes"])
    enc = GIN(num_layers=2, hidden_dim=8, node_features="ogb").eval()
    assert enc.featurizer == "ogb" and enc.embed(data).shape == (1, 8)
    with pytest.raises(ValueError, match=r"expects \(N, 2\)"):
        GIN(num_layers=1, hidden_dim=4, node_features="hu2020").embed(data)


@pytest.mark.parametrize("kwargs,match", [
    ({"num_layers": 0}, "num_layers"), ({"jk": "lstm"}, "jk"), ({"pooling": "set2set"}, "pooling"),
    ({"dropout": 1.0}, "dropout"), ({"node_features": "morgan"}, "featurizer"), ({"hidden_dim": 0}, "hidden_dim"),
])
def test_bad_configuration_is_a_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        GIN(**kwargs)


def test_graph_without_edges_and_missing_edge_attr():
    enc = GAT(num_layers=2, hidden_dim=4).eval()
    lone = Data(x=torch.tensor([[5, 0]]), edge_index=torch.empty(2, 0, dtype=torch.long),
                edge_attr=torch.empty(0, 2, dtype=torch.long), num_nodes=1)
    assert torch.isfinite(enc.embed(lone)).all()
    with pytest.raises(ValueError, match="no edge_attr"):
        enc.embed(Data(x=lone.x, edge_index=lone.edge_index, num_nodes=1))
    assert np.isfinite(enc.embed(lone).detach().numpy()).all()
