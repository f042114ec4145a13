"""NCTI and ETran, the pool-relative metrics: their properties, the pool API and the CUDA path.

Tolerances: float64 invariances (row order, class names, rotations) hold to rel 1e-9 on the
components (abs 1e-9 on the [0, 2]-ranged pool scores). float32 inputs are scored as their exact
float64 values; against the float64 features they were rounded from (rel 6e-8 per entry), the
components move by rel 1e-5 or less on these well-conditioned tasks, the pool scores by abs 1e-4.
"""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch

from gtransfer import metrics
from gtransfer.metrics import etran, etran_cls, etran_components, etran_energy, ncti, ncti_components
from gtransfer.metrics.pool import TIE_RTOL, combine_components, min_max_normalise

HAS_CUDA = torch.cuda.is_available()
requires_cuda = pytest.mark.skipif(
    not HAS_CUDA, reason="no CUDA GPU visible to torch: the CUDA path is tested on a GPU machine"
)

POOL_METRICS = {"ncti": (ncti, ncti_components), "etran": (etran, etran_components)}
COMPONENTS = {"ncti": ("seli", "ncc", "vc"), "etran": ("energy", "cls")}


def make_pool(n=240, d=16, num_classes=4, seed=0):
    """Perfect features (one-hot + 1e-3 noise), three strengths of class signal in N(0, 1), pure noise."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % num_classes)
    onehot = np.zeros((n, d))
    onehot[np.arange(n), labels] = 1.0
    pool = {"perfect": onehot + 1e-3 * rng.standard_normal((n, d))}
    for strength in (3.0, 1.0, 0.3):
        pool[f"signal{strength}"] = rng.standard_normal((n, d)) + strength * onehot + 2.0
    pool["random"] = rng.standard_normal((n, d))
    return pool, labels


def components_close(got, expected, rel):
    for name in expected:
        assert got[name] == pytest.approx(expected[name], rel=rel, abs=1e-12), name


# --- the pool API -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
def test_the_pool_score_is_the_min_max_combination_of_the_components(name):
    pool_fn, components_fn = POOL_METRICS[name]
    pool, labels = make_pool(seed=1)
    parts = {key: components_fn(x, labels) for key, x in pool.items()}
    weights = {"ncti": {"seli": 1.0, "ncc": 1.0, "vc": -1.0}, "etran": {"energy": 0.15, "cls": 0.85}}[name]
    expected = {key: 0.0 for key in pool}
    for component, weight in weights.items():
        values = np.array([parts[key][component] for key in pool])
        normalised = (values - values.min()) / (values.max() - values.min())
        for key, value in zip(pool, normalised):
            expected[key] += weight * value
    got = pool_fn(pool, labels)
    assert list(got) == list(pool)
    for key in pool:
        assert got[key] == pytest.approx(expected[key], abs=1e-12)
    assert metrics.POOL_METRIC_SPECS[name].combine(parts) == pytest.approx(got, abs=1e-12)


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
def test_permuting_the_pool_permutes_the_scores_and_a_sequence_is_keyed_by_position(name):
    pool_fn, _ = POOL_METRICS[name]
    pool, labels = make_pool(seed=2)
    scores = pool_fn(pool, labels)
    order = ["random", "signal1.0", "perfect", "signal0.3", "signal3.0"]
    permuted = pool_fn({key: pool[key] for key in order}, labels)
    assert list(permuted) == order
    for key in order:
        assert permuted[key] == pytest.approx(scores[key], abs=1e-12)
    as_list = pool_fn([pool[key] for key in order], labels)
    assert as_list == pytest.approx({i: scores[key] for i, key in enumerate(order)}, abs=1e-12)


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
def test_the_scores_depend_on_the_pool(name):
    """Pool-relative: dropping the random model changes the others' scores."""
    pool_fn, _ = POOL_METRICS[name]
    pool, labels = make_pool(seed=3)
    full = pool_fn(pool, labels)
    smaller = pool_fn({key: x for key, x in pool.items() if key != "perfect"}, labels)
    assert any(abs(full[key] - smaller[key]) > 0.05 for key in smaller)


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
def test_a_single_array_or_a_pool_of_one_is_refused(name):
    pool_fn, _ = POOL_METRICS[name]
    pool, labels = make_pool(seed=4)
    with pytest.raises(TypeError, match="whole candidate pool"):
        pool_fn(pool["perfect"], labels)
    with pytest.raises(TypeError, match="whole candidate pool"):
        pool_fn(torch.from_numpy(pool["perfect"]), labels)
    with pytest.raises(ValueError, match="at least two models"):
        pool_fn({"only": pool["perfect"]}, labels)
    with pytest.raises(ValueError, match="rows"):
        pool_fn({"a": pool["perfect"], "b": pool["random"][:-1]}, labels)


