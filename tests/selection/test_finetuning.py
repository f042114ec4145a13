"""selection/finetuning.py: the fine-tuning service behind gtransfer finetune, the graph_finetune kind, the scripts."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

import pytest
import torch
from torch import nn

from gtransfer.selection import finetuning
from gtransfer.selection.finetuning import FinetuneMember, FinetuneSetup, finetune_inputs, finetune_pack

ENCODER = "random:gin:layers=2,dim=16,seed=0"


class NotAGNNEncoder(nn.Module):
    """A GNN encoder behind a module that is not a ``GNNEncoder``: what a DGL encoder is to the pack."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner, self.embedding_dim, self.featurizer = inner, inner.embedding_dim, inner.featurizer

    def embed(self, *args, **kwargs) -> torch.Tensor:
        return self.inner.embed(*args, **kwargs)


def test_a_pack_member_equals_the_graph_finetune_trial():
    from gtransfer.studies.kinds.graph_finetune import graph_finetune_trial

    setup = FinetuneSetup(target="MUTAG", epochs=2, batch_size=32)
    (result,) = finetune_pack(setup, [FinetuneMember(ENCODER, seed=1, lr=3e-3)])
    assert result == graph_finetune_trial({"encoder": ENCODER, "target": "MUTAG", "seed": 1, "lr": 3e-3, "epochs": 2,
                                           "batch_size": 32})
    assert result["epochs_run"] == 2 and len(result["train_loss"]) == 2


def test_a_member_that_cannot_resolve_fails_alone_and_a_bad_dtype_fails_first():
    setup = FinetuneSetup(target="MUTAG", epochs=1, batch_size=32)
    bad, good = finetune_pack(setup, [FinetuneMember("random:nope"), FinetuneMember(ENCODER)])
    assert isinstance(bad, ValueError) and "nope" in str(bad)
    assert isinstance(good, dict) and good["epochs_run"] == 1
    with pytest.raises(ValueError, match="dtype must be one of"):
        finetune_pack(replace(setup, dtype="float16"), [FinetuneMember(ENCODER)])


def test_a_non_gnn_encoder_trains_in_the_one_model_loop_reading_each_file_once(monkeypatch):
    """The fallback reuses the encoder and the target the pack loaded (once each), and trains exactly as the
    one-model loop on freshly loaded inputs does."""
    from gtransfer.embeddings import targets
    from gtransfer.models.specs import EncoderSpec
    from gtransfer.training.finetune import finetune
    from gtransfer.training.task_metrics import metric_of_target

    counts = {"load": 0, "target": 0}
    load, target_for_encoder = EncoderSpec.load, targets.target_for_encoder

    def counted_load(self, *, node_features="hu2020"):
        counts["load"] += 1
        return NotAGNNEncoder(load(self, node_features=node_features))

    def counted_target(*args, **kwargs):
        counts["target"] += 1
        return target_for_encoder(*args, **kwargs)

    monkeypatch.setattr(finetuning, "_COLLATED", OrderedDict())  # no target kept from another test
    monkeypatch.setattr(EncoderSpec, "load", counted_load)
    monkeypatch.setattr(targets, "target_for_encoder", counted_target)
    setup = FinetuneSetup(target="MUTAG", epochs=2, batch_size=32, max_samples=120, sample_seed=2)
    (result,) = finetune_pack(setup, [FinetuneMember(ENCODER, seed=1, patience=3)])
    assert counts == {"load": 1, "target": 1}
    monkeypatch.undo()

    encoder, loaders, task, target = finetune_inputs(ENCODER, "MUTAG", batch_size=32, seed=1, max_samples=120,
                                                     sample_seed=2)
    task = replace(task, metric_name=metric_of_target(target))
    expected = finetune(NotAGNNEncoder(encoder), loaders["train"], loaders["valid"], loaders["test"], task=task,
                        epochs=2, lr=1e-3, patience=3, seed=1, device="cpu")
    assert result["test_metric"] == float(expected.test_metric)  # the same computation: exactly equal
    assert result["train_loss"] == [round(float(h["train_loss"]), 6) for h in expected.history]
