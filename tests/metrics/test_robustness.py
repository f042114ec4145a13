"""Inputs that once gave silent wrong answers, crashed or exhausted memory (issue 15, items 2, 10, 11).

Each test here failed before its fix (checked by reverting the fix) and names the case it guards.
"""

import math
import tracemalloc

import numpy as np
import pytest
import torch

from gtransfer import metrics
from tests.metrics.test_properties import make_task

STATS_METRICS = ["h_score", "shrinkage_h_score", "logme", "gbc", "transrate"]


def large_mean_column_task(n: int = 2000, d: int = 256, mean: float = 1000.0, seed: int = 0):
    """The issue's case (defaults): n = 2000, d = 256, column 0 = 1000 + 1e-5 (noise + 2y)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 4
    features = rng.standard_normal((n, d)) + 0.5 * np.eye(d)[labels]
    features[:, 0] = mean + 1e-5 * (rng.standard_normal(n) + 2.0 * labels)
    return features, labels


def test_h_score_centres_a_column_with_a_large_mean_and_a_tiny_spread():
    features, labels = large_mean_column_task()
    centred = features - features.mean(0)
    expected = metrics.h_score(centred, labels)
    assert metrics.h_score(features, labels) == pytest.approx(expected, rel=1e-9)
    # score_all gives the same whichever other metrics share the pass
    assert metrics.score_all(features, labels, metrics=["h_score"])["h_score"] == pytest.approx(expected, rel=1e-9)
    assert metrics.score_all(features, labels, metrics=["h_score", "transrate"])["h_score"] == pytest.approx(
        expected, rel=1e-9
    )
    assert metrics.shrinkage_h_score(features, labels) == pytest.approx(
        metrics.shrinkage_h_score(centred, labels), rel=1e-9
    )


def test_wide_features_with_a_large_mean_column_are_centred_too():
    """n < d: the raw kernel is centred as an n x n matrix only while the mean is moderate."""
    features, labels = large_mean_column_task(n=200, d=400, mean=1e4, seed=1)
    centred = features - features.mean(0)
    for name in ["shrinkage_h_score", "h_score"]:
        assert metrics.METRICS[name](features, labels) == pytest.approx(
            metrics.METRICS[name](centred, labels), rel=1e-9
        )


SCALES = [2.0**-1000, 1e-170, 1e-100, 1e100, 1e155, 2.0**1000]


@pytest.mark.parametrize("scale", SCALES, ids=[f"{s:.0e}" for s in SCALES])
def test_scale_invariant_metrics_do_not_change_at_extreme_scales(scale):
    features, labels = make_task(300, 12, 3, seed=12)
    for name in ["h_score", "shrinkage_h_score"]:
        assert metrics.METRICS[name](features * scale, labels) == pytest.approx(
            metrics.METRICS[name](features, labels), rel=1e-9
        )
    # LogME: the maximised evidence is scale-invariant; its fixed point to about its tolerance
    assert metrics.logme(features * scale, labels) == pytest.approx(metrics.logme(features, labels), rel=1e-3)
    # GBC's variance floor is far below these features' variances at any of these scales but the
    # smallest: the value is the unscaled one, or (floor dominating) exactly -C(C-1)
    expected_gbc = -6.0 if scale < 1e-3 else metrics.gbc(features, labels)
    assert metrics.gbc(features * scale, labels) == pytest.approx(expected_gbc, rel=1e-9)


def test_logme_rescales_exactly_by_powers_of_two():
    features, labels = make_task(300, 12, 3, seed=13)
    assert metrics.logme(features * 2.0**300, labels) == metrics.logme(features * 2.0**-300, labels)


def coding_rate(rows, exponent, epsilon=1e-4):
    """1/2 logdet(I + s^2 Z^T Z / (n_Z eps)), s = 2**exponent, from the eigenvalues of the unscaled
    Z Z^T: sum_i log(1 + e^{log lambda_i + log(s^2 / (n_Z eps))}), finite at any s."""
    values = np.linalg.eigvalsh(rows @ rows.T)
    values = values[values > values.max() * len(values) * np.finfo(float).eps]
    shift = 2 * exponent * math.log(2.0) - math.log(len(rows) * epsilon)
    return 0.5 * float(np.logaddexp(0.0, np.log(values) + shift).sum())


def textbook_transrate(features, labels, exponent):
    centred = features - features.mean(0)
    classes = range(labels.max() + 1)
    return coding_rate(centred, exponent) - np.mean([coding_rate(centred[labels == c], exponent) for c in classes])


@pytest.mark.parametrize("n, d", [(300, 12), (40, 90)])
@pytest.mark.parametrize("exponent", [-1000, -520, 0, 520, 1000])
def test_transrate_is_the_formula_at_the_inputs_own_scale(n, d, exponent):
    """TransRate depends on scale (through epsilon): at 2**+-520 its Gram overflowed (NaN) before."""
    features, labels = make_task(n, d, 3, seed=14)
    value = metrics.transrate(features * 2.0**exponent, labels)
    assert value == pytest.approx(textbook_transrate(features, labels, exponent), rel=1e-8, abs=1e-12)


def test_all_zero_features_give_finite_no_information_values():
    labels = np.arange(30) % 3
    zeros = np.zeros((30, 4))
    values = {name: metrics.METRICS[name](zeros, labels) for name in STATS_METRICS}
    assert all(math.isfinite(v) for v in values.values()), values
    assert values["h_score"] == 0.0 and values["shrinkage_h_score"] == 0.0 and values["transrate"] == 0.0
    assert values["gbc"] == -6.0  # identical (floored) Gaussians
    # LogME's supremum, alpha -> infinity: 1/2 log(n / n_c) - 1/2 - 1/2 log(2 pi), here n / n_c = 3
    assert values["logme"] == pytest.approx(0.5 * math.log(3.0) - 0.5 - 0.5 * math.log(2 * math.pi), rel=1e-14)


def test_nleep_refuses_a_mixture_with_a_component_per_sample():
    rng = np.random.default_rng(0)
    labels = np.arange(20) % 4  # n = 5 x classes = the number of components
    with pytest.raises(ValueError, match=r"biased up by about .* noise scores a perfect 0.*use at least 83 samples"):
        metrics.nleep(rng.standard_normal((20, 8)), labels)


def test_nleep_on_noise_stays_near_minus_the_label_entropy_where_accepted():
    rng = np.random.default_rng(1)
    labels = np.arange(400) % 4
    value = metrics.nleep(rng.standard_normal((400, 8)), labels)
    bias = 3 * 19 / (2 * 400)  # (C-1)(Z-1)/(2n)
    assert -math.log(4) <= value <= -math.log(4) + 2 * bias


def test_transrate_holds_one_class_gram_at_a_time():
    """20 classes of 250 rows in d = 200: one d x d class Gram is 0.32 MB, twenty are 6.4 MB."""
    features, labels = make_task(5000, 200, 20, seed=16)
    metrics.transrate(features, labels)  # warm up imports and caches
    tracemalloc.start()
    metrics.transrate(features, labels)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 3e6, f"peak {peak / 1e6:.1f} MB"


def test_nce_does_not_allocate_by_the_largest_source_id():
    labels = np.arange(1000) % 2
    compact = np.arange(1000) % 7
    sparse_ids = compact * 10**7  # ids up to 6e7: a table by id would take 2 x 6e7 x 8 bytes
    tracemalloc.start()
    value = metrics.nce(sparse_ids, labels)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert value == pytest.approx(metrics.nce(compact, labels), rel=1e-15)
    assert peak < 1e6, f"peak {peak / 1e6:.1f} MB"


@pytest.mark.parametrize("name", STATS_METRICS + ["knn_accuracy"])
def test_tensors_that_require_grad_are_scored(name):
    features, labels = make_task(200, 10, 3, seed=17)
    tensor = torch.tensor(features, requires_grad=True)
    assert metrics.METRICS[name](tensor, torch.from_numpy(labels)) == pytest.approx(
        metrics.METRICS[name](features, labels), rel=1e-9
    )


def test_masked_arrays_use_their_data_or_are_refused():
    features, labels = make_task(200, 10, 3, seed=18)
    unmasked = np.ma.masked_array(features, mask=np.zeros_like(features, dtype=bool))
    assert metrics.h_score(unmasked, labels) == pytest.approx(metrics.h_score(features, labels), rel=1e-12)
    masked = np.ma.masked_array(features, mask=np.zeros_like(features, dtype=bool))
    masked[[3, 7], 1] = np.ma.masked
    for name in STATS_METRICS:
        with pytest.raises(
            ValueError,
            match=r"masked array with 2 masked entries in 2 rows \(first rows: \[3, 7\]\).*np.ma.compress_rows",
        ):
            metrics.METRICS[name](masked, labels)
    masked_labels = np.ma.masked_array(labels, mask=labels == 2)
    with pytest.raises(ValueError, match="masked entries"):
        metrics.h_score(features, masked_labels)


def test_float32_softmax_over_many_classes_and_float16_probabilities_are_accepted():
    rng = np.random.default_rng(2)
    labels = np.arange(300) % 3
    logits = torch.from_numpy(rng.standard_normal((300, 10_000)) * 5)
    probs32 = torch.softmax(logits.float(), 1)
    assert float((probs32.double().sum(1) - 1).abs().max()) > 1e-6  # the old fixed tolerance refused these
    expected = metrics.leep(torch.softmax(logits, 1).numpy(), labels)
    assert metrics.leep(probs32, labels) == pytest.approx(expected, rel=1e-4)
    probs16 = torch.softmax(logits[:, :10].float(), 1).half()
    assert float((probs16.double().sum(1) - 1).abs().max()) > 1e-4
    assert math.isfinite(metrics.leep(probs16.numpy(), labels))
    with pytest.raises(ValueError, match="rows must sum to 1"):  # still refused: unnormalised rows
        metrics.leep((probs16 * 1.01).numpy(), labels)


def test_a_huge_label_gets_a_clear_error_not_a_memory_error():
    features, labels = make_task(50, 4, 2, seed=19)
    labels = labels.astype(np.int64)
    labels[0] = 10**12
    for name in ["h_score", "logme", "nleep"]:
        with pytest.raises(
            ValueError,
            match=r"labels must be 0..C-1 .* below the number of samples \(50\); got a label of 1000000000000",
        ):
            metrics.METRICS[name](features, labels)
