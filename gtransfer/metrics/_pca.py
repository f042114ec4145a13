"""Principal components of the centred features, from the shared Gram pass (GBC's ``pca_dim``, NCTI).

The Gram matrix comes from :func:`compute_statistics` (X^T X when n >= d, the kernel X X^T when n < d,
centred robustly either way), so a PCA costs one Gram product and one symmetric eigendecomposition of
the smaller side: the scores are X V_k (primal, a pass over the rows) or U_k S_k (dual, no pass).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._backend import Array, Backend
from ._linalg import rank_tolerance
from ._statistics import _row_blocks, compute_statistics
from ._validation import CheckedFeatures, as_backend

__all__ = ["PrincipalComponents", "principal_components"]


@dataclass
class PrincipalComponents:
    """The eigendecomposition of the centred Gram matrix, largest first.

    ``variances`` are the explained variances (divided by n - 1, as scikit-learn's
    ``PCA.explained_variance_``) in the caller's units, of length min(n, d); ``rank`` counts those above
    numpy's rank tolerance. ``scores(k)`` are the top-k principal component scores in the checked
    features' units (the caller's times 2**log2_scale).
    """

    checked: CheckedFeatures
    primal: bool
    values: Array  # (m,) eigenvalues of the Gram matrix, descending, on the backend
    vectors: Array  # (d, m) primal or (n, m) dual eigenvectors, same order
    variances: np.ndarray
    rank: int

    @property
    def backend(self) -> Backend:
        return self.checked.backend

    def scores(self, k: int) -> Array:
        """(n, k) scores of the centred features on the top-k components, on the backend."""
        n, d = self.checked.shape
        if not 0 <= k <= self.variances.size:
            raise ValueError(f"k must be in [0, {self.variances.size}], got {k}")
        be = self.backend
        if not self.primal:
            return self.vectors[:, :k] * be.sqrt(be.maximum(self.values[:k], 0.0))[None, :]
        basis = self.vectors[:, :k]
        mean = self.checked.column_sums / n
        out = be.empty((n, k))
        max_rows = max(1, 2**24 // (8 * max(d, 1)))
        for start, end, rows in _row_blocks(self.checked.features, be, n, max_rows):
            out[start:end] = (rows - mean) @ basis  # centred explicitly: no cancellation whatever the mean
        return out


def principal_components(checked: CheckedFeatures, top: int | None = None) -> PrincipalComponents:
    """PCA of validated features through one Gram product (see the module docstring): every component, or
    only the ``top`` largest (then ``variances`` and ``rank`` count those only)."""
    be = checked.backend
    n, d = checked.shape
    stats = compute_statistics(checked, np.zeros(n, dtype=np.int64), frozenset({"gram"}))
    full = int(stats.gram.shape[0])
    values, vectors = be.eigh(stats.gram) if top is None or top >= full else be.eigh_top(stats.gram, top)
    size = int(values.shape[0])
    descending = as_backend(be, np.arange(size - 1, -1, -1))
    values, vectors = values[descending], vectors[:, descending]
    host = np.maximum(np.asarray(be.to_numpy(values), dtype=np.float64), 0.0)
    rank = int((host > rank_tolerance(host, full)).sum()) if size else 0  # the largest is among the top ones
    with np.errstate(over="ignore"):  # the caller's units may be beyond float64 (a variance of 1e600 is inf)
        variances = np.ldexp(host / max(n - 1, 1), -2 * checked.log2_scale)
    return PrincipalComponents(checked, stats.primal, values, vectors, variances, rank)
