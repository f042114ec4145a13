"""PARC: how well pairwise feature dissimilarities follow pairwise label dissimilarities."""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from ._backend import Array, Backend, on_one_blas_thread
from ._linalg import rank_tolerance
from ._validation import as_backend, check_features, check_labels

__all__ = ["parc", "PARC_MAX_SAMPLES"]

#: PARC compares all n (n - 1) / 2 pairs: n = 5000 is 12.5 million pairs, about 0.5 GB of float64
#: working arrays and a few seconds of sorting; above it the metric refuses (no silent subsample).
PARC_MAX_SAMPLES = 5000


def parc(features: Array, labels: Array, *, pca_dim: int | None = 32, max_samples: int = PARC_MAX_SAMPLES) -> float:
    r"""PARC, Pairwise Annotation Representation Comparison (Bolya, Mittapalli, Hoffman, "Scalable
    Diverse Model Selection for Accessible Transfer Learning", NeurIPS 2021).

    The features are reduced to their top ``pca_dim`` principal components (exact eigendecomposition;
    each component's sign fixed so that its largest loading is positive), each column standardised
    (population variance; a constant column, or a component of zero variance, becomes 0, as
    scikit-learn's StandardScaler makes a constant column), and
    compared sample against sample:

    .. math::
        D_F[i, j] = 1 - r(z_i, z_j), \qquad
        \mathrm{PARC} = 100\, \rho_S\big(\{D_F[i,j]\}_{i<j},\ \{b_{ij}\}_{i<j}\big),
        \quad b_{ij} = [y_i \ne y_j],

    r the Pearson correlation of two rows, rho_S Spearman's correlation with average ranks for ties.
    The label dissimilarity of the paper, 1 - r(onehot_i, onehot_j), is 0 or C / (C - 1): it is built
    exactly as the binary indicator b, so ties among label pairs never depend on BLAS rounding (the
    reference's ``1 - corrcoef`` splits them by an ulp). As b has two values, Spearman's rho has the
    closed form

    .. math::
        \rho_S = \big(\bar R_1 - \tfrac{m+1}{2}\big)\sqrt{p / (1-p)} \,/\, s_R,

    with R the average ranks of the m = n(n-1)/2 values of D_F, R_1 their mean over different-class
    pairs, p the fraction of different-class pairs and s_R the population standard deviation of R.
    A row whose standardised features are all equal has no correlation with any other: it gets
    r = 0 (dissimilarity 1) where the reference gives NaN.

    R_1's sum and s_R come from sorts and binary searches (the average rank of v is
    (#{D_F < v} + #{D_F <= v} + 1) / 2; s_R^2 = (m^2 - 1)/12 - sum_ties (t^3 - t) / (12 m)).
    Cost O(n d min(n, d) + n^2 pca_dim + n^2 log n) time and O(n^2) memory: above ``max_samples``
    samples (default 5000) it raises instead of subsampling; draw a class-stratified probe set first.

    Args:
        features: (n, d) real array or tensor (computed where it lives, CUDA included).
        labels: (n,) integers 0..C-1, every class present.
        pca_dim: number of principal components (official default 32); None, or pca_dim >= d, keeps
            the features as they are (standardised).
        max_samples: the largest n accepted.

    Returns:
        100 rho_S in [-100, 100]; higher is better.

    Raises:
        ValueError: n above ``max_samples``; every pair of samples of different classes (each class a
            single sample); fewer than two informative feature dimensions (every D_F equal).

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 4 + rng.standard_normal((60, 3))
        >>> round(parc(features, labels), 2)
        80.93
        >>> round(parc(rng.standard_normal((60, 3)), labels), 2)
        -1.0
    """
    checked = check_features(features)
    labels = check_labels(labels, checked.shape[0])
    n, d = checked.shape
    if n > max_samples:
        raise ValueError(
            f"parc: {n} samples is above max_samples={max_samples}; PARC compares all n(n-1)/2 pairs "
            f"(O(n^2) memory, {n * (n - 1) // 2} pairs here): score a class-stratified probe set of at most "
            f"{max_samples} samples (gtransfer rank/embed: --max-samples), or raise max_samples knowingly"
        )
    if pca_dim is not None and pca_dim < 1:
        raise ValueError(f"parc: pca_dim must be a positive integer or None, got {pca_dim}")
    return _parc(checked.backend, checked.features, labels, pca_dim)


