"""LogME: the log maximum evidence of a Bayesian linear model on the features."""

from __future__ import annotations

import math
import warnings

import numpy as np

from ._backend import Array, Backend, _is_torch_tensor, on_one_blas_thread
from ._linalg import rank_tolerance
from ._statistics import FeatureStatistics, compute_statistics
from ._validation import _to_host, as_backend, check_features, check_labels

__all__ = ["logme", "logme_regression", "logme_multilabel"]

LOGME_NEEDS = frozenset({"gram", "class_sums", "mean_projection"})


def logme(features: Array, labels: Array, *, max_iter: int = 11, tol: float = 1e-3, epsilon: float = 1e-5) -> float:
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
    One eigendecomposition (of F^T F, or of F F^T when n < d) serves all classes; the iteration runs
    vectorised over classes with the reference's
    stopping rule (relative change of alpha/beta <= ``tol``, at most ``max_iter`` steps,
    ``epsilon`` added to both denominators).

    Args:
        features: (n, d) real array or tensor. labels: (n,) integers 0..C-1.

    Returns:
        Mean per-sample log evidence over classes (higher is better).

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(logme(features, labels), 4)
        -0.5338
        >>> round(logme(rng.standard_normal((60, 3)), labels), 4)
        -0.8699
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
    stats: FeatureStatistics, *, max_iter: int = 11, tol: float = 1e-3, epsilon: float = 1e-5
) -> float:
    sigma, z = _spectrum_and_class_coordinates(stats)
    if int(sigma.shape[0]) == 0:
        return _evidence_without_features(stats)
    norms = as_backend(stats.backend, stats.counts.astype(np.float64))  # ||y_c||^2 of a one-hot column = its count
    return float(_fixed_point_evidence(stats.backend, stats.n, stats.d, sigma, z, norms, max_iter, tol, epsilon).mean())


def logme_regression(
    features: Array, targets: Array, *, max_iter: int = 11, tol: float = 1e-3, epsilon: float = 1e-5
) -> float:
    r"""LogME of real-valued targets (You et al. 2021, ICML, Sec. 4: "regression"): the evidence of
    :func:`logme` with each target column y_t in place of a one-hot class column,

    .. math::
        \mathrm{LogME} = \frac{1}{T}\sum_t \mathcal{L}(F_t, y_t) / n_t,

    where column t uses only the n_t rows whose target is not NaN (missing labels of a multi-output
    regression). Same fixed point, stopping rule and log-determinant convention as :func:`logme`; the
    targets are used as given (standardise them first to compare targets of different scales).

    Args:
        features: (n, d) real array. targets: (n,) or (n, T) real array, NaN = missing.

    Returns:
        Mean per-sample log evidence over target columns (higher is better).

    Raises:
        ValueError: shapes that do not match, non-finite features, a column with fewer than 2 targets.

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> features = rng.standard_normal((60, 3))
        >>> targets = features @ np.array([1.0, -0.5, 0.25]) + 0.1 * rng.standard_normal(60)
        >>> round(logme_regression(features, targets), 4)
        0.5996
        >>> round(logme_regression(rng.standard_normal((60, 3)), targets), 4)
        -1.6151
    """
    features = np.asarray(features, dtype=np.float64)
    targets = np.asarray(targets, dtype=np.float64)
    if features.ndim != 2:
        raise ValueError(f"logme_regression: features must be (n, d), got shape {features.shape}")
    if targets.ndim == 1:
        targets = targets[:, None]
    if targets.ndim != 2 or targets.shape[0] != features.shape[0]:
        raise ValueError(
            f"logme_regression: targets must be ({features.shape[0]},) or ({features.shape[0]}, T), got {targets.shape}"
        )
    if not np.isfinite(features).all() or np.isinf(targets).any():
        raise ValueError("logme_regression: features must be finite and targets finite or NaN (missing)")
    checked = check_features(features)
    features, backend = np.asarray(checked.features, dtype=np.float64), checked.backend
    values = []
    for t in range(targets.shape[1]):
        rows = ~np.isnan(targets[:, t])
        if rows.sum() < 2:
            raise ValueError(
                f"logme_regression: target column {t} has {int(rows.sum())} non-missing values; needs at least 2"
            )
        f, y = features[rows], targets[rows, t]
        n, d = f.shape
        gram = f.T @ f if n >= d else f @ f.T
        sigma, vectors = backend.eigh(gram)
        keep = sigma > rank_tolerance(sigma, max(n, d))
        sigma, vectors = sigma[keep], vectors[:, keep]
        z = (vectors.T @ (f.T @ y)) / np.sqrt(sigma) if n >= d else vectors.T @ y  # U^T y
        values.append(
            _fixed_point_evidence(backend, n, d, sigma, z[:, None], np.array([y @ y]), max_iter, tol, epsilon)[0]
        )
    return float(np.mean(values))


