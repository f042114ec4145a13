"""One pass over the features that yields every statistic the metrics share.

With X = F - mean(F) the centred features, the pass computes (as requested):

* ``gram``: X^T X (d x d) when n >= d ("primal"), else the kernel X X^T (n x n, "dual"); this
  product is the cost floor of every covariance-based metric, and nothing else costs as much;
* ``class_sums``: sum of the centred rows of each class, so mu_c = class_sums[c] / n_c;
* ``row_sq_norms``: ||x_k||^2 for each sample (the Ledoit-Wolf numerator needs sum_k ||x_k||^4);
* ``class_sq_sums``: per-class sums of squared centred entries (per-class variances, for GBC);
* ``class_coding_rates``: per class, TransRate's R(X_c) = 1/2 logdet(I + X_c^T X_c / (n_c eps)),
  taken on the smaller side from the same blocks that build ``gram``; each class's product is
  reduced to its log-determinant as soon as it is complete (classes with n_c >= 0.4 d one at a time,
  smaller ones in batches of a bounded size), so at most one d x d class matrix is ever held;
* ``mean_projection``: X m, with m the mean, which turns the centred kernel into the raw one
  (LogME works on uncentred features), dual only.

Routes. Primal, when no per-class second moments are needed: no copy of F, rows in their own order
(in blocks converted to float64 when F is float32 or lives on another device), X^T X = F^T F - n m m^T;
the raw Gram's diagonal then tells, column by column, how much of the centred value the subtraction
cancelled, and if any column's mean exceeds ``_MAX_MEAN_OVER_STD`` of its standard deviation (more than
2 of float64's 16 digits lost) the route is abandoned for explicit centring. Primal otherwise: rows
gathered in class order into a reusable block buffer, centred in place, folded into the Gram matrix
block by block. Dual, when no per-class second moments are needed: the raw kernel F F^T centred as an
n x n matrix, while |m|^2 is at most ``_MAX_MEAN_OVER_STD``^2 times the mean squared norm of the
centred rows (the kernel entries' scale). Dual otherwise: centred column blocks (x = F[:, J] - m_J, at
most ``DUAL_BLOCK_BYTES`` each); the kernel is the sum of their products, in the rows' own order.

Data on another device than the backend (a numpy array scored on CUDA) are streamed there in these
blocks, so inputs larger than the GPU's memory are scored as long as the d x d (or n x n) results fit.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._backend import Array, Backend
from ._validation import CheckedFeatures, as_backend

__all__ = ["FeatureStatistics", "compute_statistics", "STATISTICS", "logdet_identity_plus", "coding_rate_log_scales"]

STATISTICS = frozenset({"gram", "class_sums", "row_sq_norms", "class_sq_sums", "class_coding_rates", "mean_projection"})

DEFAULT_BLOCK_BYTES = 128 * 2**20

#: Column blocks of the dual pass stay smaller: their centred copies and squares are then reused
#: from cache and the allocator (all statistics at n = 1000, d = 4096, C = 100, one thread: 0.73 s
#: with 16 MiB blocks, 1.2-1.8 s with one 32 MiB block).
DUAL_BLOCK_BYTES = 16 * 2**20

#: The copy-free primal route is kept only while every column's mean is at most this many standard
#: deviations: F^T F - n m m^T then cancels at most log10(1 + 10^2) = 2 digits of a diagonal entry.
_MAX_MEAN_OVER_STD = 10.0

#: exp(+-_SAFE_LOG_SCALE) times a Gram matrix of features in the safe magnitude window stays finite
#: and normal; beyond, log-determinants go through the eigenvalues.
_SAFE_LOG_SCALE = 400.0


@dataclass
class FeatureStatistics:
    """Statistics of (features, labels); arrays live on the backend, rows in ``row_labels`` order.

    Quantities are in the units of the checked features, i.e. the original ones times
    2**``log2_scale`` (0 unless the input's magnitude was extreme).
    """

    backend: Backend
    n: int
    d: int
    counts: np.ndarray  # (C,) host int64
    mean: Array  # (d,)
    primal: bool
    log2_scale: int = 0
    # The arrays below are None until compute_statistics fills the ones its ``needs`` ask for, and a metric reads
    # only those it asked for: typed as present, so the readers need no None check (the ignores say so).
    gram: Array = None  # type: ignore[assignment]  # (d, d) X^T X if primal else (n, n) X X^T
    class_sums: Array = None  # type: ignore[assignment]  # (C, d)
    row_sq_norms: Array = None  # type: ignore[assignment]  # (n,)
    class_sq_sums: Array = None  # type: ignore[assignment]  # (C, d)
    class_coding_rates: np.ndarray = None  # type: ignore[assignment]  # (C,) host float64, in the original units
    coding_rate_epsilon: float = 1e-4
    mean_projection: Array = None  # type: ignore[assignment]  # (n,) X m, dual only
    row_labels: np.ndarray = None  # type: ignore[assignment]  # (n,) host labels in the row order of the (n, .) arrays

    @property
    def num_classes(self) -> int:
        return int(self.counts.size)

    def class_indicator(self) -> Array:
        """The (n, C) one-hot class matrix E in the row order of the kernel, built on the backend."""
        return self.backend.one_hot(as_backend(self.backend, self.row_labels), self.num_classes)


def logdet_identity_plus(backend: Backend, matrices: Array, log_scales: np.ndarray | float) -> np.ndarray:
    """log det(I + a M) for symmetric PSD M (one, or a stack (B, m, m)), with a = exp(log_scales).

    Within ``_SAFE_LOG_SCALE`` by a Cholesky factor (batched over the stack); otherwise (or if a
    factorisation fails) from the eigenvalues, sum_i log(1 + e^{log a + log lambda_i}), which holds
    at any scale. Returns host float64 of the stack's shape (a 0-d array for one matrix).
    """
    log_scales = np.asarray(log_scales, dtype=np.float64)
    if matrices.shape[-1] == 0:
        return np.zeros(log_scales.shape)
    scales = as_backend(backend, np.exp(np.clip(log_scales, -_SAFE_LOG_SCALE, _SAFE_LOG_SCALE)))
    if np.all(np.abs(log_scales) <= _SAFE_LOG_SCALE):
        shifted = matrices * (scales[..., None, None] if log_scales.ndim else scales) + backend.eye(matrices.shape[-1])
        lower = backend.batched_cholesky(shifted, overwrite=True)  # shifted is scratch
        if lower is not None:
            pivots = lower.diagonal(0, -2, -1)
            return np.asarray(backend.to_numpy(2.0 * backend.log(pivots).sum(-1)), dtype=np.float64).reshape(
                log_scales.shape
            )
    values = backend.eigvalsh(matrices)
    # eigenvalues within rounding of zero (numpy's matrix_rank rule) are zero: log 0 = -inf, no contribution
    tolerance = values[..., -1] * (matrices.shape[-1] * float(np.finfo(np.float64).eps))  # ascending: the largest last
    values = backend.where(values > (tolerance[..., None] if log_scales.ndim else tolerance), values, 0.0)
    with np.errstate(divide="ignore"):
        logs = backend.log(values)
    shift = as_backend(backend, log_scales)
    total = backend.softplus(logs + (shift[..., None] if log_scales.ndim else shift)).sum(-1)
    return np.asarray(backend.to_numpy(total), dtype=np.float64).reshape(log_scales.shape)


def coding_rate_log_scales(counts: np.ndarray, epsilon: float, log2_scale: int) -> np.ndarray:
    """log of 1/(n_c eps) in the checked features' units (their products carry 4**log2_scale)."""
    return -np.log(np.asarray(counts, dtype=np.float64) * epsilon) - 2.0 * log2_scale * math.log(2.0)


def _coding_rate_on_d_side(counts: np.ndarray, d: int) -> np.ndarray:
    """Which classes take R(X_c) from the d x d product X_c^T X_c rather than the n_c x n_c one.

    X_c^T X_c is one term of the global X^T X (the rows are centred globally, not per class), so it
    costs nothing beyond the Gram product; the d x d Cholesky factor then costs d^3/3. The n_c x n_c
    side costs a separate product (2 n_c^2 d, a batched GEMM) and an n_c^3/3 factor. Hence the d side
    from d^3 <= 6 n_c^2 d + n_c^3 on (n_c >= 0.4 d): TransRate at n = 5000, d = 512, C = 10 took 3.8x
    one Gram product on the n_c side and 1.9x on the d side (one BLAS thread)."""
    sizes = np.asarray(counts, dtype=np.float64)
    return float(d) ** 3 <= 6.0 * sizes**2 * d + sizes**3


def _plan_blocks(counts: np.ndarray, d: int, max_rows: int, class_aligned: bool) -> list[tuple[int, int]]:
    """Row ranges of the class-sorted matrix. Class-aligned plans never split a class whose
    coding rate is taken on the n_c side, and give each class taken on the d side (see
    ``_coding_rate_on_d_side``) blocks of its own, so per-class products come from the same blocks
    as the global one."""
    n = int(counts.sum())
    if not class_aligned:
        return [(s, min(n, s + max_rows)) for s in range(0, n, max_rows)]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    d_side = _coding_rate_on_d_side(counts, d)
    blocks, c, num_classes = [], 0, counts.size
    while c < num_classes:
        if d_side[c]:
            start, end = int(bounds[c]), int(bounds[c + 1])
            blocks += [(s, min(end, s + max_rows)) for s in range(start, end, max_rows)]
            c += 1
            continue
        last = c + 1
        while last < num_classes and not d_side[last] and bounds[last + 1] - bounds[c] <= max_rows:
            last += 1
        blocks.append((int(bounds[c]), int(bounds[last])))
        c = last
    return blocks


def compute_statistics(
    checked: CheckedFeatures,
    labels: np.ndarray,
    needs: set[str] | frozenset[str],
    block_bytes: int | None = None,
    coding_rate_epsilon: float = 1e-4,
) -> FeatureStatistics:
    """Compute the requested statistics in one pass (see the module docstring); blocks of at most
    ``block_bytes`` (default ``DEFAULT_BLOCK_BYTES``, read at call time)."""
    block_bytes = block_bytes or DEFAULT_BLOCK_BYTES
    unknown = set(needs) - STATISTICS
    if unknown:
        raise ValueError(f"unknown statistics requested: {sorted(unknown)}")
    backend, features = checked.backend, checked.features
    n, d = checked.shape
    counts = np.bincount(labels)
    stats = FeatureStatistics(
        backend=backend, n=n, d=d, counts=counts, mean=checked.column_sums / n, primal=n >= d,
        log2_scale=checked.log2_scale, coding_rate_epsilon=coding_rate_epsilon,
    )
    max_rows = max(1, block_bytes // (8 * d))
    if not stats.primal:
        if set(needs) <= _UNCENTRED_DUAL_NEEDS and _uncentred_dual_pass(features, labels, stats, needs):
            return stats
        max_columns = max(1, min(block_bytes, DUAL_BLOCK_BYTES) // (8 * n))
        _dual_pass(features, labels, stats, needs, max_columns=max_columns, block_bytes=block_bytes)
        return stats
    if not needs & {"class_sq_sums", "class_coding_rates"} and _uncentred_primal_pass(
        features, labels, stats, needs, max_rows
    ):
        return stats
    host_order = np.argsort(labels, kind="stable")
    stats.row_labels = labels[host_order]
    _sorted_primal_pass(features, as_backend(backend, host_order), stats, needs, max(d, max_rows), block_bytes)
    return stats


def _row_blocks(features: Array, backend: Backend, n: int, max_rows: int) -> Iterator[tuple[int, int, Array]]:
    """(start, end, float64 rows on the backend): the features themselves when they already are."""
    if backend.owns(features) and getattr(features, "dtype", None) in (np.float64, getattr(backend, "dtype", None)):
        yield 0, n, features
        return
    for start in range(0, n, max_rows):
        end = min(n, start + max_rows)
        yield start, end, backend.rows(features, slice(start, end))


def _uncentred_primal_pass(
    features: Array, labels: np.ndarray, stats: FeatureStatistics, needs: set[str] | frozenset[str], max_rows: int
) -> bool:
    """n >= d without a centred or sorted copy of F: X^T X = F^T F - n m m^T, class sums from a
    one-hot product, centred row norms from the raw ones. Returns False (keeping nothing) when a
    column's mean is too large against its spread for the subtraction (see ``_MAX_MEAN_OVER_STD``)."""
    b, m, n, d = stats.backend, stats.mean, stats.n, stats.d
    gram = b.zeros((d, d))
    class_sums = b.zeros((stats.num_classes, d)) if "class_sums" in needs else None
    raw_norms = b.empty((n,)) if "row_sq_norms" in needs else None
    # typed Any: None unless ``needs`` asks for it, and read only under the same condition
    projection: Any = b.empty((n,)) if "row_sq_norms" in needs else None
    for start, end, x in _row_blocks(features, b, n, max_rows):
        gram += x.T @ x
        if class_sums is not None:
            class_sums += b.class_sums(x, labels[start:end], stats.num_classes)
        if raw_norms is not None:
            raw_norms[start:end] = b.row_sq_norms(x)
            projection[start:end] = x @ m
    column_offsets = m * m * n
    centred_diagonal = b.diag(gram) - column_offsets
    ratio = b.to_numpy(column_offsets) / np.maximum(b.to_numpy(centred_diagonal), np.finfo(np.float64).tiny)
    if float(ratio.max()) > _MAX_MEAN_OVER_STD**2:
        return False
    gram -= n * (m[:, None] * m[None, :])
    stats.gram = gram
    stats.row_labels = labels
    if class_sums is not None:
        counts = as_backend(b, stats.counts.astype(np.float64))
        stats.class_sums = class_sums - counts[:, None] * m[None, :]
    if raw_norms is not None:
        stats.row_sq_norms = raw_norms - 2.0 * projection + b.item((m * m).sum())
    return True


_UNCENTRED_DUAL_NEEDS = frozenset({"gram", "class_sums", "row_sq_norms", "mean_projection"})


def _uncentred_dual_pass(
    features: Array, labels: np.ndarray, stats: FeatureStatistics, needs: set[str] | frozenset[str]
) -> bool:
    """n < d without a centred copy of F: K = F F^T - r 1^T - 1 r^T + |m|^2 11^T (r = F m), centred as an
    n x n matrix. Kernel entries then carry an error of about eps |m|^2 against their scale, the mean
    squared norm of the centred rows: kept only while the ratio is at most ``_MAX_MEAN_OVER_STD``^2
    (2 digits), for float64 features on the backend; returns False (keeping nothing) otherwise."""
    b, m, n = stats.backend, stats.mean, stats.n
    if not (b.owns(features) and getattr(features, "dtype", None) in (np.float64, getattr(b, "dtype", None))):
        return False
    kernel = features @ features.T
    projection = features @ m  # f_i . m
    offset = b.item((m * m).sum())
    centred_mean_sq_norm = b.item(b.diag(kernel).sum()) / n - offset
    if offset > _MAX_MEAN_OVER_STD**2 * max(centred_mean_sq_norm, 0.0):
        return False
    kernel -= projection[:, None]  # centred in place: no n x n temporaries
    kernel -= projection[None, :]
    kernel += offset
    stats.gram, stats.row_labels = kernel, labels
    if "class_sums" in needs:
        counts = as_backend(b, stats.counts.astype(np.float64))
        stats.class_sums = b.class_sums(features, labels, stats.num_classes) - counts[:, None] * m[None, :]
    if "row_sq_norms" in needs:
        stats.row_sq_norms = b.diag(kernel) + 0.0
    if "mean_projection" in needs:
        stats.mean_projection = projection - offset  # x_i . m = f_i . m - |m|^2
    return True


def _segments(block: tuple[int, int], bounds: np.ndarray) -> tuple[slice, np.ndarray]:
    """The classes meeting a block (a slice of class ids) and where each starts inside it."""
    start, end = block
    first = int(np.searchsorted(bounds, start, side="right") - 1)
    last = int(np.searchsorted(bounds, end, side="left"))
    starts = np.maximum(bounds[first:last], start) - start
    return slice(first, last), starts


def _size_batches(sizes: np.ndarray, row_length: int, block_bytes: int) -> Iterator[np.ndarray]:
    """Indices into ``sizes``, grouped by similar size so that a zero-padded (B, m, row_length)
    batch stays within ``block_bytes`` (a single member may exceed it)."""
    order = np.argsort(sizes, kind="stable")
    batch: list[int] = []
    for i in order:
        if batch and (len(batch) + 1) * int(sizes[i]) * row_length * 8 > block_bytes:
            yield np.asarray(batch)
            batch = []
        batch.append(int(i))
    if batch:
        yield np.asarray(batch)


def _padded_index(backend: Backend, starts: np.ndarray, sizes: np.ndarray) -> tuple[Array, Array]:
    """(B, m) row indices start + 0..m-1 (0 past each size) and the (B, m) float mask of real rows."""
    width = int(sizes.max())
    offsets = np.arange(width)[None, :]
    mask = offsets < sizes[:, None]
    index = np.where(mask, starts[:, None] + offsets, 0)
    return as_backend(backend, index), as_backend(backend, mask.astype(np.float64))


def _small_class_rates_from_rows(
    x: Array, starts: np.ndarray, sizes: np.ndarray, log_scales: np.ndarray, stats: FeatureStatistics, block_bytes: int
) -> np.ndarray:
    """R(X_c) of classes on the n_c side whose rows are x[start:start+size]: batched X_c X_c^T products
    (zero-padded, which adds identity blocks and so nothing to the log-determinant)."""
    b = stats.backend
    rates = np.empty(sizes.size)
    for batch in _size_batches(sizes, stats.d, block_bytes):
        index, mask = _padded_index(b, starts[batch], sizes[batch])
        rows = x[index] * mask[..., None]  # (B, m, d)
        grams = rows @ b.transpose_last(rows)
        rates[batch] = 0.5 * logdet_identity_plus(b, grams, log_scales[batch])
    return rates


def _sorted_primal_pass(
    features: Array,
    order: Array,
    stats: FeatureStatistics,
    needs: set[str] | frozenset[str],
    max_rows: int,
    block_bytes: int,
) -> None:
    b, d, counts = stats.backend, stats.d, stats.counts
    bounds = np.concatenate([[0], np.cumsum(counts)])
    want_rates = "class_coding_rates" in needs
    log_scales = coding_rate_log_scales(counts, stats.coding_rate_epsilon, stats.log2_scale)
    blocks = _plan_blocks(counts, d, max_rows, class_aligned=want_rates)
    buffer = b.empty((max(e - s for s, e in blocks), d))
    # typed Any: each is None unless ``needs`` asks for it, and read only under the same condition
    gram: Any = b.zeros((d, d)) if "gram" in needs or want_rates else None
    class_sums: Any = b.zeros((stats.num_classes, d)) if "class_sums" in needs else None
    class_sq_sums: Any = b.zeros((stats.num_classes, d)) if "class_sq_sums" in needs else None
    row_sq_norms: Any = b.empty((stats.n,)) if "row_sq_norms" in needs else None
    rates: Any = np.zeros(stats.num_classes) if want_rates else None
    d_side = _coding_rate_on_d_side(counts, d)
    open_gram: Any = None  # the one class on the d side whose blocks are being summed
    for start, end in blocks:
        x = b.take_rows(features, order[start:end], out=buffer[: end - start])
        x -= stats.mean
        block_gram = x.T @ x if gram is not None else None
        if gram is not None:
            gram += block_gram
        classes, seg_starts = _segments((start, end), bounds)
        if class_sums is not None:
            class_sums[classes] += b.segment_sums(x, as_backend(b, seg_starts))
        if class_sq_sums is not None:
            class_sq_sums[classes] += b.segment_sums(x * x, as_backend(b, seg_starts))
        if row_sq_norms is not None:
            row_sq_norms[start:end] = b.row_sq_norms(x)
        if not want_rates:
            continue
        first = classes.start
        if classes.stop - first == 1 and d_side[first]:  # a block of one class taken on the d side
            open_gram = block_gram if open_gram is None else open_gram + block_gram
            if end == bounds[first + 1]:
                rates[first] = 0.5 * logdet_identity_plus(b, open_gram, log_scales[first])
                open_gram = None
            continue
        ids = np.arange(classes.start, classes.stop)
        rates[ids] = _small_class_rates_from_rows(x, seg_starts, counts[ids], log_scales[ids], stats, block_bytes)
    stats.gram, stats.class_sums, stats.class_sq_sums = gram, class_sums, class_sq_sums
    stats.row_sq_norms, stats.class_coding_rates = row_sq_norms, rates


def _dual_pass(
    features: Array,
    labels: np.ndarray,
    stats: FeatureStatistics,
    needs: set[str] | frozenset[str],
    max_columns: int,
    block_bytes: int,
) -> None:
    """n < d: explicitly centred column blocks, rows in their own order."""
    b, n, d, m = stats.backend, stats.n, stats.d, stats.mean
    stats.row_labels = labels
    want_kernel = bool(needs & {"gram", "class_coding_rates", "row_sq_norms"})
    # typed Any: each is None unless ``needs`` asks for it, and read only under the same condition
    kernel: Any = b.zeros((n, n)) if want_kernel else None
    class_sums: Any = b.zeros((stats.num_classes, d)) if "class_sums" in needs else None
    class_sq_sums: Any = b.zeros((stats.num_classes, d)) if "class_sq_sums" in needs else None
    projection: Any = b.zeros((n,)) if "mean_projection" in needs else None
    for start in range(0, d, max_columns):
        columns = slice(start, min(d, start + max_columns))
        x = b.rows(features, slice(None), columns)
        x = x - m[columns]  # a new array: never centre the caller's features in place
        if kernel is not None:
            kernel += x @ x.T
        if class_sums is not None:
            class_sums[:, columns] = b.class_sums(x, labels, stats.num_classes)
        if class_sq_sums is not None:
            class_sq_sums[:, columns] = b.class_sums(x * x, labels, stats.num_classes)
        if projection is not None:
            projection += x @ m[columns]
    stats.gram, stats.class_sums, stats.class_sq_sums, stats.mean_projection = (
        kernel,
        class_sums,
        class_sq_sums,
        projection,
    )
    if "row_sq_norms" in needs:
        stats.row_sq_norms = b.diag(kernel) + 0.0  # a copy, in numpy and torch alike
    if "class_coding_rates" in needs:
        stats.class_coding_rates = _class_rates_from_kernel(kernel, labels, stats, block_bytes)


def _class_rates_from_kernel(
    kernel: Array, labels: np.ndarray, stats: FeatureStatistics, block_bytes: int
) -> np.ndarray:
    """R(X_c) from the diagonal blocks K[rows_c, rows_c] of the centred kernel, in padded batches."""
    b, counts = stats.backend, stats.counts
    log_scales = coding_rate_log_scales(counts, stats.coding_rate_epsilon, stats.log2_scale)
    host_order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    order = as_backend(b, host_order)
    rates = np.empty(counts.size)
    for batch in _size_batches(counts, int(counts.max()), block_bytes):
        index, mask = _padded_index(b, starts[batch], counts[batch])
        rows = order[index]  # (B, m) kernel rows of each class
        blocks = kernel[rows[:, :, None], rows[:, None, :]] * (mask[:, :, None] * mask[:, None, :])
        rates[batch] = 0.5 * logdet_identity_plus(b, blocks, log_scales[batch])
    return rates
