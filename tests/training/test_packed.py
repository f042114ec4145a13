"""Packed training is exact: each member equals the same trial trained alone (float64, 1e-6).

Two references: the classic one-model loop (:func:`gtransfer.training.finetune.finetune` on PyG
batches in the pack's data order, dropout off, since the loop draws dropout from torch's RNG) and a
pack of one (same seeds, dropout on). Every architecture and every task kind.
"""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import pytest
import torch
from torch_geometric.data import Batch

from gtransfer.models.encoder import build_encoder
from gtransfer.training.finetune import TaskSpec, finetune
from gtransfer.training.packed import DeviceGraphs, PackMember, train_pack
from tests.tiny_graphs import float_graph, hu2020_chain

TOL = 1e-6
ARCHS = ("gin", "gcn", "graphsage", "gat")
TASKS = {
    "binary": TaskSpec("multilabel", 1),
    "multitask": TaskSpec("multilabel", 3),
    "multiclass": TaskSpec("multiclass", 3),
    "regression": TaskSpec("regression", 2),
}


@contextlib.contextmanager
def float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        yield
    finally:
        torch.set_default_dtype(previous)


def _labels(kind: str, n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(7)
    if kind == "binary":
        return (torch.arange(n) % 2).double().view(n, 1)
    if kind == "multitask":
        y = (torch.rand(n, 3, generator=g) < 0.5).double()
        y[torch.arange(n) % 2 == 0, 0], y[torch.arange(n) % 2 == 1, 0] = 0.0, 1.0  # both classes in every split
        y[torch.rand(n, 3, generator=g) < 0.25] = float("nan")
        y[:, 1] = (torch.arange(n) % 2).double()
        return y
    if kind == "multiclass":
        return torch.arange(n) % 3
    y = torch.randn(n, 2, generator=g, dtype=torch.float64)
    y[torch.rand(n, 2, generator=g) < 0.2] = float("nan")
    return y


def _dataset(kind: str, molecules: bool, n: int = 30) -> tuple[list, torch.Tensor, dict[str, np.ndarray]]:
    graphs = [
        hu2020_chain(3 + i % 6, seed=i) if molecules else float_graph(3 + i % 5, seed=i, node_dim=4, edge_dim=2)
        for i in range(n)
    ]
    labels = _labels(kind, n)
    splits = {"train": np.arange(0, 18), "valid": np.arange(18, 24), "test": np.arange(24, 30)}
    return graphs, labels, splits


def _encoder(arch: str, molecules: bool, seed: int, dropout: float = 0.0, jk: str = "last", pooling: str = "mean"):
    torch.manual_seed(seed)
    features = "hu2020" if molecules else 4
    return build_encoder(
        {
            "arch": arch,
            "num_layers": 2,
            "hidden_dim": 8,
            "dropout": dropout,
            "jk": jk,
            "pooling": pooling,
            "node_features": features,
            "edge_features": "hu2020" if molecules else 2,
            "heads": 2,
        }
    ).double()


class _OrderedLoader:
    """PyG batches in the pack's order: one permutation per epoch from a generator seeded like the pack's."""

    def __init__(
        self, graphs: list, labels: torch.Tensor, positions: np.ndarray, batch_size: int, order_seed: int
    ) -> None:
        self.graphs, self.labels, self.positions, self.batch_size = graphs, labels, positions, batch_size
        self.generator = torch.Generator().manual_seed(order_seed)

    def __iter__(self):
        visit = self.positions[torch.randperm(self.positions.size, generator=self.generator).numpy()]
        for start in range(0, visit.size, self.batch_size):
            yield _batch(self.graphs, self.labels, visit[start:start + self.batch_size])


def _batch(graphs: list, labels: torch.Tensor, positions: np.ndarray) -> Batch:
    batch = Batch.from_data_list([graphs[int(i)] for i in positions])
    batch.y = labels[torch.as_tensor(positions)]
    return batch


def _exact_zero_gradient_before_batch_norm(encoder: torch.nn.Module) -> torch.nn.Module:
    """Give the biases added right before batch norm their exact gradient, zero, in the classic loop too.

    Autograd returns rounding noise there and Adam turns it into steps of up to the learning rate
    (see gtransfer/training/packed/stacked_encoder.py). ``out - b + b.detach()`` has the same value and
    a gradient that cancels exactly. Forward hooks survive the loop's deepcopy of the encoder.
    """
    for conv in encoder.convs:
        owner = conv.mlp[2] if hasattr(conv, "mlp") else conv
        if hasattr(owner, "bias") and encoder.arch in ("gin", "gat"):
            owner.register_forward_hook(lambda module, _inputs, out: out - module.bias + module.bias.detach())
    return encoder


def _relative_gap(a: dict, b: dict, counters_equal: bool = True) -> float:
    """Largest relative difference of the float tensors; integer buffers (batch counters) must be equal."""
    worst = 0.0
    for name, value in a.items():
        other = b[name]
        if value.is_floating_point():
            worst = max(worst, float((value - other).abs().max() / other.abs().max().clamp(min=1e-12)))
        elif counters_equal:
            assert torch.equal(value, other), name
    return worst


def _pack(members, graphs, labels, splits, task, epochs=3, batch_size=5, order_seed=3):
    data = DeviceGraphs(graphs, labels, float_dtype=torch.float64)
    return train_pack(members, data, splits, task, epochs=epochs, batch_size=batch_size, order_seed=order_seed,
                      dtype=torch.float64, return_models=True)


@pytest.mark.parametrize("arch", ARCHS)
@pytest.mark.parametrize("kind", sorted(TASKS))
def test_a_member_equals_the_classic_loop(arch: str, kind: str) -> None:
    molecules = arch != "graphsage" or kind != "regression"  # one float-feature case per architecture family
    molecules = molecules and not (arch == "gin" and kind == "multiclass")
    task = TASKS[kind]
    graphs, labels, splits = _dataset(kind, molecules)
    with float64():
        encoder = _encoder(
            arch,
            molecules,
            seed=1,
            jk="concat" if arch == "gcn" else "last",
            pooling="sum" if arch == "gat" else "mean",
        )
        reference = finetune(
            _exact_zero_gradient_before_batch_norm(copy.deepcopy(encoder)),
            _OrderedLoader(graphs, labels, splits["train"], 5, order_seed=3),
            [_batch(graphs, labels, splits["valid"])],
            [_batch(graphs, labels, splits["test"])],
            task,
            epochs=3,
            patience=10,
            lr=0.01,
            weight_decay=1e-3,
            seed=11,
            device="cpu",
            return_model=True,
        )
        (packed,) = _pack(
            [PackMember(encoder, seed=11, lr=0.01, weight_decay=1e-3, patience=10)], graphs, labels, splits, task
        )
    assert packed.epochs_run == reference.epochs_run == 3
    assert packed.best_epoch == reference.best_epoch
    assert packed.valid_metric == pytest.approx(reference.valid_metric, abs=TOL)
    assert packed.test_metric == pytest.approx(reference.test_metric, abs=TOL)
    for ours, theirs in zip(packed.history, reference.history):
        assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=TOL)
    assert _relative_gap(packed.model.state_dict(), reference.model.state_dict()) < TOL
    # the weights moved: an engine that skipped its updates would not pass the line above for long
    assert _relative_gap(packed.model.encoder.state_dict(), encoder.state_dict(), counters_equal=False) > 1e-3


