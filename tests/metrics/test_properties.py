"""Invariants every implementation must satisfy, on synthetic data of several shapes."""

import numpy as np
import pytest
import torch

from gtransfer import metrics
from gtransfer.metrics import _statistics
from gtransfer.metrics._backend import TorchBackend
from gtransfer.metrics._validation import CheckedFeatures, check_features
from gtransfer.metrics.textbook import textbook_h_score, textbook_shrinkage_h_score

STATS_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate"]


def make_task(n, d, num_classes, seed=0, separation=1.0, offset=3.0):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % num_classes)
    means = rng.standard_normal((num_classes, d)) * separation
    mixing = rng.standard_normal((d, d)) / np.sqrt(d)
    features = (means[labels] + rng.standard_normal((n, d))) @ mixing + offset * rng.standard_normal(d)
    return features, labels


SHAPES = [(400, 24, 3), (60, 150, 4), (1000, 8, 5)]  # primal, dual (n < d), many samples per dim


@pytest.mark.parametrize("n, d, c", SHAPES)
def test_h_scores_match_the_textbook_formulas(n, d, c):
    features, labels = make_task(n, d, c)
    assert metrics.h_score(features, labels) == pytest.approx(textbook_h_score(features, labels), rel=1e-8)
    assert metrics.shrinkage_h_score(features, labels) == pytest.approx(
        textbook_shrinkage_h_score(features, labels), rel=1e-10
    )


@pytest.mark.parametrize("n, d, c", SHAPES)
@pytest.mark.parametrize("name", STATS_METRICS)
def test_row_order_does_not_matter(n, d, c, name):
    features, labels = make_task(n, d, c, seed=1)
    order = np.random.default_rng(5).permutation(n)
    before = metrics.METRICS[name](features, labels)
    after = metrics.METRICS[name](features[order], labels[order])
    assert after == pytest.approx(before, rel=1e-9)


@pytest.mark.parametrize("n, d, c", SHAPES)
@pytest.mark.parametrize("name", STATS_METRICS)
def test_torch_and_numpy_agree_in_float64(n, d, c, name):
    features, labels = make_task(n, d, c, seed=2)
    value_numpy = metrics.METRICS[name](features, labels)
    value_torch = metrics.METRICS[name](torch.from_numpy(features), torch.from_numpy(labels))
    assert value_torch == pytest.approx(value_numpy, rel=1e-9)


def test_float32_input_is_scored_in_float64():
    features, labels = make_task(300, 16, 3, seed=3)
    single = features.astype(np.float32)
    exact = metrics.shrinkage_h_score(single.astype(np.float64), labels)
    assert metrics.shrinkage_h_score(single, labels) == pytest.approx(exact, rel=1e-12)
    assert metrics.shrinkage_h_score(torch.from_numpy(single), torch.from_numpy(labels)) == pytest.approx(
        exact, rel=1e-12
    )


def test_h_score_is_invariant_to_invertible_affine_maps():
    features, labels = make_task(500, 10, 4, seed=4)
    rng = np.random.default_rng(0)
    transformed = features @ rng.standard_normal((10, 10)) + 7.0
    assert metrics.h_score(transformed, labels) == pytest.approx(metrics.h_score(features, labels), rel=1e-8)


def test_shrinkage_limits():
    features, labels = make_task(300, 20, 3, seed=5)
    n = features.shape[0]
    # alpha = 0 is the H-score with the reference's 1/(n-1) between-class normaliser
    assert metrics.shrinkage_h_score(features, labels, shrinkage=0.0) == pytest.approx(
        n / (n - 1) * metrics.h_score(features, labels), rel=1e-10
    )
    assert metrics.shrinkage_h_score(features, labels, shrinkage=1.0) == 0.0
    alpha = metrics.ledoit_wolf_shrinkage(features)
    assert 0.0 < alpha < 1.0
    assert metrics.shrinkage_h_score(features, labels) == pytest.approx(
        metrics.shrinkage_h_score(features, labels, shrinkage=alpha), rel=1e-14
    )


@pytest.mark.parametrize("name", STATS_METRICS)
def test_informative_features_beat_noise(name):
    rng = np.random.default_rng(6)
    labels = np.arange(600) % 3
    informative = np.eye(12)[labels] * 3.0 + rng.standard_normal((600, 12))
    noise = rng.standard_normal((600, 12))
    assert metrics.METRICS[name](informative, labels) > metrics.METRICS[name](noise, labels)


def test_bounds_of_h_score_and_gbc():
    features, labels = make_task(300, 12, 4, seed=7, separation=2.0)
    assert 0.0 <= metrics.h_score(features, labels) <= 3.0
    value = metrics.gbc(features, labels)
    assert -4 * 3 <= value <= 0.0
    # identical class distributions: every coefficient is 1, GBC = -C(C-1)
    same = np.tile(np.random.default_rng(0).standard_normal((50, 5)), (2, 1))
    assert metrics.gbc(same, np.repeat([0, 1], 50)) == pytest.approx(-2.0, rel=1e-12)


