"""class_weight 'balanced' (training/losses.py) against hand computations; balanced accuracy against scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gtransfer.training.losses import balanced_class_weights, member_losses
from gtransfer.training.task_metrics import balanced_accuracy, per_task_scores, rocauc_multilabel


def _bce(logit: float, label: float) -> float:
    p = 1.0 / (1.0 + math.exp(-logit))
    return -(label * math.log(p) + (1 - label) * math.log(1 - p))


def test_balanced_multiclass_weights_and_loss_match_a_hand_computation():
    labels = np.array([0, 0, 0, 1])  # n = 4, C = 2: w_0 = 4 / (2 x 3), w_1 = 4 / (2 x 1)
    assert balanced_class_weights("multiclass", labels) == pytest.approx((2 / 3, 2.0), abs=1e-15)
    logits = torch.tensor([[[2.0, 0.0], [0.5, 0.5], [0.0, 1.0], [1.0, -1.0]]], dtype=torch.float64)  # K = 1, B = 4
    nll = [math.log(math.exp(a) + math.exp(b)) - (a, b)[y] for (a, b), y in zip(logits[0].tolist(), labels)]
    # a batch's weights come from the whole training split, so they need not sum to the batch size: (0.5, 3.0) here
    weights = [0.5, 0.5, 0.5, 3.0]
    expected = sum(w * v for w, v in zip(weights, nll)) / sum(weights)
    weighted = member_losses("multiclass", logits, torch.tensor(labels), class_weights=(0.5, 3.0))
    assert weighted.item() == pytest.approx(expected, abs=1e-12)
    unweighted = member_losses("multiclass", logits, torch.tensor(labels))
    assert unweighted.item() == pytest.approx(sum(nll) / 4, abs=1e-12)
    assert weighted.item() != pytest.approx(unweighted.item(), abs=1e-3)


def test_balanced_multilabel_weights_mask_missing_labels_per_task():
    labels = np.array([[0.0, 1.0], [0.0, np.nan], [1.0, 0.0], [0.0, 0.0]])
    # task 0: 3 negatives, 1 positive of 4 -> (4/6, 4/2); task 1: 2 negatives, 1 positive of 3 -> (3/4, 3/2)
    negative, positive = balanced_class_weights("multilabel", labels)
    assert negative == pytest.approx((4 / 6, 3 / 4)) and positive == pytest.approx((2.0, 1.5))
    logits = torch.tensor([[[0.3, -1.0], [2.0, 5.0], [-0.5, 0.2], [1.0, -2.0]]], dtype=torch.float64)
    negative, positive = (1.0, 0.5), (2.0, 4.0)  # the training split's weights, not this batch's
    total = weight_sum = 0.0
    for i in range(4):
        for t in range(2):
            if np.isnan(labels[i, t]):
                continue
            w = (positive if labels[i, t] == 1 else negative)[t]
            total += w * _bce(float(logits[0, i, t]), labels[i, t])
            weight_sum += w
    loss = member_losses("multilabel", logits, torch.tensor(labels), class_weights=(negative, positive))
    assert loss.item() == pytest.approx(total / weight_sum, abs=1e-12)


def test_class_weights_refuse_regression_and_one_class_tasks():
    with pytest.raises(ValueError, match="regression task has none"):
        balanced_class_weights("regression", np.zeros(3))
    with pytest.raises(ValueError, match=r"tasks \[1\] have one class only"):
        balanced_class_weights("multilabel", np.array([[0.0, 1.0], [1.0, 1.0]]))


def test_balanced_accuracy_matches_scikit_learn():
    from sklearn.metrics import balanced_accuracy_score

    rng = np.random.default_rng(0)
    for classes in (2, 3, 5):
        labels = rng.choice(classes, size=60, p=np.linspace(1, 3, classes) / np.linspace(1, 3, classes).sum())
        logits = rng.normal(size=(60, classes)) + 0.8 * np.eye(classes)[labels]
        expected = balanced_accuracy_score(labels, logits.argmax(axis=1))
        assert balanced_accuracy(labels, logits) == pytest.approx(expected, abs=1e-15)
    majority = np.tile([5.0, 0.0, 0.0], (10, 1))  # always class 0: accuracy 0.8, balanced accuracy 1/3
    assert balanced_accuracy(np.array([0] * 8 + [1, 2]), majority) == pytest.approx(1 / 3)


def test_per_task_scores_average_to_the_ogb_mean():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, size=(40, 3)).astype(float)
    labels[rng.random((40, 3)) < 0.2] = np.nan
    labels[:, 2] = np.where(np.isnan(labels[:, 2]), np.nan, 0.0)  # task 2 has no positive: NaN, left out of the mean
    scores = rng.normal(size=(40, 3))
    per_task = per_task_scores("rocauc", labels, scores)
    valid = ~np.isnan(labels[:, 0])
    assert per_task[0] == pytest.approx(roc_auc_score(labels[valid, 0], scores[valid, 0]), abs=1e-15)
    assert math.isnan(per_task[2])
    assert np.mean(per_task[:2]) == pytest.approx(rocauc_multilabel(labels, scores), abs=1e-15)