@pytest.mark.parametrize("arch", ARCHS)
def test_members_of_a_mixed_pack_equal_their_trials_alone(arch: str) -> None:
    """Different initial weights, seeds, learning rates, weight decays, modes and patiences; dropout on."""
    task = TASKS["multitask"]
    graphs, labels, splits = _dataset("multitask", molecules=True)
    with float64():
        members = [
            PackMember(_encoder(arch, True, seed=1, dropout=0.3), seed=0, lr=0.01),
            PackMember(_encoder(arch, True, seed=2, dropout=0.3), seed=5, lr=0.003, weight_decay=0.01),
            PackMember(_encoder(arch, True, seed=1, dropout=0.3), seed=5, lr=0.02, mode="linear"),
            PackMember(_encoder(arch, True, seed=3, dropout=0.3), seed=9, lr=0.05, patience=1),
        ]
        together = _pack(members, graphs, labels, splits, task, epochs=4)
        alone = [_pack([m], graphs, labels, splits, task, epochs=4)[0] for m in members]
    for member, ours, theirs in zip(members, together, alone):
        assert (ours.epochs_run, ours.best_epoch) == (theirs.epochs_run, theirs.best_epoch)
        assert ours.valid_metric == pytest.approx(theirs.valid_metric, abs=TOL)
        assert ours.test_metric == pytest.approx(theirs.test_metric, abs=TOL)
        assert _relative_gap(ours.model.state_dict(), theirs.model.state_dict()) < TOL
        if member.mode == "linear":  # a frozen encoder stays what it was, batch-norm statistics included
            assert _relative_gap(ours.model.encoder.state_dict(), member.encoder.state_dict()) == 0.0
    # the members differ from each other: a pack that trained one model K times would fail here
    assert (
        len({round(r.test_metric, 9) for r in together}) > 1
        or len({round(r.history[0]["train_loss"], 9) for r in together}) > 1
    )


def test_dropout_masks_belong_to_the_member_not_its_position() -> None:
    from gtransfer.training.packed.stacked_encoder import hashed_dropout_keep

    keys = torch.tensor([3, 8, 3])
    masks = hashed_dropout_keep(keys, step=4, layer=1, shape=(50, 20), p=0.5)
    assert torch.equal(masks[0], masks[2]) and not torch.equal(masks[0], masks[1])
    assert 0.4 < float((masks > 0).double().mean()) < 0.6
    assert torch.allclose(masks[masks > 0], torch.tensor(2.0))
    assert not torch.equal(masks, hashed_dropout_keep(keys, step=5, layer=1, shape=(50, 20), p=0.5))