def test_score_all_refuses_pool_metrics_and_points_at_the_pool_api():
    pool, labels = make_pool(seed=5)
    for name in ("ncti", "etran"):
        with pytest.raises(
            ValueError, match=rf"pool-relative.*gtransfer\.metrics\.{name}\(features_by_model, labels\)"
        ):
            metrics.score_all(pool["perfect"], labels, metrics=["h_score", name])
    assert "ncti" not in metrics.METRICS and set(metrics.POOL_METRICS) == {"ncti", "etran"}


def test_min_max_ties_and_rounding_noise_give_zero_not_nan():
    assert min_max_normalise({"a": 2.0, "b": 2.0}) == {"a": 0.0, "b": 0.0}
    assert min_max_normalise({"a": 1.0, "b": 1.0 - 1e-15}) == {"a": 0.0, "b": 0.0}
    assert min_max_normalise({"a": 1.0, "b": 1.0 - 10 * TIE_RTOL}) == {"a": 1.0, "b": 0.0}
    assert min_max_normalise({"a": 1.0, "b": 3.0, "c": 2.5}) == {"a": 0.0, "b": 1.0, "c": 0.75}
    with pytest.raises(ValueError, match="finite"):
        min_max_normalise({"a": 1.0, "b": float("nan")})
    with pytest.raises(ValueError, match="lack components"):
        combine_components({"a": {"x": 1.0}, "b": {}}, {"x": 1.0})


# --- properties -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_perfect_features_score_top_and_random_features_score_low(seed):
    """Perfect features top the pool for both. ETran ranks noise last (within its energy weight, 0.15,
    where its energy term, label-free, can favour noise). NCTI does not rank noise last: its vc term,
    the nuclear norm of each class's posteriors, is smallest for the near-uniform posteriors of noise
    (the paper's formula; the official combination behaves the same), so noise lands mid-pool;
    its two other components rank noise last among the models with no class signal, as they must."""
    pool, labels = make_pool(seed=seed)
    for name, (pool_fn, _) in POOL_METRICS.items():
        scores = pool_fn(pool, labels)
        assert scores["perfect"] >= max(scores.values()) - (0.15 if name == "etran" else 0.0), (name, scores)
    scores = etran(pool, labels)
    assert scores["random"] <= min(scores.values()) + 0.15
    assert scores["random"] < scores["signal1.0"] < scores["signal3.0"]
    parts = {key: ncti_components(x, labels) for key, x in pool.items()}
    for component in ("seli", "ncc"):
        assert (
            parts["random"][component]
            < parts["signal1.0"][component]
            < parts["signal3.0"][component]
            < parts["perfect"][component]
        )


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
@pytest.mark.parametrize("n, d, c", [(240, 16, 4), (300, 100, 2), (60, 150, 3)])
def test_sample_order_and_class_names_do_not_matter(name, n, d, c):
    _, components_fn = POOL_METRICS[name]
    pool, labels = make_pool(n, d, c, seed=6)
    x = pool["signal1.0"]
    expected = components_fn(x, labels)
    order = np.random.default_rng(7).permutation(n)
    components_close(components_fn(x[order], labels[order]), expected, 1e-9)
    renamed = np.random.default_rng(8).permutation(c)[labels]
    components_close(components_fn(x, renamed), expected, 1e-9)


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
def test_two_classes_a_class_of_one_sample_and_constant_columns(name):
    pool_fn, components_fn = POOL_METRICS[name]
    pool, labels = make_pool(200, 12, 2, seed=9)
    scores = pool_fn(pool, labels)
    assert scores["perfect"] == pytest.approx(max(scores.values()), abs=0.15)
    labels = labels.copy()
    labels[0] = 2  # a third class of one sample
    x = np.hstack([pool["signal1.0"], np.full((200, 3), 7.0)])  # three constant columns
    parts = components_fn(x, labels)
    assert all(np.isfinite(v) for v in parts.values())
    without = components_fn(pool["signal1.0"], labels)
    if name == "ncti":  # the input checks drop constant columns exactly: nothing changes
        components_close(parts, without, 1e-9)
    else:  # ETran's energy reads the features' values, constants included; its LDA drops them like NCTI
        assert parts["energy"] > without["energy"]
        assert parts["cls"] == pytest.approx(without["cls"], rel=1e-9)
        assert 0.5 < parts["cls"] <= 1.0


