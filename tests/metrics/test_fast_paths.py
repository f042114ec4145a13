"""The faster routes of issue 28 against the routes they replaced, on random inputs.

Tolerances: rel 1e-10 between the new and the old computation of the same quantity (they differ in the
order of floating-point sums only); the Cholesky factors to rel 1e-12 of their largest entry.
"""

import numpy as np
import pytest
import torch

from gtransfer import metrics
from gtransfer.metrics import _statistics
from gtransfer.metrics._backend import NotPositiveDefiniteError, NumpyBackend
from gtransfer.metrics._statistics import compute_statistics
from gtransfer.metrics._validation import check_features


def leep_by_add_at(probs, labels):
    """LEEP as it was computed before (``np.add.at`` accumulation, one gathered einsum)."""
    joint = np.zeros((labels.max() + 1, probs.shape[1]))
    np.add.at(joint, labels, probs)
    joint /= labels.size
    marginal = joint.sum(0)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    return float(np.log(np.einsum("iz,iz->i", probs, conditional[labels])).mean())


@pytest.mark.parametrize("n, z, c", [(300, 17, 5), (5000, 40, 12), (64, 3, 2), (2000, 30, 40)])
def test_leep_equals_the_add_at_accumulation(n, z, c):
    rng = np.random.default_rng(n)
    labels = rng.permutation(np.arange(n) % c)
    probs = np.exp(2.0 * rng.standard_normal((n, z)))
    probs[:, 0] = 0.0  # an unused source class: ignored by both
    probs /= probs.sum(1, keepdims=True)
    assert metrics.leep(probs, labels) == pytest.approx(leep_by_add_at(probs, labels), rel=1e-10)


def class_rates_directly(features, labels, epsilon=1e-4):
    x = features - features.mean(0)
    rates = []
    for c in range(labels.max() + 1):
        rows = x[labels == c]
        rates.append(0.5 * np.linalg.slogdet(np.eye(x.shape[1]) + rows.T @ rows / (rows.shape[0] * epsilon))[1])
    return np.array(rates)


@pytest.mark.parametrize("counts", [[30, 30, 30], [8, 25, 60, 7], [100, 5, 12]])
@pytest.mark.parametrize("side", ["rule", "d", "n_c"])
def test_class_coding_rates_agree_on_either_side(counts, side, monkeypatch):
    """R(X_c) from the d x d product (classes with n_c >= 0.4 d) equals the n_c x n_c route and the formula."""
    d = 40
    rng = np.random.default_rng(len(counts))
    labels = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    features = rng.standard_normal((labels.size, d)) + rng.standard_normal((len(counts), d))[labels] + 3.0
    if side != "rule":
        monkeypatch.setattr(_statistics, "_coding_rate_on_d_side", lambda sizes, _d: np.full(len(sizes), side == "d"))
    stats = compute_statistics(check_features(features), labels, {"gram", "class_coding_rates"})
    assert stats.class_coding_rates == pytest.approx(class_rates_directly(features, labels), rel=1e-10)
    assert stats.gram == pytest.approx(np.cov(features.T, bias=True) * labels.size, rel=1e-10, abs=1e-9)


def test_the_d_side_rule_follows_the_factorisation_costs():
    d_side = _statistics._coding_rate_on_d_side(np.array([1, 100, 199, 205, 500, 2000]), 512)
    assert d_side.tolist() == [False, False, False, True, True, True]


@pytest.mark.parametrize("shape", [(100, 100), (3, 80, 80), (5, 10, 10)])
def test_cholesky_routes_equal_numpy(shape):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((*shape[:-1], 2 * shape[-1]))
    spd = a @ np.swapaxes(a, -1, -2) + np.eye(shape[-1])
    expected = np.linalg.cholesky(spd)
    backend = NumpyBackend()
    for overwrite in (False, True):
        scratch = spd.copy()
        got = backend.batched_cholesky(scratch, overwrite=overwrite)
        assert np.abs(got - expected).max() <= 1e-12 * np.abs(expected).max()
        if not overwrite:
            assert np.array_equal(scratch, spd)  # the caller's matrix untouched
    if len(shape) == 2:
        assert np.abs(backend.cholesky(spd) - expected).max() <= 1e-12 * np.abs(expected).max()
        indefinite = spd - 2.0 * np.abs(np.linalg.eigvalsh(spd)).max() * np.eye(shape[-1])
        with pytest.raises(NotPositiveDefiniteError, match="not positive definite"):
            backend.cholesky(indefinite)
        assert backend.batched_cholesky(indefinite) is None


def test_eigh_projected_equals_the_full_eigendecomposition():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 200)) + 1.0
    a, b = x.T @ x, rng.standard_normal((200, 6))
    values, projected = NumpyBackend().eigh_projected(a, b)
    full_values, vectors = np.linalg.eigh(a)
    assert values == pytest.approx(full_values, rel=1e-10, abs=1e-10 * full_values.max())
    # eigenvectors are defined up to sign: compare the squared projections (what LogME reads)
    assert projected**2 == pytest.approx((vectors.T @ b) ** 2, rel=1e-8, abs=1e-10 * (b**2).sum())


def test_cpu_tensors_are_scored_by_numpy_on_their_own_memory():
    features, labels = np.random.default_rng(5).standard_normal((200, 12)), np.arange(200) % 4
    tensor = torch.from_numpy(features.copy()).requires_grad_(True)
    checked = check_features(tensor)
    assert checked.backend.name == "numpy" and isinstance(checked.features, np.ndarray)
    assert np.shares_memory(checked.features, tensor.detach().numpy())  # a view: no copy
    assert metrics.h_score(tensor, labels) == metrics.h_score(features, labels)
    assert check_features(torch.from_numpy(features).to(torch.bfloat16)).backend.name == "torch"  # numpy has no bf16


@pytest.mark.parametrize(
    "bad, message", [(np.nan, "1 NaN or infinite"), (np.inf, "1 NaN or infinite"), (-0.5, "negative values")]
)
def test_probabilities_checked_in_row_blocks_find_a_bad_entry_in_the_last_block(bad, message):
    probs = np.full((3000, 400), 1.0 / 400)  # 1 MiB blocks of 327 rows: the bad entry sits in the tenth
    probs[2990, 7] = bad
    with pytest.raises(ValueError, match=message):
        metrics.leep(probs, np.arange(3000) % 3)
    probs[2990, 7] = 1.0 / 400
    assert metrics.leep(probs, np.arange(3000) % 3) == pytest.approx(np.log(1.0 / 3.0), rel=1e-12)