def test_device_batches_equal_pyg_batches(hu2020_chain) -> None:
    graphs = [hu2020_chain(3 + i % 4, seed=i) for i in range(11)]
    labels = torch.arange(11.0).view(11, 1)
    data = DeviceGraphs(graphs, labels)
    order = np.array([4, 0, 9, 2, 2, 10, 7])
    plan = data.plan(order, batch_size=3)
    assert len(plan) == 3
    for i, batch in enumerate(plan):
        ids = order[3 * i:3 * i + 3]
        expected = _batch(graphs, labels, ids)
        assert torch.equal(batch.x, expected.x)
        assert torch.equal(batch.edge_index, expected.edge_index)
        assert torch.equal(batch.edge_attr, expected.edge_attr)
        assert torch.equal(batch.batch, expected.batch)
        assert batch.num_graphs == len(ids)
        assert torch.equal(batch.y, expected.y)


def test_pack_refuses_mixed_architectures_and_out_of_vocabulary_inputs(hu2020_chain) -> None:
    graphs, labels, splits = _dataset("binary", molecules=True)
    data = DeviceGraphs(graphs, labels)
    with pytest.raises(ValueError, match="share one architecture; member 1 has arch='gcn'"):
        train_pack(
            [PackMember(_encoder("gin", True, 0).float()), PackMember(_encoder("gcn", True, 0).float())],
            data,
            splits,
            TASKS["binary"],
            epochs=1,
        )
    bad = [hu2020_chain(4, seed=0) for _ in range(30)]
    bad[5].x[0, 0] = 200
    with pytest.raises(
        ValueError, match="node feature column 0 holds indices 0..200, outside the encoder's vocabulary 0..119"
    ):
        train_pack(
            [PackMember(_encoder("gin", True, 0).float())], DeviceGraphs(bad, labels), splits, TASKS["binary"], epochs=1
        )


def test_node_level_member_equals_the_classic_node_loop(float_graph) -> None:
    from tests.training.node_loop import NodeLevelEncoder, node_batch_to, node_split_loaders

    graph = float_graph(40, seed=3, node_dim=4, edge_dim=2)
    graph.y = torch.arange(40) % 3
    masks = {name: torch.zeros(40, dtype=torch.bool) for name in ("train_mask", "val_mask", "test_mask")}
    masks["train_mask"][:20], masks["val_mask"][20:30], masks["test_mask"][30:] = True, True, True
    for name, mask in masks.items():
        setattr(graph, name, mask)
    task = TaskSpec("multiclass", 3)
    with float64():
        encoder = _encoder("gcn", False, seed=4)
        graph.x = graph.x.double()
        graph.edge_attr = graph.edge_attr.double()
        reference = finetune(
            NodeLevelEncoder(encoder),
            *node_split_loaders(graph),
            task=task,
            epochs=3,
            patience=10,
            lr=0.02,
            seed=2,
            device="cpu",
            batch_to=node_batch_to,
        )
        data = DeviceGraphs([graph], torch.zeros(1, 1), float_dtype=torch.float64)
        splits = {"train": np.arange(20), "valid": np.arange(20, 30), "test": np.arange(30, 40)}
        (packed,) = train_pack([PackMember(encoder, seed=2, lr=0.02)], data, splits, task, epochs=3, level="node",
                               node_labels=graph.y, dtype=torch.float64)
    assert packed.valid_metric == pytest.approx(reference.valid_metric, abs=TOL)
    assert packed.test_metric == pytest.approx(reference.test_metric, abs=TOL)
    for ours, theirs in zip(packed.history, reference.history):
        assert ours["train_loss"] == pytest.approx(theirs["train_loss"], rel=TOL)


def test_a_pack_of_linear_probes_trains_only_heads() -> None:
    task = TASKS["multiclass"]
    graphs, labels, splits = _dataset("multiclass", molecules=True)
    with float64():
        members = [PackMember(_encoder("gin", True, seed=s), seed=s, lr=0.05, mode="linear") for s in (1, 2)]
        together = _pack(members, graphs, labels, splits, task)
        alone = [_pack([m], graphs, labels, splits, task)[0] for m in members]
    for member, ours, theirs in zip(members, together, alone):
        assert ours.test_metric == pytest.approx(theirs.test_metric, abs=TOL)
        assert _relative_gap(ours.model.state_dict(), theirs.model.state_dict()) < TOL
        assert _relative_gap(ours.model.encoder.state_dict(), member.encoder.state_dict()) == 0.0
        assert ours.history[-1]["train_loss"] < ours.history[0]["train_loss"]  # the heads did learn