def test_ncti_below_64_dimensions_uses_every_direction():
    """d < 64: k = min(64, d, n - 1), the PCA is then a rotation and NCTI is invariant to rotations."""
    pool, labels = make_pool(240, 16, 4, seed=10)
    x = pool["signal1.0"]
    rotation, _ = np.linalg.qr(np.random.default_rng(11).standard_normal((16, 16)))
    components_close(ncti_components(x @ rotation, labels), ncti_components(x, labels), 1e-9)
    fewer = ncti_components(x, labels, n_components=4)  # a genuinely smaller PCA differs
    assert abs(fewer["seli"] - ncti_components(x, labels)["seli"]) > 1e-3
    with pytest.raises(ValueError, match="at least 2 samples per class"):
        ncti_components(x[:4], np.arange(4))
    with pytest.raises(ValueError, match="n_components"):
        ncti_components(x, labels, n_components=0)


def test_n_below_d():
    """n < d: NCTI's PCA has at most n - 1 components; ETran's LDA runs on the span of the samples, and
    with its shrinkage at the 1e-10 floor (unit-scale features) the posterior saturates at 1."""
    pool, labels = make_pool(60, 150, 3, seed=12)
    for x in pool.values():
        parts = ncti_components(x, labels)
        assert all(np.isfinite(v) for v in parts.values())
    assert etran_cls(pool["signal0.3"], labels) == pytest.approx(1.0, abs=1e-6)
    small = 0.01 * pool["signal0.3"]  # strong shrinkage: no saturation, and the same value as ...
    value = etran_cls(small, labels)
    assert value < 0.99
    padded = np.hstack([small, np.zeros((60, 0))])
    assert etran_cls(padded, labels) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
def test_inputs_are_not_mutated(name):
    pool_fn, _ = POOL_METRICS[name]
    pool, labels = make_pool(seed=13)
    copies = {key: x.copy() for key, x in pool.items()}
    labels_copy = labels.copy()
    pool_fn(pool, labels)
    for key in pool:
        np.testing.assert_array_equal(pool[key], copies[key])
    np.testing.assert_array_equal(labels, labels_copy)


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
@pytest.mark.parametrize("as_tensor", [False, True])
def test_float32_is_scored_in_float64_and_close_to_the_float64_value(name, as_tensor):
    pool_fn, components_fn = POOL_METRICS[name]
    pool, labels = make_pool(seed=14)
    single = {key: x.astype(np.float32) for key, x in pool.items()}
    exact = pool_fn({key: x.astype(np.float64) for key, x in single.items()}, labels)
    rounded_from = pool_fn(pool, labels)
    got = pool_fn({key: torch.from_numpy(x) if as_tensor else x for key, x in single.items()}, labels)
    for key in pool:
        assert got[key] == pytest.approx(exact[key], abs=1e-9)
        assert got[key] == pytest.approx(rounded_from[key], abs=1e-4)
    components_close(components_fn(single["signal1.0"], labels), components_fn(pool["signal1.0"], labels), 1e-5)


@pytest.mark.parametrize("name", sorted(POOL_METRICS))
@pytest.mark.parametrize("n, d, c", [(240, 16, 4), (60, 150, 3)])
def test_torch_tensors_equal_numpy(name, n, d, c):
    _, components_fn = POOL_METRICS[name]
    pool, labels = make_pool(n, d, c, seed=15)
    x = pool["signal1.0"]
    components_close(components_fn(torch.from_numpy(x), torch.from_numpy(labels)), components_fn(x, labels), 1e-9)


