"""TransRate: coding-rate gap between the features and the features given the label."""

from __future__ import annotations

from ._backend import Array
from ._linalg import logdet_identity_plus
from ._statistics import FeatureStatistics, compute_statistics
from ._validation import check_features, check_labels

__all__ = ["transrate"]

TRANSRATE_NEEDS = frozenset({"gram", "class_grams"})


def transrate(features: Array, labels: Array, epsilon: float = 1e-4) -> float:
    r"""TransRate (Huang et al., "Frustratingly Easy Transferability Estimation", ICML 2022).

    With X the globally centred features and X_c its rows of class c (not re-centred),

    .. math::
        R(Z) = \tfrac12 \log\det\!\Big(I + \frac{Z^\top Z}{n_Z\, \epsilon}\Big), \qquad
        \mathrm{TrR} = R(X) - \frac1C \sum_c R(X_c),

    classes averaged unweighted, as in the reference (tllib). Each log-determinant is taken on the
    smaller side (Sylvester: det(I + Z^T Z / a) = det(I + Z Z^T / a)) by a Cholesky factor; the
    per-class products come from the same pass as the global one. The value depends on the scale of
    the features through epsilon.
    """
    if epsilon <= 0:
        raise ValueError(f"epsilon must be positive, got {epsilon}")
    features, backend, column_sums = check_features(features)
    labels = check_labels(labels, features.shape[0])
    stats = compute_statistics(features, labels, TRANSRATE_NEEDS, backend, column_sums)
    return transrate_from_statistics(stats, epsilon)


def transrate_from_statistics(stats: FeatureStatistics, epsilon: float = 1e-4) -> float:
    be = stats.backend
    total = 0.5 * logdet_identity_plus(be, stats.gram, 1.0 / (stats.n * epsilon))
    per_class = [
        0.5 * logdet_identity_plus(be, gram, 1.0 / (int(count) * epsilon))
        for gram, count in zip(stats.class_grams, stats.counts)
    ]
    return total - sum(per_class) / stats.num_classes
