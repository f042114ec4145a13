r"""ETran: energy-based transferability (pool-relative).

Gholami, Akbari, Wang, Kamranian, Zhang, "ETran: Energy-Based Transferability Estimation", ICCV 2023
(arXiv 2308.02027; official code: mgholamikn/ETran, ``metrics.py`` ``Energy_Score`` and ``LDA_Score``,
the pool combination in ``tw.py``). The classification form: an energy term (label-free) and an LDA
term; the paper's regression term (object detection) is not implemented.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterator, Mapping, Sequence
from fractions import Fraction
from typing import Literal, TypeVar

import numpy as np

from ._backend import Array, NotPositiveDefiniteError, on_one_blas_thread
from ._discriminant import Discriminant, checked_class_task, class_means, lda_shrinkage, shrunk, within_scatter
from ._pca import principal_components
from ._statistics import compute_statistics
from ._validation import CheckedFeatures, as_backend, check_features
from .pool import score_pool

__all__ = ["etran", "etran_components", "etran_energy", "etran_cls", "ETRAN_WEIGHTS", "ETRAN_MODES"]

K = TypeVar("K", bound=Hashable)

#: ETran = 0.15 energy~ + 0.85 cls~ after min-max normalisation over the pool (tw.py).
ETRAN_WEIGHTS = {"energy": 0.15, "cls": 0.85}
ETRAN_MODES = ("lda", "official")

_BLOCK_BYTES = 2**24


def _blocks(checked: CheckedFeatures, *, centred: bool) -> Iterator[tuple[int, int, Array]]:
    """float64 row blocks of the checked features on their backend, optionally minus the global mean."""
    n, d = checked.shape
    mean = checked.column_sums / n
    step = max(1, _BLOCK_BYTES // (8 * d))  # blocks of 16 MiB: their centred copies stay in cache
    for start in range(0, n, step):
        rows = checked.backend.rows(checked.features, slice(start, min(n, start + step)))
        yield start, min(n, start + step), (rows - mean) if centred else rows


def _caller_units(checked: CheckedFeatures) -> float:
    """The factor 4**-log2_scale turning a second moment of the checked features into the caller's units,
    clamped to 2**+-1000 (beyond, exp(-5 lambda) and the posteriors are already at their limits)."""
    return math.ldexp(1.0, max(-1000, min(1000, -2 * checked.log2_scale)))


def _span_coordinates(checked: CheckedFeatures) -> Array:
    """(n, m) centred coordinates of the samples in an orthonormal frame of their span (n < d).

    The rows of the Cholesky factor L of K + (s/n) 1 1^T (K the centred kernel, s its mean diagonal)
    have the inner products of the centred samples plus s/n, i.e. they are the samples with one constant
    coordinate appended, in a rotated frame; a rotation and a constant coordinate change no LDA posterior
    (the shrinkage target carries the original d). One factorisation (n^3/3) instead of an
    eigendecomposition. When K has rank below n - 1 (repeated samples) the principal scores of its
    non-null components serve instead."""
    from ._linalg import _SINGULAR_PIVOT

    be = checked.backend
    n, _ = checked.shape
    kernel = compute_statistics(checked, np.zeros(n, dtype=np.int64), frozenset({"gram"})).gram
    scale = be.item(be.diag(kernel).sum()) / n
    if scale > 0:
        try:
            lower = be.cholesky(kernel + scale / n)
            pivots = be.to_numpy(be.diag(lower)) ** 2
            if pivots.min() > _SINGULAR_PIVOT * pivots.max():
                return lower - lower.sum(0) / n
        except NotPositiveDefiniteError:
            pass
    pcs = principal_components(checked)
    return pcs.scores(pcs.rank)


def _tail_count(tail: float, n: int) -> int:
    """max(1, floor(tail * n)), with tail read as the decimal it was written as (0.005 * 1000 = 5 exactly)."""
    return max(1, math.floor(Fraction(tail).limit_denominator(10**9) * n))


@on_one_blas_thread
def etran_energy(features: Array, *, tail: float = 0.005, device: str | None = None) -> float:
    r"""ETran's energy term: the mean of the lowest ``tail`` fraction of the per-sample logsumexp.

    .. math::
        e_i = \log \sum_j \exp F_{ij}, \qquad
        S_{en} = \frac1q \sum_{i \in \text{lowest } q} e_i, \quad q = \max(1, \lfloor \mathrm{tail} \cdot n \rfloor).

    The features are read as logits at temperature 1 (the released code's choice); label-free; higher
    is better. The official count is floor(5 n / 1000), empty (NaN) below n = 200; here at least one
    sample. The value depends on the features' shift, scale and dimension (flat features give
    log d), so comparisons across architectures carry that bias.

    Args:
        features: (n, d) array or tensor. tail: the fraction in (0, 1] (official 0.005).
        device: torch device to compute on (default: where the features live).

    Examples:
        >>> import numpy as np
        >>> round(etran_energy(np.zeros((400, 8))), 6) == round(float(np.log(8)), 6)
        True
    """
    if not 0.0 < tail <= 1.0:
        raise ValueError(f"tail must be a fraction in (0, 1] (official 0.005), got {tail}")
    # the energy reads the features' values (a logsumexp per row), so a constant column counts here
    checked = check_features(features, device=device, keep_constant_columns=True)
    n, _ = checked.shape
    be = checked.backend
    energies = np.empty(n)
    for start, end, rows in _blocks(checked, centred=False):
        if checked.log2_scale:  # back to the caller's units: exact, a power of two in two steps
            half = -checked.log2_scale // 2
            rows = rows * math.ldexp(1.0, half) * math.ldexp(1.0, -checked.log2_scale - half)
        energies[start:end] = be.to_numpy(be.logsumexp_rows(rows))
    count = _tail_count(tail, n)
    return float(np.partition(energies, count - 1)[:count].mean())


@on_one_blas_thread
def etran_cls(
    features: Array, labels: Array, *, mode: Literal["lda", "official"] = "lda", device: str | None = None
) -> float:
    r"""ETran's classification term: the mean posterior of the true class under a linear discriminant.

    .. math::
        S_{cls} = \frac1n \sum_i \operatorname{softmax}_c\big(x_i^\top A \mu_c - \tfrac12 \mu_c^\top A \mu_c
                  + \log \pi_c\big)_{y_i} .

    ``mode="lda"`` (default, the paper's intent; = SFDA's first stage): A = Shrink(S_w, lambda)^{-1}
    with S_w the prior-weighted population within-class covariance, Shrink(S, l) = (1 - l) S +
    l (tr S / d) I and lambda = max(exp(-5 lambda_max(S_w)), 1e-10), lambda_max exact (the released
    code uses 3 power iterations). When n < d the LDA runs exactly on the span of the centred
    samples (every sample, mean and scatter lies there), with the shrinkage target tr(S_w)/d of the
    original d; with lambda at its 1e-10 floor the posteriors then saturate near 1.

    ``mode="official"``: the released behaviour. Its ``numpy.linalg.eigh`` on the non-symmetric
    S_w^{-1} S_b returns an orthonormal basis, so V V^T = I and A = I: the Euclidean nearest-class-mean
    posterior softmax(-1/2 ||x - mu_c||^2 + log pi_c), which is scale-dependent and ignores the
    covariance.

    Args:
        features: (n, d) array or tensor. labels: (n,) integers 0..C-1, every class present, C >= 2.
        mode: "lda" or "official". device: torch device to compute on.

    Raises:
        ValueError: bad input; mode "lda" on features whose classes are each a single point
            (zero within-class scatter: the LDA posterior is 0/0).

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(100) % 2
        >>> features = np.random.default_rng(0).standard_normal((100, 4)) + 5.0 * labels[:, None]
        >>> round(etran_cls(features, labels), 3), round(etran_cls(features, labels, mode="official"), 3)
        (1.0, 1.0)
    """
    if mode not in ETRAN_MODES:
        raise ValueError(f"mode must be one of {ETRAN_MODES}, got {mode!r}")
    checked, labels, counts = checked_class_task(features, labels, device)
    n, d = checked.shape
    be = checked.backend
    if mode == "official":
        stats = compute_statistics(checked, labels, frozenset({"class_sums"}))
        means = stats.class_sums / as_backend(be, counts.astype(np.float64))[:, None]
        # -1/2 ||x - mu||^2 in the caller's units: the checked ones carry 4**log2_scale (exact powers of two)
        discriminant = Discriminant.from_means(be, means, counts, means.T * _caller_units(checked))
        return discriminant.true_class_probability_sum(
            (rows, labels[start:end]) for start, end, rows in _blocks(checked, centred=True)
        ) / n
    if n >= d:  # primal: S_w = S_t - S_b from the shared Gram pass, rows streamed for the posteriors
        stats = compute_statistics(checked, labels, frozenset({"gram", "class_sums"}))
        means = stats.class_sums / as_backend(be, counts.astype(np.float64))[:, None]
        within = (stats.gram - (means * as_backend(be, counts.astype(np.float64))[:, None]).T @ means) / n
        within = 0.5 * (within + within.T)
        blocks: Iterator[tuple[Array, np.ndarray]] = (
            (rows, labels[s:e]) for s, e, rows in _blocks(checked, centred=True)
        )
    else:  # dual: coordinates of the samples in their own span (every sample, mean and scatter lies there)
        z = _span_coordinates(checked)
        means = class_means(be, z, labels, counts)
        within = within_scatter(be, z, labels, means)
        blocks = iter([(z, labels)])
    largest = float(np.max(be.to_numpy(be.eigvalsh(within)), initial=0.0)) if within.shape[0] else 0.0
    if largest <= 0.0:
        raise ValueError(
            "every class is a single point (zero within-class scatter): the LDA posterior is undefined (0/0); "
            "use mode='official' or features with within-class variation"
        )
    shrinkage = lda_shrinkage(largest * _caller_units(checked))
    within_shrunk = shrunk(be, within, shrinkage, d)
    discriminant = Discriminant.from_means(be, means, counts, be.solve(within_shrunk, means.T))
    return discriminant.true_class_probability_sum(blocks) / n


def etran_components(
    features: Array,
    labels: Array,
    *,
    mode: Literal["lda", "official"] = "lda",
    tail: float = 0.005,
    device: str | None = None,
) -> dict[str, float]:
    """The two per-model components of ETran (not pool-relative): ``energy`` (:func:`etran_energy`) and
    ``cls`` (:func:`etran_cls`).

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(100) % 2
        >>> features = np.random.default_rng(0).standard_normal((100, 4)) + 5.0 * labels[:, None]
        >>> sorted(etran_components(features, labels))
        ['cls', 'energy']
    """
    return {
        "energy": etran_energy(features, tail=tail, device=device),
        "cls": etran_cls(features, labels, mode=mode, device=device),
    }


def etran(
    features_by_model: Mapping[K, Array] | Sequence[Array],
    labels: Array,
    *,
    mode: Literal["lda", "official"] = "lda",
    tail: float = 0.005,
    energy_weight: float = 0.15,
    device: str | None = None,
) -> dict[K | int, float]:
    r"""ETran of every model of a candidate pool. **Pool-relative**: a model's score depends on the others.

    .. math::
        \mathrm{ETran}(m) = w\, \tilde S_{en}(m) + (1 - w)\, \tilde S_{cls}(m) \in [0, 1], \qquad
        \tilde s(m) = \frac{s(m) - \min_{m'} s(m')}{\max_{m'} s(m') - \min_{m'} s(m')},

    w = ``energy_weight`` (0.15 in the released ``tw.py``). Higher means more transferable, within this
    pool only: adding or removing a candidate can change every score. A component on which every model
    ties contributes 0 (the released code gives NaN). See :mod:`gtransfer.metrics.pool`.

    Args:
        features_by_model: the whole pool: {model name: (n, d_m) features} or a sequence of them
            (keyed 0..M-1), M >= 2; the same n samples in the same order for every model.
        labels: (n,) integers 0..C-1, the same for every model.
        mode: "lda" (default) or "official" (:func:`etran_cls`). tail: :func:`etran_energy`.
        energy_weight: w in [0, 1]. device: torch device to compute on.

    Returns:
        {model: ETran score}, in the pool's order.

    Examples:
        A pool given as a list is keyed by position:

        >>> import numpy as np
        >>> rng = np.random.default_rng(1)
        >>> labels = np.arange(200) % 2
        >>> pool = [rng.standard_normal((200, 6)) + shift * labels[:, None] for shift in (0.5, 2.0, 0.0)]
        >>> {model: round(value, 3) for model, value in etran(pool, labels).items()}
        {0: 0.349, 1: 1.0, 2: 0.0}
    """
    if not 0.0 <= energy_weight <= 1.0:
        raise ValueError(f"energy_weight must be in [0, 1] (official 0.15), got {energy_weight}")
    weights = {"energy": energy_weight, "cls": 1.0 - energy_weight}
    return score_pool(etran_components, features_by_model, labels, weights, mode=mode, tail=tail, device=device)
