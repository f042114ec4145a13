"""Fine-tuning: OGB metric conventions, learning an easy task, determinism, early stopping, modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader as TorchLoader
from torch.utils.data import TensorDataset
from torch_geometric.data import Data
from torch_geometric.loader import DataLoader

from gtransfer.models import GCN, GIN
from gtransfer.training.batching import tensor_batch_to
from gtransfer.training.finetune import TaskSpec, finetune, task_loss
from gtransfer.training.task_metrics import accuracy, rmse, rocauc_multilabel


def test_rocauc_matches_the_ogb_evaluator():
    from ogb.graphproppred import Evaluator

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(60, 12)).astype(float)
    y[rng.random(y.shape) < 0.2] = np.nan
    y[:, 3] = np.where(np.isnan(y[:, 3]), np.nan, 1.0)  # one class only: skipped, as OGB does
    scores = rng.normal(size=y.shape) + np.nan_to_num(y)
    want = Evaluator("ogbg-moltox21").eval({"y_true": y, "y_pred": scores})["rocauc"]
    assert rocauc_multilabel(y, scores) == pytest.approx(want, abs=1e-12)
    with pytest.raises(ValueError, match="both a positive and a negative"):
        rocauc_multilabel(np.ones((5, 1)), np.zeros((5, 1)))


def test_accuracy_and_rmse_reference_values():
    assert accuracy(np.array([0, 1, 2, 1]), np.eye(3)[[0, 1, 1, 1]]) == 0.75
    assert rmse(np.array([1.0, np.nan, 3.0]), np.array([2.0, 5.0, 3.0])) == pytest.approx(np.sqrt(0.5))


def test_multilabel_loss_ignores_missing_labels():
    out = torch.tensor([[2.0, -1.0], [0.5, 0.0]])
    y = torch.tensor([[1.0, float("nan")], [float("nan"), 0.0]])
    want = nn.functional.binary_cross_entropy_with_logits(torch.tensor([2.0, 0.0]), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(task_loss(TaskSpec("multilabel", 2), out, y), want)
    assert task_loss(TaskSpec("multilabel", 2), out, torch.full((2, 2), float("nan"))) is None


def _cycles_vs_paths(n_graphs: int, seed: int) -> list[Data]:
    """Label 1: a cycle; label 0: a path of the same length. Node features are constant."""
    rng = np.random.default_rng(seed)
    graphs = []
    for k in range(n_graphs):
        n, label = int(rng.integers(4, 9)), k % 2
        src = list(range(n - 1)) + ([n - 1] if label else [])
        dst = list(range(1, n)) + ([0] if label else [])
        edge_index = torch.tensor([src + dst, dst + src])
        graphs.append(Data(x=torch.ones(n, 1), edge_index=edge_index, y=torch.tensor([label]), num_nodes=n))
    return graphs


def _loaders(seed=0):
    data = _cycles_vs_paths(96, seed)
    return (DataLoader(data[:64], batch_size=16, shuffle=True), DataLoader(data[64:80], batch_size=16),
            DataLoader(data[80:], batch_size=16))


def test_learns_cycles_vs_paths_and_is_deterministic():
    # the encoder's initial weights come from the global RNG: seeded here, so they do not depend on the tests run
    # before this one (in a full run one such state gave an initialisation that fits the training graphs, loss
    # 2.6e-5, yet scores 0.5 on validation; seeds 0-9 all learn the task)
    torch.manual_seed(0)
    enc = GIN(num_layers=3, hidden_dim=16, node_features=1, edge_features=None, pooling="sum")
    task = TaskSpec("multiclass", 2)
    runs = [finetune(enc, *_loaders(), task=task, epochs=30, lr=1e-2, patience=30, seed=3, device="cpu")
            for _ in range(2)]
    assert runs[0].test_metric == 1.0 and runs[0].valid_metric == 1.0
    assert runs[0].history == runs[1].history  # bit-for-bit on CPU
    assert runs[0].valid_metric == max(h["valid_metric"] for h in runs[0].history)


def test_early_stopping_and_history():
    enc = GCN(num_layers=2, hidden_dim=8, node_features=1, edge_features=None)
    result = finetune(enc, *_loaders(), task=TaskSpec("multiclass", 2), epochs=50, lr=1e-6, patience=2,
                      seed=0, device="cpu")
    assert result.epochs_run == result.best_epoch + 2 < 50
    assert [h["epoch"] for h in result.history] == list(range(1, result.epochs_run + 1))
    assert set(result.to_dict()) >= {"metric", "valid_metric", "test_metric", "best_epoch", "history"}


def test_linear_mode_freezes_the_encoder_and_full_mode_leaves_the_argument_untouched():
    torch.manual_seed(0)
    enc = GIN(num_layers=2, hidden_dim=8, node_features=1, edge_features=None, pooling="sum")
    before = {k: v.clone() for k, v in enc.state_dict().items()}
    lin = finetune(enc, *_loaders(), task=TaskSpec("multiclass", 2), mode="linear", epochs=5, seed=0,
                   device="cpu", return_model=True)
    for key, value in lin.model.encoder.state_dict().items():
        assert torch.equal(value, before[key]), key
    full = finetune(enc, *_loaders(), task=TaskSpec("multiclass", 2), epochs=2, seed=0, device="cpu",
                    return_model=True)
    assert any(not torch.equal(v, before[k]) for k, v in full.model.encoder.state_dict().items())
    for key, value in enc.state_dict().items():
        assert torch.equal(value, before[key]), key


class _TinyImageEncoder(nn.Module):
    embedding_dim = 4

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(2 * 3 * 3, 4), nn.ReLU())

    def embed(self, x):
        return self.net(x)


def test_same_loop_trains_an_image_encoder_on_tensor_batches():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(120) % 3
    x = torch.randn(120, 2, 3, 3, generator=g) * 0.1 + y.view(-1, 1, 1, 1).float()
    loaders = [TorchLoader(TensorDataset(x[a:b], y[a:b]), batch_size=20, shuffle=(a == 0))
               for a, b in ((0, 80), (80, 100), (100, 120))]
    result = finetune(_TinyImageEncoder(), *loaders, task=TaskSpec("multiclass", 3), epochs=40, lr=1e-2,
                      patience=40, seed=0, device="cpu", batch_to=tensor_batch_to)
    assert result.test_metric == 1.0


@pytest.mark.parametrize("kwargs,match", [({"mode": "partial"}, "mode"), ({"epochs": 0}, "epochs"),
                                          ({"lr": -1.0}, "lr")])
def test_bad_arguments(kwargs, match):
    enc = GCN(num_layers=1, hidden_dim=4, node_features=1, edge_features=None)
    with pytest.raises(ValueError, match=match):
        finetune(enc, *_loaders(), task=TaskSpec("multiclass", 2), **kwargs)
    with pytest.raises(ValueError, match="kind"):
        TaskSpec("ranking", 2)
