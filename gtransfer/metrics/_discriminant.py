"""Linear discriminant analysis pieces shared by NCTI and ETran.

Everything works on centred coordinates ``z`` (rows minus the global mean) and centred class means:
the class scores x^T A mu_c - 1/2 mu_c^T A mu_c + log pi_c (A symmetric) differ from the uncentred
ones by terms that do not depend on c, so the posteriors are the same and no cancellation occurs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ._backend import Array, Backend
from ._linalg import rank_tolerance
from ._validation import CheckedFeatures, as_backend, check_features, check_labels

__all__ = [
    "checked_class_task",
    "Discriminant",
    "class_means",
    "within_scatter",
    "between_scatter",
    "shrunk",
    "generalized_eigh",
    "lda_shrinkage",
]

#: The released SFDA/ETran regularisation: lambda = max(exp(-a * lambda_max(S_w)), floor).
SHRINKAGE_DECAY = 5.0
SHRINKAGE_FLOOR = 1e-10


def checked_class_task(
    features: Array, labels: Array, device: str | None
) -> tuple[CheckedFeatures, np.ndarray, np.ndarray]:
    """(validated features on their backend, host labels 0..C-1, class counts)."""
    checked = check_features(features, device=device)
    labels = check_labels(labels, checked.shape[0])
    return checked, labels, np.bincount(labels)


@dataclass
class Discriminant:
    """Class scores s_c(x) = x^T coef_c + intercept_c of centred rows x; posteriors are their softmax."""

    backend: Backend
    coef: Array  # (r, C)
    intercept: Array  # (C,)

    @classmethod
    def from_means(cls, backend: Backend, means: Array, counts: np.ndarray, inverse_means: Array) -> Discriminant:
        """coef_c = A mu_c (given as ``inverse_means`` = A M^T, (r, C)), intercept_c = -1/2 mu_c^T A mu_c + log pi_c."""
        log_priors = as_backend(backend, np.log(counts / counts.sum()))
        intercept = -0.5 * (means * inverse_means.T).sum(1) + log_priors
        return cls(backend, inverse_means, intercept)

    def log_posteriors(self, rows: Array) -> Array:
        """(m, C) log softmax of the class scores of centred rows (m, r)."""
        scores = rows @ self.coef + self.intercept
        return scores - self.backend.logsumexp_rows(scores)[:, None]

    def true_class_probability_sum(self, blocks: Iterator[tuple[Array, np.ndarray]]) -> float:
        """sum_i P(y_i | x_i) over (centred rows, their labels) blocks."""
        be, total = self.backend, 0.0
        for rows, labels in blocks:
            log_post = self.log_posteriors(rows)
            picked = log_post[be.arange(labels.size), as_backend(be, labels)]
            total += be.item(be.exp(picked).sum())
        return total


def class_means(backend: Backend, z: Array, labels: np.ndarray, counts: np.ndarray) -> Array:
    """(C, r) class means of the rows of z."""
    return backend.class_sums(z, labels, counts.size) / as_backend(backend, counts.astype(np.float64))[:, None]


def within_scatter(backend: Backend, z: Array, labels: np.ndarray, means: Array) -> Array:
    """S_w = (1/n) sum_i (z_i - mu_{y_i})(z_i - mu_{y_i})^T: prior-weighted population class covariances."""
    deviations = z - means[as_backend(backend, labels)]
    return deviations.T @ deviations / labels.size


def between_scatter(backend: Backend, means: Array, counts: np.ndarray) -> Array:
    """S_b = sum_c pi_c mu_c mu_c^T of centred class means (S_t = S_w + S_b)."""
    weights = as_backend(backend, counts / counts.sum())
    return (means * weights[:, None]).T @ means


def shrunk(backend: Backend, matrix: Array, shrinkage: float, target_dim: int) -> Array:
    """Shrink(S, lambda) = (1 - lambda) S + lambda (tr S / target_dim) I (``target_dim`` the features' dimension)."""
    out = matrix * (1.0 - shrinkage)
    backend.add_to_diagonal(out, shrinkage * backend.item(backend.diag(matrix).sum()) / target_dim)
    return out


def lda_shrinkage(largest_within_eigenvalue: float) -> float:
    """lambda = max(exp(-5 lambda_max(S_w)), 1e-10), the SFDA/ETran rule (scale-dependent by design)."""
    return max(float(np.exp(-SHRINKAGE_DECAY * largest_within_eigenvalue)), SHRINKAGE_FLOOR)


def generalized_eigh(backend: Backend, between: Array, within: Array) -> tuple[np.ndarray, Array, Array]:
    """Solutions of between v = e within v with V^T within V = I, largest e first, on the range of ``within``.

    ``within`` is whitened through its eigendecomposition, dropping eigenvalues at or below numpy's
    rank tolerance (a singular within-class scatter keeps only the directions the data span, as
    scikit-learn's ``solver='svd'`` does). Returns (host eigenvalues, V (r, q), the whitening W0 (r, q)).
    """
    values, vectors = backend.eigh(within)
    host = np.asarray(backend.to_numpy(values), dtype=np.float64)
    keep = np.flatnonzero(host > rank_tolerance(host, host.size))
    index = as_backend(backend, keep)
    whitening = vectors[:, index] / backend.sqrt(values[index])[None, :]
    projected = whitening.T @ between @ whitening
    projected = 0.5 * (projected + projected.T)
    e, u = backend.eigh(projected)
    order = as_backend(backend, np.arange(keep.size - 1, -1, -1))
    return np.asarray(backend.to_numpy(e[order]), dtype=np.float64), whitening @ u[:, order], whitening
