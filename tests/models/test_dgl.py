"""DGL interoperability: conversions, the encoder adapter, the dgl.nn examples against their PyG
twins, checkpoints, and the DGL encoder in ``gtransfer rank``, fine-tuning and a study sweep.

Runs only where DGL imports (``make test-dgl`` builds that environment: torch 2.2.1, dgl 2.1.0);
elsewhere the whole module is skipped with the reason below. Embeddings are float32, the precision
the encoders compute in: DGL and PyG sum messages in different orders, so twins agree to 1e-5
relative to the embeddings' scale, not bit for bit.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]

from gtransfer.models.dgl_requirement import MissingDGLError, require_dgl  # noqa: E402

try:
    dgl = require_dgl()
except MissingDGLError:
    pytest.skip(f"DGL is not usable next to torch {torch.__version__}; the DGL tests run in their own environment: "
                "make test-dgl", allow_module_level=True)

from torch_geometric.data import Batch, Data  # noqa: E402

from gtransfer.models.dgl import (  # noqa: E402
    DGLEncoder,
    build_dgl_encoder,
    copy_pyg_weights,
    dgl_to_pyg,
    load_dgl_encoder,
    pyg_to_dgl,
    save_dgl_encoder,
)

BBBP = REPO / "datasets" / "moleculenet" / "bbbp" / "raw" / "BBBP.csv"
EMBED_TOL = 1e-5


# -- conversions --------------------------------------------------------------------------------------
def _random_graph(rng: np.random.Generator, num_nodes: int, num_edges: int, label: int) -> Data:
    """A directed multigraph with self-loops and (when num_edges is small) isolated nodes, with
    float node features, integer edge features, an extra node and edge field and a graph label."""
    edge_index = torch.from_numpy(rng.integers(0, num_nodes, size=(2, num_edges)))
    return Data(
        x=torch.from_numpy(rng.standard_normal((num_nodes, 3))).float(),
        edge_index=edge_index,
        edge_attr=torch.from_numpy(rng.integers(0, 5, size=(num_edges, 2))),
        pos=torch.from_numpy(rng.standard_normal((num_nodes, 2))),
        edge_weight=torch.from_numpy(rng.random(num_edges)).float(),
        y=torch.tensor([label]),
        num_nodes=num_nodes,
    )


def _assert_same_pyg(left: Data, right: Data) -> None:
    assert left.num_nodes == right.num_nodes
    for key in ("edge_index", "x", "edge_attr", "pos", "edge_weight", "y"):
        a, b = left[key], right[key]
        assert a.dtype == b.dtype, key
        assert torch.equal(a, b), key


def test_single_graph_round_trip_keeps_structure_and_features():
    data = _random_graph(np.random.default_rng(0), num_nodes=9, num_edges=5, label=1)  # >= 4 isolated nodes
    graph, graph_attrs = pyg_to_dgl(data, with_graph_attrs=True)
    assert (graph.num_nodes(), graph.num_edges()) == (9, 5)
    src, dst = graph.edges(order="eid")
    assert torch.equal(src, data.edge_index[0]) and torch.equal(dst, data.edge_index[1])
    assert torch.equal(graph.ndata["feat"], data.x) and torch.equal(graph.edata["feat"], data.edge_attr)
    assert torch.equal(graph.ndata["pos"], data.pos) and torch.equal(graph.edata["edge_weight"], data.edge_weight)
    assert set(graph_attrs) == {"y"}
    _assert_same_pyg(dgl_to_pyg(graph, graph_attrs=graph_attrs), data)


def test_batch_round_trip_keeps_per_graph_counts():
    rng = np.random.default_rng(1)
    graphs = [_random_graph(rng, n, e, i) for i, (n, e) in enumerate([(4, 6), (1, 0), (7, 3), (3, 9)])]
    batch = Batch.from_data_list(graphs)
    graph, graph_attrs = pyg_to_dgl(batch, with_graph_attrs=True)
    assert graph.batch_size == 4
    assert graph.batch_num_nodes().tolist() == [4, 1, 7, 3]
    assert graph.batch_num_edges().tolist() == [6, 0, 3, 9]
    back = dgl_to_pyg(graph, graph_attrs=graph_attrs)
    _assert_same_pyg(back, batch)
    assert torch.equal(back.batch, batch.batch) and torch.equal(back.ptr, batch.ptr)
    for original, returned in zip(graphs, back.to_data_list()):
        _assert_same_pyg(returned, original)


def test_dgl_batch_to_pyg_and_back_is_identical():
    rng = np.random.default_rng(2)
    parts = []
    for n, e in [(5, 8), (2, 1), (6, 0)]:
        g = dgl.graph((torch.from_numpy(rng.integers(0, n, e)), torch.from_numpy(rng.integers(0, n, e))), num_nodes=n)
        g.ndata["feat"] = torch.from_numpy(rng.integers(0, 9, size=(n, 2)))
        g.edata["feat"] = torch.from_numpy(rng.standard_normal((e, 4))).float()
        parts.append(g)
    original = dgl.batch(parts)
    labels = torch.tensor([[1.0], [0.0], [1.0]])
    batch = dgl_to_pyg(original, graph_attrs={"y": labels})
    assert batch.num_graphs == 3 and torch.equal(batch.y, labels)
    assert torch.equal(batch.x, original.ndata["feat"]) and torch.equal(batch.edge_attr, original.edata["feat"])
    again = pyg_to_dgl(batch, with_graph_attrs=True)[0]
    assert torch.equal(again.batch_num_nodes(), original.batch_num_nodes())
    assert torch.equal(again.batch_num_edges(), original.batch_num_edges())
    for a, b in zip(again.edges(order="eid"), original.edges(order="eid")):
        assert torch.equal(a, b)
    assert torch.equal(again.ndata["feat"], original.ndata["feat"]) and torch.equal(
        again.edata["feat"], original.edata["feat"]
    )


def test_graph_attributes_left_out_are_named_in_a_warning():
    data = _random_graph(np.random.default_rng(3), 4, 4, 0)
    data.smiles = "CCO"
    with pytest.warns(UserWarning, match=r"2 graph-level attribute\(s\) \['smiles', 'y'\]"):
        graph = pyg_to_dgl(data)
    assert graph.num_nodes() == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pyg_to_dgl(Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [1]])))  # nothing to leave out


def test_conversion_errors_name_the_problem():
    with pytest.raises(ValueError, match="refers to node 5 but the graph has 3 nodes"):
        pyg_to_dgl(Data(x=torch.zeros(3, 1), edge_index=torch.tensor([[0, 5], [1, 2]])))
    with pytest.raises(ValueError, match=r"shape \(2, E\)"):
        pyg_to_dgl(Data(x=torch.zeros(3, 1), edge_index=torch.tensor([0, 1, 2])))
    batch = Batch.from_data_list([_random_graph(np.random.default_rng(4), 3, 2, 0) for _ in range(2)])
    batch.edge_index = batch.edge_index.flip(1)  # graph 1's edges first
    batch.edge_attr, batch.edge_weight = batch.edge_attr.flip(0), batch.edge_weight.flip(0)
    with pytest.raises(ValueError, match="not grouped by graph"):
        pyg_to_dgl(batch, with_graph_attrs=True)
    hetero = dgl.heterograph({("a", "r", "b"): (torch.tensor([0]), torch.tensor([0]))})
    with pytest.raises(ValueError, match="homogeneous"):
        dgl_to_pyg(hetero)
    with pytest.raises(ValueError, match="one entry per graph"):
        dgl_to_pyg(
            dgl.batch([dgl.graph(([0], [1])), dgl.graph(([0], [1]))]), graph_attrs={"y": torch.tensor([1, 2, 3])}
        )


# -- the dgl.nn examples against their PyG twins ---------------------------------------------------
def _twins(arch: str, node_features="hu2020", layers: int = 3, dim: int = 32, seed: int = 0):
    """A PyG encoder with randomised weights and batch-norm statistics, and its DGL twin."""
    from gtransfer.models import GCN, GIN

    torch.manual_seed(seed)
    pyg = {"gin": GIN, "gcn": GCN}[arch](
        num_layers=layers, hidden_dim=dim, node_features=node_features, edge_features=None
    )
    with torch.no_grad():
        for bn in pyg.batch_norms:  # eval mode uses these: make them matter
            bn.running_mean.uniform_(-1.0, 1.0)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
    twin = build_dgl_encoder(arch, num_layers=layers, hidden_dim=dim, node_features=node_features)
    return pyg.eval(), copy_pyg_weights(twin, pyg).eval()


def _assert_close(a: np.ndarray, b: np.ndarray) -> None:
    scale = float(np.abs(a).max())
    assert scale > 0.1  # the comparison is not between two near-zero arrays
    np.testing.assert_allclose(b, a, rtol=0, atol=EMBED_TOL * scale)


@pytest.fixture(scope="module")
def bbbp_smiles() -> list[str]:
    return pd.read_csv(BBBP)["smiles"].tolist()[:200]


@pytest.mark.parametrize("arch", ["gin", "gcn"])
def test_dgl_and_pyg_twins_embed_molecules_identically(arch, bbbp_smiles):
    from gtransfer.embeddings.embed import embed_smiles

    pyg, twin = _twins(arch)
    for pooling in ("mean", "sum", "max"):
        _assert_close(embed_smiles(pyg, bbbp_smiles, pooling=pooling), embed_smiles(twin, bbbp_smiles, pooling=pooling))
    for layer in (0, 1, 3):
        _assert_close(embed_smiles(pyg, bbbp_smiles, layer=layer), embed_smiles(twin, bbbp_smiles, layer=layer))


def test_dgl_and_pyg_gin_agree_on_float_features_and_node_level():
    from torch_geometric.loader import DataLoader

    from gtransfer.data import load_dataset
    from gtransfer.embeddings.embed import embed_loader

    mutag = load_dataset("MUTAG")
    pyg, twin = _twins("gin", node_features=int(mutag.num_features), layers=4, dim=16, seed=3)
    loader = DataLoader(mutag, batch_size=50)
    _assert_close(embed_loader(pyg, loader), embed_loader(twin, loader))
    _assert_close(embed_loader(pyg, loader, level="node"), embed_loader(twin, loader, level="node"))


def test_adapter_takes_dgl_graphs_as_well_as_pyg_batches(bbbp_smiles):
    from gtransfer.data.featurizers import smiles_to_graphs

    _, twin = _twins("gin")
    batch = Batch.from_data_list(smiles_to_graphs(bbbp_smiles[:20], "hu2020")[0])
    graph = pyg_to_dgl(batch, with_graph_attrs=True)[0]
    with torch.no_grad():
        from_pyg, from_dgl = twin.embed(batch), twin.embed(graph)
        assert torch.equal(from_pyg, from_dgl) and from_pyg.shape == (20, 32)
        assert torch.equal(twin.embed(batch, level="node"), twin.embed(graph, level="node"))


def test_copy_pyg_weights_refuses_a_different_architecture():
    from gtransfer.models import GIN

    pyg_gin = GIN(num_layers=2, hidden_dim=8, node_features="hu2020", edge_features=None)
    with pytest.raises(ValueError, match="pair gin with DGLGIN"):
        copy_pyg_weights(build_dgl_encoder("gcn", num_layers=2, hidden_dim=8), pyg_gin)
    with pytest.raises(ValueError, match="3 x 8"):
        copy_pyg_weights(build_dgl_encoder("gin", num_layers=3, hidden_dim=8), pyg_gin)
    with_edges = GIN(num_layers=2, hidden_dim=8, node_features="hu2020")
    with pytest.raises(ValueError, match="no edge features"):
        copy_pyg_weights(build_dgl_encoder("gin", num_layers=2, hidden_dim=8), with_edges)


# -- the adapter's contract and checkpoints ----------------------------------------------------------
class _ConstantWidth(torch.nn.Module):
    """A DGL-style module whose output width is wrong on purpose."""

    def forward(self, graph, x):
        return torch.zeros(graph.num_nodes(), 5)


def test_adapter_errors_name_the_problem(bbbp_smiles):
    from gtransfer.data.featurizers import smiles_to_graphs

    batch = Batch.from_data_list(smiles_to_graphs(bbbp_smiles[:3], "hu2020")[0])
    wrong = DGLEncoder(_ConstantWidth(), embedding_dim=4)
    with pytest.raises(ValueError, match=r"_ConstantWidth returned shape \(\d+, 5\); expected \(\d+, 4\)"):
        wrong.embed(batch)
    with pytest.raises(ValueError, match="has no layer_outputs"):
        DGLEncoder(_ConstantWidth(), embedding_dim=5).embed(batch, layer=1)
    with pytest.raises(ValueError, match="edge features but the PyG graph has no edge_attr"):
        DGLEncoder(_ConstantWidth(), embedding_dim=5, edge_features=True).embed(
            Data(x=torch.zeros(2, 1), edge_index=torch.tensor([[0], [1]]))
        )
    with pytest.raises(ValueError, match="pooling must be one of"):
        DGLEncoder(_ConstantWidth(), embedding_dim=5, pooling="median")
    with pytest.raises(ValueError, match="unknown DGL builder 'gat'"):
        build_dgl_encoder("gat")
    with pytest.raises(
        ValueError,
        match=r"unknown DGL builder 'gtransfer.models.dgl.examples:build_dgl_gcn'; registered: \['gcn', 'gin'",
    ):
        build_dgl_encoder("gtransfer.models.dgl.examples:build_dgl_gcn")  # a module path is never imported
    with pytest.raises(ValueError, match="no builder"):
        save_dgl_encoder(DGLEncoder(_ConstantWidth(), embedding_dim=5), "unused.pt")


@pytest.mark.parametrize("builder", ["gcn", "registered_gcn"])
def test_checkpoint_round_trip_through_load_encoder(tmp_path, builder, bbbp_smiles):
    from gtransfer.models.dgl import DGL_BUILDERS, build_dgl_gcn, register_dgl_builder

    if builder not in DGL_BUILDERS:
        register_dgl_builder(builder)(build_dgl_gcn)
    from gtransfer.embeddings.embed import embed_smiles
    from gtransfer.models import load_encoder

    torch.manual_seed(5)
    encoder = build_dgl_encoder(builder, num_layers=2, hidden_dim=16, pooling="sum")
    path = save_dgl_encoder(encoder, tmp_path / "dgl_gcn.pt", metadata={"note": "test"})
    reopened = load_encoder(path)
    assert isinstance(reopened, DGLEncoder) and not reopened.training
    assert reopened.config == encoder.config and reopened.config["builder"] == builder
    expected = embed_smiles(encoder.eval(), bbbp_smiles[:30])
    np.testing.assert_array_equal(embed_smiles(reopened, bbbp_smiles[:30]), expected)
    assert reopened.pooling == "sum"


def test_checkpoint_with_weights_of_another_shape_is_refused(tmp_path):
    from gtransfer.io.checkpoints import read_checkpoint, save_checkpoint

    path = save_dgl_encoder(build_dgl_encoder("gin", num_layers=2, hidden_dim=8), tmp_path / "a.pt")
    checkpoint = read_checkpoint(path)
    checkpoint["metadata"]["architecture"]["config"]["hidden_dim"] = 16
    save_checkpoint(tmp_path / "b.pt", checkpoint["state_dict"], checkpoint["metadata"])
    with pytest.raises(ValueError, match="the weights do not fit builder 'gin'"):
        load_dgl_encoder(tmp_path / "b.pt")


# -- the DGL encoder in commands and studies ----------------------------------------------------------
@pytest.fixture(scope="module")
def twin_checkpoints(tmp_path_factory) -> tuple[Path, Path]:
    """A DGL GIN checkpoint and a gtransfer checkpoint of its PyG twin (same weights)."""
    from gtransfer.io.checkpoints import save_checkpoint

    folder = tmp_path_factory.mktemp("twins")
    pyg, twin = _twins("gin", layers=3, dim=32, seed=11)
    dgl_path = save_dgl_encoder(twin, folder / "dgl_gin.pt")
    pyg_path = save_checkpoint(folder / "pyg_gin.pt", pyg.state_dict(), {"architecture": pyg.config})
    return dgl_path, pyg_path


def test_rank_command_ranks_a_dgl_encoder_next_to_pyg_encoders(twin_checkpoints, capsys):
    from gtransfer.cli import main
    from gtransfer.selection.ranking import rank_encoders

    dgl_path, pyg_path = twin_checkpoints
    encoders = [str(dgl_path), str(pyg_path), "published:gcn_supervised", "random:gin:layers=2,dim=32"]
    frame = rank_encoders("ogbg-molbace", encoders, max_samples=300, progress=False)
    assert sorted(frame["encoder"]) == sorted(
        ["dgl_gin.pt", "pyg_gin.pt", "published:gcn_supervised", "random:gin:layers=2,dim=32"]
    )
    assert frame["rank"].tolist() == [1, 2, 3, 4]
    values = dict(zip(frame["encoder"], frame["shrinkage_h_score"]))
    assert values["dgl_gin.pt"] == pytest.approx(values["pyg_gin.pt"], rel=1e-4)  # twins score alike
    assert len(set(np.round(list(values.values()), 6))) >= 3  # the others really differ
    assert (
        main(["rank", "--target", "ogbg-molbace", "--encoders", *encoders, "--max-samples", "300", "--no-progress"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "dgl_gin.pt" in printed and "published:gcn_supervised" in printed


def test_embed_command_writes_the_dgl_encoders_embeddings(twin_checkpoints, tmp_path):
    from gtransfer.embeddings.dataset import embed_dataset

    dgl_path, pyg_path = twin_checkpoints
    from_dgl = embed_dataset(dgl_path, "ogbg-molbace", split="valid", cache=tmp_path).load()
    from_pyg = embed_dataset(pyg_path, "ogbg-molbace", split="valid", cache=tmp_path).load()
    assert from_dgl.shape == (from_pyg.shape[0], 32) and from_dgl.shape[0] > 100
    _assert_close(from_pyg, from_dgl)


def test_finetuning_trains_the_dgl_encoder(twin_checkpoints):
    from gtransfer.studies.kinds.graph import graph_finetune_inputs
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial
    from gtransfer.training.finetune import finetune

    dgl_path, pyg_path = twin_checkpoints
    params = {"target": "ogbg-molbace", "seed": 0, "epochs": 2, "patience": 2, "max_samples": 200, "batch_size": 32}
    trial = graph_finetune_trial({**params, "encoder": str(dgl_path)})
    assert trial["epochs_run"] == 2 and 0.0 <= trial["test_roc_auc"] <= 1.0

    histories = {}
    for name, path in (("dgl", dgl_path), ("pyg", pyg_path)):
        torch.manual_seed(0)
        encoder, loaders, task, _ = graph_finetune_inputs({**params, "encoder": str(path)}, 32)
        before = {k: v.clone() for k, v in encoder.state_dict().items()}
        result = finetune(encoder, loaders["train"], loaders["valid"], loaders["test"], task=task, epochs=2, patience=2,
                          seed=0, device="cpu", return_model=True)
        after = result.model.encoder.state_dict()
        changed = [k for k, v in before.items() if v.is_floating_point() and not torch.equal(v, after[k])]
        assert changed, f"fine-tuning left every {name} encoder weight unchanged"
        histories[name] = [epoch["train_loss"] for epoch in result.history]
    # the same weights, data order and seed: the training curves agree up to float32 summation order
    np.testing.assert_allclose(histories["dgl"], histories["pyg"], rtol=1e-3)


def test_a_study_sweep_takes_a_dgl_encoder(twin_checkpoints, tmp_path):
    from gtransfer.demos.graph import run_demo

    dgl_path, pyg_path = twin_checkpoints
    table = run_demo(
        out_dir=tmp_path / "demo",
        quick=True,
        workers=1,
        encoders=[str(dgl_path), str(pyg_path), "random:gcn:layers=2,dim=16"],
        max_samples=120,
        epochs=1,
    )
    assert len(table) == 3
    rows = table.set_index("encoder")
    dgl_row = rows.loc[[name for name in rows.index if "dgl_gin" in name][0]]
    pyg_row = rows.loc[[name for name in rows.index if "pyg_gin" in name][0]]
    assert dgl_row["shrinkage_h_score"] == pytest.approx(pyg_row["shrinkage_h_score"], rel=1e-4)
    assert dgl_row["logme"] == pytest.approx(pyg_row["logme"], rel=1e-4)
    assert (tmp_path / "demo").is_dir()