@on_one_blas_thread
def _parc(be: Backend, features: Array, labels: np.ndarray, pca_dim: int | None) -> float:
    n = int(features.shape[0])
    x = be.rows(features, slice(None))
    varying = _varying_columns(be, x)
    x = x - be.column_sums(x)[None, :] / n  # a new array: the caller's is never written
    z, varying = _principal_components(be, x, pca_dim, varying)
    std = be.sqrt(be.column_sums(z * z) / n)
    scale = be.where(varying, 1.0 / be.maximum(std, 1e-300), 0.0)  # a constant column becomes 0
    z = z * scale[None, :]
    z = z - be.column_sums(z.T)[:, None] / int(z.shape[1])  # centre each row over its dimensions
    norms = be.sqrt(be.row_sq_norms(z))
    inverse = be.where(norms > 0, 1.0 / be.maximum(norms, 1e-300), 0.0)
    z = z * inverse[:, None]
    dissimilarity = 1.0 - z @ z.T
    upper = _upper_triangle(be, n)
    values = dissimilarity[upper]
    del dissimilarity
    y = as_backend(be, labels)
    different = cast("Array", y[:, None] != y[None, :])[upper]  # elementwise: numpy's stubs say bool
    pairs = int(values.shape[0])
    p = be.item(different.sum()) / pairs
    if p >= 1.0:
        raise ValueError("parc: every pair of samples has different labels (each class has one sample): "
                         "the label dissimilarity is constant and Spearman's correlation undefined")
    rank_sum, tie_sum = _rank_sum_and_ties(be, values[different], values[~different])
    untied = (pairs * pairs - 1) / 12.0  # the variance of the ranks 1..m; ties lower it
    variance = untied - tie_sum / (12.0 * pairs)
    spread = math.sqrt(max(variance, 0.0))  # population std of the average ranks
    if variance <= 1e-12 * untied:
        raise ValueError("parc: every pair of samples is equally dissimilar in the features (fewer than two "
                         "informative dimensions after standardisation): Spearman's correlation is undefined")
    mean_different = rank_sum / (p * pairs)
    return 100.0 * (mean_different - (pairs + 1) / 2.0) * math.sqrt(p / (1.0 - p)) / spread


def _varying_columns(be: Backend, x: Array) -> Array:
    """Whether each column takes more than one value: exact, where a variance after centring may be
    a rounding residue instead of 0."""
    if isinstance(x, np.ndarray):
        return x.max(0) > x.min(0)
    return x.amax(0) > x.amin(0)


def _principal_components(be: Backend, x: Array, pca_dim: int | None, varying: Array) -> tuple[Array, Array]:
    """Scores of the centred x on its top ``pca_dim`` principal components, and which of them vary
    (x itself and its varying columns when no reduction is asked). Components of zero variance (the
    rank of x is below pca_dim; ``rank_tolerance``) are kept as constant columns, never amplified
    noise. Signs are fixed by the loadings (largest |loading| positive), so the result does not
    depend on the row order."""
    n, d = int(x.shape[0]), int(x.shape[1])
    if pca_dim is None or pca_dim >= d:
        return x, varying
    k = min(pca_dim, n)
    if n >= d:
        values, vectors = be.eigh(x.T @ x)
        loadings = vectors[:, d - k:]
    else:
        values, vectors = be.eigh(x @ x.T)
        loadings = x.T @ vectors[:, n - k:]  # V diag(s) for the kept components: same signs as V
    kept = values[int(values.shape[0]) - k:]
    nonzero = kept > rank_tolerance(be.to_numpy(values), max(n, d))
    rows = be.arange(k)
    biggest = be.to_numpy(abs(loadings)).argmax(0)
    signs = be.where(loadings[as_backend(be, biggest), rows] < 0, -1.0, 1.0)
    return x @ (loadings * signs[None, :]), nonzero


def _upper_triangle(be: Backend, n: int) -> Array:
    """Boolean n x n mask of the pairs i < j (row-major order, as numpy's triu_indices)."""
    index = be.arange(n)
    return index[:, None] < index[None, :]


def _rank_sum_and_ties(be: Backend, first: Array, second: Array) -> tuple[float, float]:
    """(sum of the average ranks of ``first`` among all values of ``first`` and ``second``; sum of t^3 - t
    over the tie groups of all values), by the Mann-Whitney identity: the ranks of a group sum to
    k (k + 1) / 2 among itself (ties included) plus, for each of its values v, #{other < v} + #{other = v} / 2.
    The smaller group is searched in the larger one, sorted; the ties come from the merged sorted runs."""
    m_first, m_second = int(first.shape[0]), int(second.shape[0])
    small, large = (first, second) if m_first <= m_second else (second, first)
    if be.name == "numpy":
        small, large = np.sort(small), np.sort(large)
        merged = np.sort(np.concatenate([small, large]), kind="stable")  # two sorted runs: a linear merge
        tied = np.count_nonzero(merged[1:] == merged[:-1])
        below = np.searchsorted(large, small, side="left")
        upto = np.searchsorted(large, small, side="right") if tied else below
        crossing = (float(below.sum()) + float(upto.sum())) / 2.0
        if tied:
            starts = np.flatnonzero(merged[1:] != merged[:-1]) + 1
            runs = np.diff(np.concatenate([[0], starts, [merged.size]])).astype(np.float64)
            ties = float((runs**3 - runs).sum())
        else:
            ties = 0.0
    else:
        torch = be.torch
        small, large = torch.sort(small).values, torch.sort(large).values
        below = torch.searchsorted(large, small, side="left")
        upto = torch.searchsorted(large, small, side="right")
        crossing = (float(below.sum()) + float(upto.sum())) / 2.0
        merged = torch.sort(torch.cat([small, large])).values
        runs = torch.unique_consecutive(merged, return_counts=True)[1].to(be.dtype)
        ties = float((runs**3 - runs).sum())
    k = int(small.shape[0])
    small_sum = k * (k + 1) / 2.0 + crossing
    total = (m_first + m_second) * (m_first + m_second + 1) / 2.0
    return (small_sum if m_first <= m_second else total - small_sum), ties
