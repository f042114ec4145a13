"""LogME: the log maximum evidence of a Bayesian linear model on the features."""

from __future__ import annotations

import math

import numpy as np

from ._backend import Array, on_one_blas_thread
from ._linalg import rank_tolerance
from ._statistics import FeatureStatistics, compute_statistics
from ._validation import as_backend, check_features, check_labels

__all__ = ["logme"]

LOGME_NEEDS = frozenset({"gram", "class_sums", "mean_projection"})


def logme(features: Array, labels: Array, max_iter: int = 11, tol: float = 1e-3, epsilon: float = 1e-5) -> float:
    r"""LogME (You et al., "LogME: Practical Assessment of Pre-trained Models for Transfer
    Learning", ICML 2021; fixed-point algorithm of the JMLR version, arXiv:2110.10545).

    For each class c, the one-hot column y_c is regressed on the raw features F with prior
    w ~ N(0, alpha^{-1} I) and noise N(0, beta^{-1}); with sigma_i the eigenvalues of F^T F and
    z_i the coordinates of y_c on its left singular vectors, alpha and beta are re-estimated by the
    fixed point alpha = gamma / m^T m, beta = (n - gamma) / ||F m - y||^2,
    gamma = sum_i sigma_i / (sigma_i + alpha / beta), and the maximised evidence is

    .. math::
        \mathcal{L}_c = \tfrac{d}{2}\log\alpha + \tfrac{n}{2}\log\beta - \tfrac{n}{2}\log 2\pi
            - \tfrac{\beta}{2}\lVert F m - y_c\rVert^2 - \tfrac{\alpha}{2}\, m^\top m
            - \tfrac12 \sum_{i=1}^{d} \log(\alpha + \beta \sigma_i).

    LogME = (1 / C) sum_c L_c / n. The log-determinant runs over all d eigenvalues, zeros included:
    when n < d this adds (d - k)/2 log(alpha) that the reference code drops (thuml/LogME issue #23),
    so values differ from it there, by design. All-zero features (no eigenvalue) get the evidence's
    supremum, alpha -> infinity, in closed form (see ``_evidence_without_features``), where the
    reference returns NaN. The maximised evidence is invariant to the features' scale; features of
    extreme magnitude (outside [2^-64, 2^64]) are scored rescaled by a power of two into [1, 2), so
    their value is that of the rescaled features (the fixed point from alpha = beta = 1 and its
    ``epsilon`` make the computed value scale-invariant to about ``tol``, not exactly).
    One eigendecomposition (of F^T F, or of F F^T when n < d) serves all classes; the iteration runs vectorised over classes with the reference's
    stopping rule (relative change of alpha/beta <= ``tol``, at most ``max_iter`` steps,
    ``epsilon`` added to both denominators).

    Args:
        features: (n, d) real array or tensor. labels: (n,) integers 0..C-1.

    Returns:
        Mean per-sample log evidence over classes (higher is better).
    """
    checked = check_features(features)
    labels = check_labels(labels, checked.shape[0])
    stats = compute_statistics(checked, labels, LOGME_NEEDS)
    return logme_from_statistics(stats, max_iter=max_iter, tol=tol, epsilon=epsilon)


def _spectrum_and_class_coordinates(stats: FeatureStatistics) -> tuple[Array, Array]:
    """Nonzero eigenvalues sigma of F^T F (raw features) and z = U^T y_c for every class (k x C).

    Only the coordinates of the C label columns on the eigenvectors are needed, never the
    eigenvectors themselves: ``eigh_projected`` returns V^T B directly (V^T F^T Y = S U^T Y)."""
    be, n, m = stats.backend, stats.n, stats.mean
    counts = as_backend(be, stats.counts.astype(np.float64))
    if stats.primal:
        raw_gram = stats.gram + n * (m[:, None] * m[None, :])
        raw_class_sums = stats.class_sums + counts[:, None] * m[None, :]  # F^T y_c, as rows
        sigma, projected = be.eigh_projected(raw_gram, raw_class_sums.T)  # (d, C)
        keep = sigma > rank_tolerance(be.to_numpy(sigma), max(n, stats.d))
        sigma = sigma[keep]
        return sigma, projected[keep] / be.sqrt(sigma)[:, None]
    r = stats.mean_projection
    raw_kernel = stats.gram + r[:, None] + r[None, :] + be.item((m * m).sum())
    sigma, coords = be.eigh_projected(raw_kernel, stats.class_indicator())  # U^T y_c for every class
    keep = sigma > rank_tolerance(be.to_numpy(sigma), max(n, stats.d))
    return sigma[keep], coords[keep]


@on_one_blas_thread
def logme_from_statistics(
    stats: FeatureStatistics, max_iter: int = 11, tol: float = 1e-3, epsilon: float = 1e-5
) -> float:
    be, n, d = stats.backend, stats.n, stats.d
    sigma, z = _spectrum_and_class_coordinates(stats)
    k = int(sigma.shape[0])
    if k == 0:
        return _evidence_without_features(stats)
    sigma = sigma[:, None]  # (k, 1), broadcast over classes
    z2 = z * z  # (k, C)
    outside = as_backend(be, stats.counts.astype(np.float64)) - z2.sum(0)  # ||y||^2 - ||z||^2
    num_classes = stats.num_classes
    alpha = np.ones(num_classes)
    beta = np.ones(num_classes)
    evidence = np.zeros(num_classes)
    active = np.ones(num_classes, dtype=bool)
    for _ in range(max_iter):
        t = as_backend(be, alpha / beta)
        gamma = (sigma / (sigma + t)).sum(0)
        m2 = (sigma * z2 / (t + sigma) ** 2).sum(0)
        res2 = (z2 / (1.0 + sigma / t) ** 2).sum(0) + outside
        new_alpha = be.to_numpy(gamma / (m2 + epsilon))
        new_beta = be.to_numpy((n - gamma) / (res2 + epsilon))
        a, bt = as_backend(be, new_alpha), as_backend(be, new_beta)
        log_det = be.log(a + bt * sigma).sum(0) + (d - k) * be.log(a)
        value = (
            d / 2.0 * be.log(a)
            + n / 2.0 * be.log(bt)
            - 0.5 * log_det
            - bt / 2.0 * res2
            - a / 2.0 * m2
            - n / 2.0 * math.log(2.0 * math.pi)
        ) / n
        value = be.to_numpy(value)
        evidence[active] = value[active]
        t_old = alpha / beta
        converged = np.abs(new_alpha / new_beta - t_old) / t_old <= tol
        alpha[active], beta[active] = new_alpha[active], new_beta[active]
        active &= ~converged
        if not active.any():
            break
    return float(evidence.mean())


def _evidence_without_features(stats: FeatureStatistics) -> float:
    r"""LogME of all-zero features: the supremum of the evidence, reached as alpha -> infinity
    (w = 0), where only the noise model is left: with beta = n / ||y_c||^2 = n / n_c,

    .. math:: \mathcal{L}_c / n = \tfrac12 \log(n / n_c) - \tfrac12 - \tfrac12 \log 2\pi .

    The fixed point itself would drive alpha to 0/0 here (the reference returns NaN)."""
    counts = stats.counts.astype(np.float64)
    per_class = 0.5 * np.log(stats.n / counts) - 0.5 - 0.5 * math.log(2.0 * math.pi)
    return float(per_class.mean())
