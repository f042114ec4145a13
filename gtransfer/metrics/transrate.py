"""TransRate: coding-rate gap between the features and the features given the label."""

from __future__ import annotations

import numpy as np

from ._backend import Array, on_one_blas_thread
from ._statistics import FeatureStatistics, coding_rate_log_scales, compute_statistics, logdet_identity_plus
from ._validation import check_features, check_labels

__all__ = ["transrate"]

TRANSRATE_NEEDS = frozenset({"gram", "class_coding_rates"})


def transrate(features: Array, labels: Array, *, epsilon: float = 1e-4) -> float:
    r"""TransRate (Huang et al., "Frustratingly Easy Transferability Estimation", ICML 2022).

    With X the globally centred features and X_c its rows of class c (not re-centred),

    .. math::
        R(Z) = \tfrac12 \log\det\!\Big(I + \frac{Z^\top Z}{n_Z\, \epsilon}\Big), \qquad
        \mathrm{TrR} = R(X) - \frac1C \sum_c R(X_c),

    classes averaged unweighted, as in the reference (tllib). Each log-determinant is taken on the
    smaller side (Sylvester: det(I + Z^T Z / a) = det(I + Z Z^T / a)) by a Cholesky factor; the
    per-class products come from the same pass as the global one, are batched where classes are
    small and reduced to their log-determinant as soon as each is complete (never one d x d matrix
    per class at once). The value depends on the scale of the features through epsilon; features of
    extreme magnitude are handled exactly (rescaled by a power of two, the log-determinants taken
    from eigenvalues where the scaled matrices would overflow), so any finite input gives the
    value of the formula at its own scale.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(transrate(features, labels), 4)
        0.2256
        >>> round(transrate(rng.standard_normal((60, 3)), labels), 4)
        0.0642
    """
    if epsilon <= 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    checked = check_features(features)
    labels = check_labels(labels, checked.shape[0])
    stats = compute_statistics(checked, labels, TRANSRATE_NEEDS, coding_rate_epsilon=epsilon)
    return transrate_from_statistics(stats)


@on_one_blas_thread
def transrate_from_statistics(stats: FeatureStatistics) -> float:
    """TrR from the shared statistics, at the epsilon they were computed with."""
    log_scale = coding_rate_log_scales(np.array([stats.n]), stats.coding_rate_epsilon, stats.log2_scale)[0]
    total = 0.5 * float(logdet_identity_plus(stats.backend, stats.gram, log_scale))
    return total - float(stats.class_coding_rates.mean())
