"""The PCA inside GBC (``pca_dim``) and N-LEEP (``pca_variance=0.8`` by default) against a projection
computed here with ``numpy.linalg.svd``: replacing either PCA by the identity, a random projection,
the lowest-variance components or an uncentred projection makes these tests fail.

The data: three classes whose means differ along two high-variance directions, hidden in a random
rotation of 12 dimensions whose 10 other directions carry small noise; the top two principal
components hold 89% of the variance (the first alone 46%), so a 0.8-variance PCA keeps exactly two.
"""

from __future__ import annotations

import numpy as np
import pytest

from gtransfer.metrics import gbc, nleep


def _data(seed: int = 0, n: int = 240) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n // 3)
    centres = np.array([[0.0, 0.0], [4.0, 0.0], [2.0, 3.5]])
    signal = centres[labels] + rng.normal(scale=1.0, size=(n, 2))
    noise = rng.normal(scale=0.3, size=(n, 10))
    rotation, _ = np.linalg.qr(rng.normal(size=(12, 12)))
    return np.hstack([signal, noise]) @ rotation.T + 5.0, labels  # offset: the PCA must centre


def _svd_projection(x: np.ndarray, k: int) -> np.ndarray:
    centred = x - x.mean(0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:k].T


def _variance_dims(x: np.ndarray, fraction: float) -> int:
    singular = np.linalg.svd(x - x.mean(0), compute_uv=False)
    explained = np.cumsum(singular**2) / np.sum(singular**2)
    return int(np.searchsorted(explained, fraction) + 1)


def test_the_data_has_two_dominant_components():
    x, _ = _data()
    assert _variance_dims(x, 0.5) == 2 and _variance_dims(x, 0.8) == 2 and _variance_dims(x, 0.85) == 2


@pytest.mark.parametrize("gaussian", ["diagonal", "spherical"])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_gbc_pca_is_the_projection_on_the_top_principal_components(gaussian, k):
    x, y = _data()
    expected = gbc(_svd_projection(x, k), y, gaussian=gaussian)  # axis signs do not change a diagonal Gaussian
    np.testing.assert_allclose(gbc(x, y, gaussian=gaussian, pca_dim=k), expected, rtol=1e-9, atol=1e-12)


def test_gbc_pca_differs_from_what_a_broken_pca_would_give():
    # the reference above separates the candidates a broken PCA would produce
    x, y = _data()
    rng = np.random.default_rng(1)
    right = gbc(x, y, pca_dim=2)
    wrong = {
        "identity": gbc(x, y),
        "random projection": gbc((x - x.mean(0)) @ np.linalg.qr(rng.normal(size=(12, 2)))[0], y),
        "lowest components": gbc(_svd_projection(x, 12)[:, -2:], y),
    }
    for name, value in wrong.items():
        assert abs(value - right) > 0.05, (name, value, right)


def test_nleep_default_pca_keeps_80_percent_of_the_variance():
    x, y = _data()
    expected = nleep(_svd_projection(x, _variance_dims(x, 0.8)), y, pca_variance=None)
    np.testing.assert_allclose(nleep(x, y), expected, rtol=1e-6)
    np.testing.assert_allclose(nleep(x, y, pca_variance=0.8), expected, rtol=1e-6)


def test_nleep_pca_differs_from_what_a_broken_pca_would_give():
    x, y = _data()
    rng = np.random.default_rng(1)
    right = nleep(x, y)
    wrong = {
        "identity": nleep(x, y, pca_variance=None),
        "random projection": nleep((x - x.mean(0)) @ np.linalg.qr(rng.normal(size=(12, 2)))[0], y, pca_variance=None),
        "lowest components": nleep(_svd_projection(x, 12)[:, -2:], y, pca_variance=None),
    }
    for name, value in wrong.items():
        assert abs(value - right) > 0.02, (name, value, right)
