"""H-score and the shrinkage-based H-score H_alpha, with the Ledoit-Wolf shrinkage they use."""

from __future__ import annotations

import numpy as np

from ._backend import Array, on_one_blas_thread
from ._linalg import class_quadratic_form
from ._statistics import FeatureStatistics, compute_statistics
from ._validation import check_features, check_labels

__all__ = ["h_score", "shrinkage_h_score", "ledoit_wolf_shrinkage"]

H_SCORE_NEEDS = frozenset({"gram", "class_sums"})
SHRINKAGE_H_SCORE_NEEDS = frozenset({"gram", "class_sums", "row_sq_norms"})


def h_score(features: Array, labels: Array) -> float:
    r"""H-score of features for a classification target.

    Bao et al., "An Information-Theoretic Approach to Transferability in Task Transfer Learning"
    (ICIP 2019):

    .. math::
        H(f) = \operatorname{tr}\big(\operatorname{cov}(f)^{+}\, \operatorname{cov}(\mathbb{E}[f \mid y])\big)
             = \sum_c n_c\, \mu_c^\top (X^\top X)^{+} \mu_c,

    with X the centred features and mu_c the class means of X (both covariances share one
    normaliser, which cancels). Computed from one Gram product and a Cholesky solve with C
    right-hand sides; a numerically singular covariance (n <= d, or collinear features) gets the
    pseudo-inverse, so for n <= d the value saturates at C - 1 as in the reference.

    Args:
        features: (n, d) real array or tensor (any device).
        labels: (n,) integers 0..C-1, every class present, C >= 2.

    Returns:
        The H-score, a float in [0, C - 1]; higher means more transferable.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(h_score(features, labels), 4)
        1.1392
        >>> round(h_score(rng.standard_normal((60, 3)), labels), 4)
        0.0482
    """
    checked = check_features(features)
    labels = check_labels(labels, checked.shape[0])
    stats = compute_statistics(checked, labels, H_SCORE_NEEDS)
    return h_score_from_statistics(stats)


@on_one_blas_thread
def h_score_from_statistics(stats: FeatureStatistics) -> float:
    return class_quadratic_form(stats, 1.0, 0.0)


def ledoit_wolf_from_statistics(stats: FeatureStatistics) -> float:
    r"""Ledoit-Wolf shrinkage intensity from the Gram matrix and the row norms.

    Ledoit & Wolf, "A well-conditioned estimator for large-dimensional covariance matrices"
    (J. Multivariate Anal. 2004), in scikit-learn's normalisation: with S = X^T X / n, mu = tr(S)/d,

    .. math::
        \delta = \lVert S - \mu I \rVert_F^2 / d, \quad
        \beta = \frac{1}{n d}\Big(\frac{1}{n}\sum_k \lVert x_k\rVert^4 - \lVert S\rVert_F^2\Big), \quad
        \alpha = \min(\beta, \delta) / \delta.

    The fourth-moment term needs only the row norms (O(nd)), never the d x d matrix of squares;
    ||S||_F = ||X X^T||_F / n, so the dual (n < d) Gram matrix serves as well.
    """
    be, n, d = stats.backend, stats.n, stats.d
    norms = stats.row_sq_norms
    trace = be.item(norms.sum()) / n
    mu = trace / d
    frob2 = be.item(be.frobenius_sq(stats.gram)) / n**2
    beta = (be.item((norms * norms).sum()) / n - frob2) / (n * d)
    delta = (frob2 - 2.0 * mu * trace + d * mu**2) / d
    if delta <= 0.0:  # S is already a multiple of the identity: nothing to shrink
        return 0.0
    beta = min(beta, delta)
    return 0.0 if beta == 0 else beta / delta


def ledoit_wolf_shrinkage(features: Array) -> float:
    """The Ledoit-Wolf shrinkage alpha of the centred features (matches scikit-learn's LedoitWolf).

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(ledoit_wolf_shrinkage(features), 4)
        0.5817
    """
    checked = check_features(features)
    labels = np.zeros(checked.shape[0], dtype=np.int64)
    stats = compute_statistics(checked, labels, frozenset({"gram", "row_sq_norms"}))
    return ledoit_wolf_from_statistics(stats)


def shrinkage_h_score(features: Array, labels: Array, *, shrinkage: float | None = None) -> float:
    r"""Shrinkage-based H-score H_alpha (Ibrahim, Ponomareva, Mazumder, ECML-PKDD 2022).

    The covariance in the H-score is replaced by its Ledoit-Wolf shrinkage
    S_alpha = (1 - alpha) S + alpha (tr S / d) I, with S = X^T X / n and the between-class
    covariance shrunk by the same (1 - alpha):

    .. math::
        H_\alpha(f) = \operatorname{tr}\big(S_\alpha^{-1} (1-\alpha) \operatorname{cov}(\mathbb{E}[f\mid y])\big)
                    = \frac{1-\alpha}{n-1} \sum_c n_c\, \mu_c^\top S_\alpha^{-1} \mu_c .

    The between-class covariance uses the 1/(n-1) normaliser of the reference implementation
    (tllib ``regularized_h_score``), so values are comparable with published tables. S_alpha is
    positive definite for alpha > 0: one Cholesky factor (d x d, or n x n through the Woodbury /
    push-through identity when n < d) and C right-hand sides.

    Args:
        features: (n, d) real array or tensor.
        labels: (n,) integers 0..C-1, every class present.
        shrinkage: alpha in [0, 1]; None (default) estimates it with Ledoit-Wolf.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(shrinkage_h_score(features, labels), 4)
        0.5252
        >>> round(shrinkage_h_score(features, labels, shrinkage=0.0), 4)  # no shrinkage: the plain H-score
        1.1585
    """
    if shrinkage is not None and not 0.0 <= shrinkage <= 1.0:
        raise ValueError(f"shrinkage must be in [0, 1], got {shrinkage}")
    checked = check_features(features)
    labels = check_labels(labels, checked.shape[0])
    stats = compute_statistics(checked, labels, SHRINKAGE_H_SCORE_NEEDS)
    return shrinkage_h_score_from_statistics(stats, shrinkage=shrinkage)


@on_one_blas_thread
def shrinkage_h_score_from_statistics(stats: FeatureStatistics, *, shrinkage: float | None = None) -> float:
    alpha = ledoit_wolf_from_statistics(stats) if shrinkage is None else float(shrinkage)
    n, d = stats.n, stats.d
    mu = stats.backend.item(stats.row_sq_norms.sum()) / (n * d)
    if alpha == 1.0:  # S_alpha = mu I and the between-class term vanishes
        return 0.0
    quadratic = class_quadratic_form(stats, (1.0 - alpha) / n, alpha * mu)
    return (1.0 - alpha) / (n - 1) * quadratic