def test_etran_energy_closed_forms_and_options():
    """logsumexp of a constant row c over d columns is c + log d; the tail averages the lowest rows."""
    rows = np.repeat(np.arange(400.0)[:, None], 8, axis=1)  # row i: all entries i
    assert etran_energy(rows) == pytest.approx(0.5 + np.log(8), rel=1e-12)  # lowest 2 of 400: rows 0, 1
    assert etran_energy(rows, tail=0.01) == pytest.approx(1.5 + np.log(8), rel=1e-12)
    assert etran_energy(rows[:50]) == pytest.approx(np.log(8), rel=1e-12)  # the official would take 0 rows: NaN
    assert etran_energy(rows + 1e30) == pytest.approx(1e30, rel=1e-12)  # extreme magnitudes: exact rescaling
    for bad in (0.0, 1.5):
        with pytest.raises(ValueError, match="tail"):
            etran_energy(rows, tail=bad)
    with pytest.raises(ValueError, match="mode"):
        etran_cls(rows, np.arange(400) % 2, mode="ncm")
    with pytest.raises(ValueError, match="energy_weight"):
        etran({"a": rows, "b": rows + 1}, np.arange(400) % 2, energy_weight=2.0)


def test_etran_cls_official_is_the_nearest_class_mean_posterior():
    pool, labels = make_pool(seed=16)
    x = pool["signal1.0"]
    means = np.stack([x[labels == c].mean(0) for c in range(4)])
    scores = -0.5 * ((x[:, None, :] - means[None]) ** 2).sum(-1) + np.log(np.bincount(labels) / labels.size)
    posteriors = np.exp(scores - scores.max(1, keepdims=True))
    posteriors /= posteriors.sum(1, keepdims=True)
    expected = posteriors[np.arange(labels.size), labels].mean()
    assert etran_cls(x, labels, mode="official") == pytest.approx(expected, rel=1e-12)
    assert etran_cls(x * 2.0**80, labels, mode="official") == pytest.approx(
        etran_cls(x * 2.0**80, labels, mode="official")
    )
    assert abs(etran_cls(x, labels) - expected) > 1e-3  # the LDA default is another classifier


def test_docstring_examples_run():
    ncti_module, etran_module = (importlib.import_module(f"gtransfer.metrics.{name}") for name in ("ncti", "etran"))
    for module in (ncti_module, etran_module, importlib.import_module("gtransfer.metrics.pool")):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, module.__name__
    assert doctest.testmod(ncti_module).attempted >= 10 and doctest.testmod(etran_module).attempted >= 10


# --- CUDA -----------------------------------------------------------------------------------------


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("name", sorted(POOL_METRICS))
@pytest.mark.parametrize("n, d, c", [(240, 16, 4), (60, 150, 3), (2000, 300, 7)])
def test_pool_metrics_on_cuda_equal_numpy(name, n, d, c):
    pool_fn, components_fn = POOL_METRICS[name]
    pool, labels = make_pool(n, d, c, seed=17)
    components_close(components_fn(torch.from_numpy(pool["signal1.0"]).cuda(), torch.from_numpy(labels).cuda()),
                     components_fn(pool["signal1.0"], labels), 1e-9)
    on_gpu = pool_fn({key: torch.from_numpy(x).cuda() for key, x in pool.items()}, labels)
    assert on_gpu == pytest.approx(pool_fn(pool, labels), abs=1e-9)
    assert pool_fn(pool, labels, device="cuda") == pytest.approx(pool_fn(pool, labels), abs=1e-9)


def test_the_benchmark_times_a_pool_metric_by_one_models_components():
    from gtransfer.bench.metrics import SUITE, metric_runner

    pool, labels = make_pool(seed=18)
    for name, (_, components_fn) in POOL_METRICS.items():
        components_close(
            metric_runner(name, pool["signal1.0"], labels)(), components_fn(pool["signal1.0"], labels), 1e-12
        )
        assert {case.n < case.d for case in SUITE if case.metric == name} == {True, False}
