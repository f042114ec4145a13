"""Linear-algebra kernels shared by the covariance-based metrics."""

from __future__ import annotations

import numpy as np

from ._backend import Array, Backend, NotPositiveDefiniteError
from ._statistics import FeatureStatistics, logdet_identity_plus
from ._validation import as_backend

__all__ = ["class_quadratic_form", "logdet_identity_plus", "rank_tolerance"]

# A Cholesky pivot below this fraction of the largest diagonal entry marks the matrix as
# numerically singular; the eigendecomposition route then drops its null space explicitly.
_SINGULAR_PIVOT = 1e-12


def rank_tolerance(eigenvalues: np.ndarray, size: int) -> float:
    """Eigenvalues at or below max|lambda| * size * eps are treated as zero (numpy's matrix_rank rule)."""
    top = float(abs(eigenvalues).max()) if len(eigenvalues) else 0.0
    return top * size * np.finfo(np.float64).eps


def _shifted(backend: Backend, matrix: Array, a: float, b_shift: float) -> Array:
    """a * matrix + b_shift * I as one new array (the diagonal is updated in place)."""
    shifted = matrix * a
    if b_shift:
        backend.add_to_diagonal(shifted, b_shift)
    return shifted


def _scaled_class_indicator(stats: FeatureStatistics) -> Array:
    """E D^{-1/2}: the n x C class indicator, column c scaled by 1/sqrt(n_c), in the kernel's row order."""
    return stats.class_indicator() * as_backend(stats.backend, 1.0 / np.sqrt(stats.counts))[None, :]


def class_quadratic_form(stats: FeatureStatistics, a: float, b_shift: float) -> float:
    """tr(M (a X^T X + b I)^+ M^T), with M's rows the class sums of X scaled by 1/sqrt(n_c).

    Equivalently sum_c n_c mu_c^T (a X^T X + b I)^+ mu_c. Primal (n >= d): one Cholesky factor of the
    d x d matrix and C right-hand sides. Dual (n < d), by the push-through identity
    X (a X^T X + b I)^{-1} X^T = (a K + b I)^{-1} K with K = X X^T: one n x n factorisation.
    If the matrix is singular (b = 0 and X rank-deficient), the pseudo-inverse is applied through an
    eigendecomposition with the null space (see ``rank_tolerance``) removed.
    """
    be = stats.backend
    scale = as_backend(be, 1.0 / np.sqrt(stats.counts))
    if stats.primal:
        m = stats.class_sums * scale[:, None]  # (C, d)
        matrix = _shifted(be, stats.gram, a, b_shift)
        try:
            lower = be.cholesky(matrix)
            pivots = be.to_numpy(be.diag(lower)) ** 2
            if pivots.min() > _SINGULAR_PIVOT * pivots.max():
                z = be.solve_lower(lower, m.T)
                return be.item((z * z).sum())
        except NotPositiveDefiniteError:
            pass
        values, vectors = be.eigh(matrix)
        projected = vectors.T @ m.T  # (d, C)
        keep = values > rank_tolerance(be.to_numpy(values), stats.d)
        return be.item(((projected[keep] ** 2).sum(1) / values[keep]).sum())
    kernel = stats.gram
    indicator = _scaled_class_indicator(stats)  # E D^{-1/2}
    if b_shift:
        lower = be.cholesky(_shifted(be, kernel, a, b_shift))
        num_classes = stats.num_classes
        both = be.solve_lower(lower, be.concat_columns(indicator, kernel @ indicator))  # one pass, 2C columns
        return be.item((both[:, :num_classes] * both[:, num_classes:]).sum())
    if _kernel_has_rank_n_minus_1(stats):
        # range(K) is the complement of the all-ones vector, P = I - 11^T/n, and
        # sum_c e_c^T P e_c / n_c = sum_c (1 - n_c / n) = C - 1: the reference's saturation.
        return (stats.num_classes - 1) / a
    values, vectors = be.eigh(kernel)
    keep = values > rank_tolerance(be.to_numpy(values), stats.n)
    projected = vectors[:, keep].T @ indicator  # (r, C)
    return be.item((projected * projected).sum() / a)


def _kernel_has_rank_n_minus_1(stats: FeatureStatistics) -> bool:
    """Whether the centred kernel K = X X^T has full rank n - 1 (its null space only the constant
    vector, which centring puts there): then K + s 11^T is well-conditioned positive definite."""
    be, n = stats.backend, stats.n
    scale = be.item(be.diag(stats.gram).sum()) / n
    if scale <= 0:
        return False
    try:
        lower = be.cholesky(stats.gram + scale / n)  # + (s/n) 11^T: eigenvalue s on the ones vector
    except NotPositiveDefiniteError:
        return False
    pivots = be.to_numpy(be.diag(lower)) ** 2
    return bool(pivots.min() > _SINGULAR_PIVOT * pivots.max())
