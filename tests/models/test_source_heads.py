"""Source heads: theta as NCE/LEEP define it, checked against the textbook forms by enumeration."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from gtransfer.io.checkpoints import save_checkpoint
from gtransfer.models.source_heads import SourceHead, read_source_head


def _head(kind: str, k: int, d: int = 4, seed: int = 0, **extra) -> SourceHead:
    rng = np.random.default_rng(seed)
    return SourceHead(
        rng.normal(size=(k, d)), rng.normal(size=k), kind, tuple(f"l{i}" for i in range(k)), "task", **extra
    )


def test_multiclass_head_gives_the_softmax_of_its_logits():
    head = _head("multiclass", 5)
    x = np.random.default_rng(1).normal(size=(7, 4))
    logits = x @ head.weight.T + head.bias
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(head.probabilities(x), expected, rtol=1e-12)
    assert head.num_source_labels == 5


def test_binary_head_gives_one_minus_p_and_p():
    head = _head("multilabel", 1)
    x = np.random.default_rng(2).normal(size=(6, 4))
    p = 1 / (1 + np.exp(-(x @ head.weight.T + head.bias)[:, 0]))
    np.testing.assert_allclose(head.probabilities(x), np.stack([1 - p, p], 1), rtol=1e-12)


def test_multitask_head_is_the_independent_joint_restricted_to_at_most_one_positive():
    # brute force over the 2^T outcomes of T independent sigmoids, keeping "none" and "only task t"
    head = _head("multilabel", 4, seed=3)
    x = np.random.default_rng(4).normal(size=(5, 4)) * 2
    p = 1 / (1 + np.exp(-(x @ head.weight.T + head.bias)))
    expected = np.zeros((5, 5))
    for outcome in itertools.product((0, 1), repeat=4):
        if sum(outcome) > 1:
            continue
        column = 0 if sum(outcome) == 0 else 1 + outcome.index(1)
        expected[:, column] = np.prod(np.where(np.array(outcome) == 1, p, 1 - p), axis=1)
    expected /= expected.sum(1, keepdims=True)
    np.testing.assert_allclose(head.probabilities(x), expected, rtol=1e-10)
    assert head.num_source_labels == 5


def test_inputs_the_source_model_was_not_trained_on_are_refused():
    molecule = _head("multilabel", 2, input={"kind": "molecule", "featurizer": "hu2020"}, origin="tox.pt")
    molecule.check_input("ogbg-molbace", "hu2020")
    with pytest.raises(
        ValueError, match="tox.pt: the source model reads hu2020 molecule features; target ogbg-molbace gives 'ogb'"
    ):
        molecule.check_input("ogbg-molbace", "ogb")
    graphs = _head("multiclass", 3, input={"kind": "float", "dataset": "ENZYMES", "node_features": 21}, origin="enz.pt")
    graphs.check_input("ENZYMES", 21)
    with pytest.raises(
        ValueError, match=r"enz.pt: the source model reads ENZYMES graphs \(21 float node features\); target PROTEINS"
    ):
        graphs.check_input("PROTEINS", 21)
    with pytest.raises(ValueError, match=r"reads \(4,\)-wide embeddings"):
        graphs.probabilities(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="at least 2 classes"):
        _head("multiclass", 1)


def test_heads_are_read_from_checkpoints_and_their_absence_is_none(tmp_path):
    weight, bias = torch.randn(3, 4), torch.randn(3)
    section = {
        "kind": "multiclass",
        "labels": ["a", "b", "c"],
        "task": "ENZYMES",
        "input": {"kind": "float", "dataset": "ENZYMES", "node_features": 21},
    }
    save_checkpoint(
        tmp_path / "src.pt",
        {"w": torch.zeros(1), "source_head.weight": weight, "source_head.bias": bias},
        {"source_head": section},
    )
    head = read_source_head(tmp_path / "src.pt")
    np.testing.assert_array_equal(head.weight, weight.double().numpy())
    assert (
        head.labels == ("a", "b", "c")
        and head.origin == "src.pt"
        and head.describe().startswith("source head: src.pt (trained on ENZYMES")
    )
    save_checkpoint(tmp_path / "plain.pt", {"w": torch.zeros(1)}, {})
    assert read_source_head(tmp_path / "plain.pt") is None
    save_checkpoint(tmp_path / "broken.pt", {"w": torch.zeros(1)}, {"source_head": section})
    with pytest.raises(ValueError, match="no source_head.weight/bias tensors"):
        read_source_head(tmp_path / "broken.pt")


def test_both_zoos_write_one_format_that_reads_back_exactly(tmp_path):
    from gtransfer.models.source_heads import source_head_entries

    weight, bias = torch.randn(3, 4, dtype=torch.float32), torch.randn(3, dtype=torch.float32)
    image_input = {"kind": "image", "input_shape": [1, 8, 8]}
    state, section = source_head_entries(weight, bias, kind="multiclass", labels=("a", "b", "c"), task="digits",
                                         input=image_input)
    assert sorted(state) == ["source_head.bias", "source_head.weight"]
    assert section == {"kind": "multiclass", "labels": ["a", "b", "c"], "task": "digits", "input": image_input}
    save_checkpoint(tmp_path / "img.pt", {"encoder.w": torch.zeros(1), **state}, {"source_head": section})
    head = read_source_head(tmp_path / "img.pt")
    x = np.random.default_rng(5).normal(size=(6, 4))
    logits = x @ weight.double().numpy().T + bias.double().numpy()
    np.testing.assert_allclose(head.probabilities(x), np.exp(logits) / np.exp(logits).sum(1, keepdims=True), rtol=1e-12)
    with pytest.raises(ValueError, match=r"reads images of shape \[1, 8, 8\]; graph target MUTAG cannot be scored"):
        head.check_input("MUTAG", 7)
    with pytest.raises(ValueError, match="kind must be one of"):
        source_head_entries(weight, bias, kind="softmax", labels=("a", "b", "c"), task="digits", input=image_input)
    with pytest.raises(ValueError, match="does not match its 2 labels"):
        source_head_entries(weight, bias, kind="multiclass", labels=("a", "b"), task="digits", input=image_input)


def test_a_first_layout_vision_checkpoint_is_migrated_on_read_to_the_same_theta(tmp_path):
    """``gtransfer-vision-source/1`` kept the head as ``head.*`` and its classes in ``source_class_names``."""
    weight, bias = torch.randn(4, 6), torch.randn(4)
    metadata = {"format": "gtransfer-vision-source/1", "source_class_names": ["cat", "dog", "frog", "horse"],
                "source_task": {"name": "source:animals"}, "input_shape": [3, 32, 32]}
    old_state = {"encoder.w": torch.zeros(1), "head.weight": weight, "head.bias": bias}
    save_checkpoint(tmp_path / "old.pt", old_state, metadata)
    head = read_source_head(tmp_path / "old.pt")
    assert (head.kind, head.labels, head.task) == ("multiclass", ("cat", "dog", "frog", "horse"), "source:animals")
    assert head.input == {"kind": "image", "input_shape": [3, 32, 32]} and head.num_source_labels == 4
    x = np.random.default_rng(6).normal(size=(9, 6))
    with torch.no_grad():  # the first layout's own definition: softmax of its nn.Linear head, here in float64
        linear = torch.nn.Linear(6, 4).double()
        linear.weight.copy_(weight.double())
        linear.bias.copy_(bias.double())
        expected = torch.softmax(linear(torch.from_numpy(x)), dim=1).numpy()
    np.testing.assert_allclose(head.probabilities(x), expected, rtol=1e-12, atol=1e-15)
    save_checkpoint(tmp_path / "headless.pt", {"encoder.w": torch.zeros(1)}, metadata)
    with pytest.raises(ValueError, match="headless.pt: metadata describes a source head but .* no head.weight/bias"):
        read_source_head(tmp_path / "headless.pt")


def test_the_shipped_gtransfer_checkpoint_still_loads_and_has_no_source_head():
    from pathlib import Path

    from gtransfer.models.loading import load_encoder

    shipped = Path(__file__).resolve().parents[2] / "datasets" / "checkpoints"
    path = shipped / "gtransfer" / "gin3x128_contextpred_moses.pt"
    assert read_source_head(path) is None
    assert load_encoder(path).embedding_dim == 128
