r"""NCTI: how far a model's target features are from neural collapse (pool-relative).

Wang, Luo, Zheng, Huang, Baktashmotlagh, "How Far Pre-trained Models Are from Neural Collapse on the
Target Dataset Informs their Transferability", ICCV 2023 (official code: BUserName/NCTI, ``metrics.py``
``NCTI_Score`` and the pool combination in ``evaluate_metric_group1_cpu.py``).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from typing import TypeVar

import numpy as np

from ._backend import Array, on_one_blas_thread
from ._discriminant import (
    SHRINKAGE_FLOOR,
    Discriminant,
    between_scatter,
    checked_class_task,
    class_means,
    generalized_eigh,
    shrunk,
    within_scatter,
)
from ._pca import principal_components
from ._validation import as_backend
from .pool import score_pool

__all__ = ["ncti", "ncti_components", "NCTI_WEIGHTS"]

K = TypeVar("K", bound=Hashable)

#: NCTI = seli~ + ncc~ - vc~ after min-max normalisation over the pool.
NCTI_WEIGHTS = {"seli": 1.0, "ncc": 1.0, "vc": -1.0}

#: scikit-learn's ``LinearDiscriminantAnalysis(solver='svd')`` keeps between-class directions whose
#: singular value exceeds tol = 1e-4 times the largest, i.e. eigenvalues above 1e-8 times the largest.
_BETWEEN_RANK_TOLERANCE = 1e-8


@on_one_blas_thread
def ncti_components(
    features: Array, labels: Array, *, n_components: int = 64, device: str | None = None
) -> dict[str, float]:
    r"""The three per-model components of NCTI (not pool-relative): ``seli``, ``ncc``, ``vc``.

    With X the features projected on their top k principal components, k = min(``n_components``, r),
    r <= min(d, n - 1) the rank of the centred features (components of zero variance carry no data),
    and t = max(exp(-sum of the top max(1, k // 2) explained variances), 1e-10):

    * an LDA is fitted on (X, y): unshrunk when t is at its floor (the official
      ``LinearDiscriminantAnalysis(solver='svd')``: within-class covariance with the 1/(n - C)
      normaliser), else shrunk by t towards tr(S_w)/k I (``solver='eigen', shrinkage=t``);
    * ``seli`` = ||Z||_* (nuclear norm) of Z = X W, the centred projection on the top
      min(C - 1, k) discriminant directions W (W^T S W = I for the LDA's within-class matrix S);
    * ``ncc`` = (1/n) sum_i P(y_i | x_i), the LDA posterior of the true class;
    * ``vc`` = log sum_c ||P_c||_*, P_c the (n_c, C) posterior rows of class c.

    .. math::
        S_{seli} = \lVert Z \rVert_*, \quad S_{ncc} = \frac1n \sum_i P_{i, y_i}, \quad
        S_{vc} = \log \sum_c \lVert P_c \rVert_* .

    d < 64 (GNN embeddings): the official code runs ``PCA(n_components=64)`` and fails when d < 64 or
    n < 64; here k = min(64, r), so for d <= 64 the PCA is a rotation of all the (non-constant)
    directions, and t sums the top k // 2 variances (32 when k = 64, as the official code does). With
    d >= 64, n > 64 and full-rank features the components equal the official ones, up to the official
    PCA's randomized solver on large inputs (this PCA is exact). Scale: t, hence the LDA branch,
    depends on the features' scale (the official rule); ``seli``, ``ncc`` and ``vc`` are otherwise
    scale-invariant.

    Args:
        features: (n, d) array or tensor (numpy, torch on any device; float32 is computed in float64).
        labels: (n,) integers 0..C-1, every class present, C >= 2, n > C.
        n_components: the PCA size (official: 64).
        device: torch device to compute on (default: where the features live).

    Returns:
        {"seli": ..., "ncc": ..., "vc": ...}. Combine a pool's with :func:`gtransfer.metrics.pool.combine_components`
        and ``NCTI_WEIGHTS``, or call :func:`ncti`.

    Raises:
        ValueError: bad features or labels (see ``_validation``), n <= C, constant features, n_components < 1.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(200) % 2
        >>> features = rng.standard_normal((200, 5)) + 1.0 * labels[:, None]
        >>> {name: round(value, 3) for name, value in ncti_components(features, labels).items()}
        {'seli': 21.468, 'ncc': 0.819, 'vc': 3.123}
    """
    if isinstance(n_components, bool) or not isinstance(n_components, (int, np.integer)) or n_components < 1:
        raise ValueError(f"n_components must be a positive integer (official: 64), got {n_components!r}")
    checked, labels, counts = checked_class_task(features, labels, device)
    n, d = checked.shape
    num_classes = counts.size
    if n <= num_classes:
        raise ValueError(
            f"NCTI needs more samples than classes (n = {n}, C = {num_classes}): with one sample per class there is no "
            "within-class variability to measure; give more samples per class"
        )
    be = checked.backend
    pcs = principal_components(checked, top=int(n_components))
    keep = min(int(n_components), pcs.rank)  # the rank is at most min(d, n - 1)
    if keep == 0:
        raise ValueError("features are constant (every principal variance is zero): NCTI needs varying features")
    shrinkage = max(math.exp(-float(pcs.variances[: max(1, keep // 2)].sum())), SHRINKAGE_FLOOR)
    z = pcs.scores(keep)
    means = class_means(be, z, labels, counts)
    within = within_scatter(be, z, labels, means)
    between = between_scatter(be, means, counts)
    directions = min(num_classes - 1, keep)
    if shrinkage == SHRINKAGE_FLOOR:  # the official solver='svd': unshrunk, within covariance over n - C
        values, vectors, _ = generalized_eigh(be, between, within * (n / (n - num_classes)))
        if values.size and values[0] > 0:
            directions = min(directions, int((values > _BETWEEN_RANK_TOLERANCE * values[0]).sum()))
        else:
            directions = 0
        projection = vectors[:, :directions]
        inverse_means = projection @ (projection.T @ means.T)
    else:  # solver='eigen', shrinkage=t: S_w and S_t shrunk alike, V^T S_w~ V = I
        within_shrunk = shrunk(be, within, shrinkage, keep)
        total_shrunk = shrunk(be, within + between, shrinkage, keep)
        _, vectors, _ = generalized_eigh(be, total_shrunk - within_shrunk, within_shrunk)
        projection = vectors[:, :directions]
        inverse_means = be.solve(within_shrunk, means.T)
    seli = be.item(be.svdvals(z @ projection).sum()) if directions else 0.0
    discriminant = Discriminant.from_means(be, means, counts, inverse_means)
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    z_sorted = z[as_backend(be, order)]
    true_class, nuclear = 0.0, 0.0
    for c in range(num_classes):
        posteriors = be.exp(discriminant.log_posteriors(z_sorted[int(starts[c]) : int(starts[c + 1])]))
        true_class += be.item(posteriors[:, c].sum())
        nuclear += be.item(be.svdvals(posteriors).sum())
    return {"seli": seli, "ncc": true_class / n, "vc": math.log(nuclear)}


def ncti(
    features_by_model: Mapping[K, Array] | Sequence[Array],
    labels: Array,
    *,
    n_components: int = 64,
    device: str | None = None,
) -> dict[K | int, float]:
    r"""NCTI of every model of a candidate pool. **Pool-relative**: a model's score depends on the others.

    Each model's components (:func:`ncti_components`) are min-max normalised over the pool and combined:

    .. math::
        \mathrm{NCTI}(m) = \tilde S_{seli}(m) + \tilde S_{ncc}(m) - \tilde S_{vc}(m) \in [-1, 2],
        \qquad \tilde s(m) = \frac{s(m) - \min_{m'} s(m')}{\max_{m'} s(m') - \min_{m'} s(m')} .

    Higher means more transferable, within this pool only: adding or removing a candidate can
    change every score (only the order within one pool means anything). A component on which all
    models tie contributes 0 (the official code returns NaN). See :mod:`gtransfer.metrics.pool`.

    Args:
        features_by_model: the whole pool: {model name: (n, d_m) features} or a sequence of them
            (keyed 0..M-1), M >= 2; every model's features of the same n samples, in the same order.
        labels: (n,) integers 0..C-1, the same for every model.
        n_components, device: as :func:`ncti_components`.

    Returns:
        {model: NCTI score}, in the pool's order.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(300) % 3
        >>> signal = np.eye(8)[labels]
        >>> pool = {scale: rng.standard_normal((300, 8)) + scale * signal for scale in (0.0, 1.0, 4.0)}
        >>> {name: round(value, 3) for name, value in ncti(pool, labels).items()}
        {0.0: 0.0, 1.0: -0.578, 4.0: 1.149}

        Pure noise (0.0) scores above the weak model (1.0): its near-uniform posteriors have the
        smallest ``vc``, which NCTI rewards.
    """
    return score_pool(
        ncti_components, features_by_model, labels, NCTI_WEIGHTS, n_components=n_components, device=device
    )