def test_nce_and_leep_of_uninformative_and_perfect_sources():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    entropy = metrics.label_entropy(labels)
    p = np.array([0.5, 0.3, 0.2])
    assert entropy == pytest.approx(-(p * np.log(p)).sum(), rel=1e-14)
    constant = np.zeros(labels.size, dtype=int)
    assert metrics.nce(constant, labels) == pytest.approx(-entropy, rel=1e-14)
    assert metrics.normalized_nce(constant, labels) == pytest.approx(0.0, abs=1e-14)
    assert metrics.nce_gain(constant, labels) == pytest.approx(0.0, abs=1e-14)
    assert metrics.nce(labels, labels) == pytest.approx(0.0, abs=1e-14)
    assert metrics.normalized_nce(labels, labels) == pytest.approx(1.0, rel=1e-14)
    uniform = np.full((labels.size, 4), 0.25)
    assert metrics.leep(uniform, labels) == pytest.approx(-entropy, rel=1e-13)
    assert metrics.normalized_leep(uniform, labels) == pytest.approx(0.0, abs=1e-13)
    assert metrics.leep_gain(uniform, labels) == pytest.approx(0.0, abs=1e-13)
    assert metrics.leep(np.eye(3)[labels], labels) == pytest.approx(0.0, abs=1e-14)
    # LEEP is bounded below by log(1/C)... for an uninformative source it is -H(Y) >= log(1/C)
    assert metrics.leep(uniform, labels) >= np.log(1 / 3)


def test_score_all_equals_the_individual_metrics_and_makes_one_pass(monkeypatch):
    features, labels = make_task(500, 32, 5, seed=8)
    probs = np.random.default_rng(1).dirichlet(np.ones(7), size=500)
    calls = []
    original = _statistics.compute_statistics

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr("gtransfer.metrics.registry.compute_statistics", counting)
    names = STATS_METRICS + ["nce", "leep", "nce_normalized", "leep_normalized"]
    scores = metrics.score_all(features, labels, source_probs=probs, metrics=names)
    assert len(calls) == 1
    for name in STATS_METRICS:
        assert scores[name] == pytest.approx(metrics.METRICS[name](features, labels), rel=1e-12)
    assert scores["nce"] == pytest.approx(metrics.nce(probs.argmax(1), labels), rel=1e-14)
    assert scores["leep_normalized"] == pytest.approx(metrics.normalized_leep(probs, labels), rel=1e-14)
    assert scores["label_entropy"] == pytest.approx(metrics.label_entropy(labels), rel=1e-14)
    assert list(scores)[: len(names)] == names


@pytest.mark.parametrize("n, d", [(3000, 400), (300, 700)])
def test_statistics_blocks_give_the_same_answer_as_one_block(n, d):
    """Row blocks (n >= d) and column blocks (n < d) of any size, numpy or torch, streamed from the
    host or not, give the statistics of one block; blocks of 64 rows (or columns) force many."""
    features, labels = make_task(n, d, 6, seed=9)
    labels[: n // 2] = 0  # one class larger than d (when n >= d), five smaller: both class-gram paths
    labels[n // 2 :] = 1 + np.arange(n - n // 2) % 5
    one = _statistics.compute_statistics(check_features(features), labels, _statistics.STATISTICS, block_bytes=10**9)
    streamed = check_features(features)  # numpy features, torch backend: blocks are sent to the "device"
    streamed = CheckedFeatures(features, TorchBackend(torch.device("cpu")), torch.from_numpy(streamed.column_sums), 0)
    for checked in [check_features(features), check_features(torch.from_numpy(features)), streamed]:
        row_bytes = 8 * (d if n >= d else n)
        many = _statistics.compute_statistics(checked, labels, _statistics.STATISTICS, block_bytes=row_bytes * 64)
        for name in ["gram", "class_sums", "row_sq_norms", "class_sq_sums", "class_coding_rates", "mean_projection"]:
            expected, got = getattr(one, name), getattr(many, name)
            if expected is None:
                assert got is None
                continue
            np.testing.assert_allclose(
                np.asarray(got), expected, rtol=1e-10, atol=1e-8 * np.abs(expected).max(), err_msg=name
            )


def test_baselines_separate_informative_from_noise():
    rng = np.random.default_rng(10)
    labels = np.arange(300) % 3
    informative = np.eye(6)[labels] * 4.0 + rng.standard_normal((300, 6))
    noise = rng.standard_normal((300, 6))
    assert metrics.knn_accuracy(informative, labels) > 0.9 > 0.5 > metrics.knn_accuracy(noise, labels)
    assert metrics.linear_probe_accuracy(informative, labels) > 0.9 > 0.5 > metrics.linear_probe_accuracy(noise, labels)


@pytest.mark.parametrize("n, d", [(400, 24), (60, 150)])
@pytest.mark.parametrize("name", ["h_score", "shrinkage_h_score", "logme", "transrate"])
def test_translation_invariance_across_the_uncentred_and_centred_routes(n, d, name):
    """A moderate mean takes the copy-free route (raw Gram, centred afterwards); a huge one (1e4 x
    the spread) the centred copy. Centred metrics must not notice; LogME is not translation
    invariant, so there the raw route is compared with a float32 copy, which always centres."""
    features, labels = make_task(n, d, 3, seed=11)
    features = features - features.mean(0)
    shifted = features + 1e4 * np.abs(features).max()
    if name == "logme":
        exact = metrics.logme(features.astype(np.float32).astype(np.float64), labels)
        assert metrics.logme(features.astype(np.float32), labels) == pytest.approx(exact, rel=1e-9)
        return
    assert metrics.METRICS[name](shifted, labels) == pytest.approx(metrics.METRICS[name](features, labels), rel=1e-7)