def logme_multilabel(features: Array, labels: Array, *, max_iter: int = 11, tol: float = 1e-3,
                     epsilon: float = 1e-5) -> float:
    r"""LogME of a multi-label target (Tox21, ToxCast, SIDER as a whole): the mean over tasks of the binary
    :func:`logme` of each task on the rows labelled for it,

    .. math::
        \mathrm{LogME}_{ML} = \frac{1}{|T'|}\sum_{t \in T'} \mathrm{LogME}\big(F_{R_t}, y_{t, R_t}\big), \qquad
        \mathrm{LogME}(F, y) = \frac{1}{2n}\big(\mathcal{L}(F, y) + \mathcal{L}(F, 1 - y)\big),

    R_t the rows whose label for task t is not NaN, n = |R_t|, L the maximised evidence of :func:`logme`
    and T' the tasks with both classes among their labelled rows. A task with a single class there (or
    fewer than 2 labels) has no classification evidence: it is left out with a ``UserWarning`` that counts
    it; a target none of whose tasks qualifies is refused. Each task is the classification LogME of its
    two one-hot columns, so a one-task target scores as :func:`logme` does; the regression form on the
    0/1 column alone (:func:`logme_regression`, thuml/LogME issue 9) would score only the positive
    column. One eigendecomposition per task (tasks have different labelled rows).

    Args:
        features: (n, d) real array or tensor. labels: (n, T) of 0/1 with NaN for missing (or (n,)).

    Returns:
        Mean over the scored tasks of the per-sample log evidence (higher is better).

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = (rng.random((50, 3)) < 0.5).astype(float)
        >>> labels[:10, 2] = np.nan
        >>> features = rng.standard_normal((50, 4))
        >>> value = logme_multilabel(features, labels)
        >>> bool(np.isclose(value, np.mean([logme(features, labels[:, 0]), logme(features, labels[:, 1]),
        ...                                   logme(features[10:], labels[10:, 2])])))
        True
    """
    checked = check_features(features)
    host = np.asarray(_to_host(labels, "labels"), dtype=np.float64)
    n = checked.shape[0]
    if host.ndim == 1:
        host = host[:, None]
    if host.ndim != 2 or host.shape[0] != n:
        raise ValueError(f"logme_multilabel: labels must be ({n}, T) with NaN for missing, got shape {host.shape}")
    observed = host[~np.isnan(host)]
    if observed.size and not np.isin(observed, (0.0, 1.0)).all():
        bad = np.unique(observed[~np.isin(observed, (0.0, 1.0))])[:5].tolist()
        raise ValueError(f"logme_multilabel: labels must be 0, 1 or NaN (missing), got values such as {bad}; "
                         "for real-valued targets use logme_regression")
    values, skipped = [], []
    for task in range(host.shape[1]):
        rows = ~np.isnan(host[:, task])
        y = host[rows, task].astype(np.int64)
        if y.size < 2 or y.min() == y.max():
            skipped.append(task)
            continue
        subset = checked.features if rows.all() else _select_rows(checked.features, rows)
        values.append(logme(subset, y, max_iter=max_iter, tol=tol, epsilon=epsilon))
    if not values:
        raise ValueError(f"logme_multilabel: none of the {host.shape[1]} tasks has both classes among its labelled "
                         "rows; nothing to score")
    if skipped:
        listed = f"{skipped[:10]}{' ...' if len(skipped) > 10 else ''}"
        warnings.warn(f"logme_multilabel: {len(skipped)} of {host.shape[1]} tasks left out, a single class among "
                      f"their labelled rows (tasks {listed})", UserWarning, stacklevel=2)
    return float(np.mean(values))


def _select_rows(features: Array, rows: np.ndarray) -> Array:
    """features[rows] where the features live (a torch tensor is indexed on its own device)."""
    if _is_torch_tensor(features):
        import torch

        return features.index_select(0, torch.as_tensor(np.flatnonzero(rows), device=features.device))
    return features[rows]


def _fixed_point_evidence(be: Backend, n: int, d: int, sigma: Array, z: Array, norms: Array, max_iter: int, tol: float,
                          epsilon: float) -> np.ndarray:
    """Maximised evidence per column (see :func:`logme`): ``sigma`` the k nonzero eigenvalues of F^T F,
    ``z`` (k, C) the coordinates U^T y of each column, ``norms`` (C,) the squared norms ||y||^2."""
    k = int(sigma.shape[0])
    sigma = sigma[:, None]  # (k, 1), broadcast over columns
    z2 = z * z  # (k, C)
    outside = norms - z2.sum(0)  # ||y||^2 - ||z||^2, the residual outside the span of F
    outside = outside * (outside > 0)  # >= 0: rounding leaves -1e-15 where y lies in the span (k = n)
    num_classes = int(z.shape[1])
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
    return evidence


def _evidence_without_features(stats: FeatureStatistics) -> float:
    r"""LogME of all-zero features: the supremum of the evidence, reached as alpha -> infinity
    (w = 0), where only the noise model is left: with beta = n / ||y_c||^2 = n / n_c,

    .. math:: \mathcal{L}_c / n = \tfrac12 \log(n / n_c) - \tfrac12 - \tfrac12 \log 2\pi .

    The fixed point itself would drive alpha to 0/0 here (the reference returns NaN)."""
    counts = stats.counts.astype(np.float64)
    per_class = 0.5 * np.log(stats.n / counts) - 0.5 - 0.5 * math.log(2.0 * math.pi)
    return float(per_class.mean())
