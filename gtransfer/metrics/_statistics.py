"""One pass over the features that yields every statistic the metrics share.

With X = F - mean(F) the centred features, sorted by class, the pass computes (as requested):

* ``gram``: X^T X (d x d) when n >= d ("primal"), else the kernel X X^T (n x n, "dual"); this
  product is the cost floor of every covariance-based metric, and nothing else costs as much;
* ``class_sums``: sum of the centred rows of each class, so mu_c = class_sums[c] / n_c;
* ``row_sq_norms``: ||x_k||^2 for each sample (the Ledoit-Wolf numerator needs sum_k ||x_k||^4);
* ``class_sq_sums``: per-class sums of squared centred entries (per-class variances, for GBC);
* ``class_grams``: per-class second moments X_c^T X_c (when n_c >= d) or X_c X_c^T (when n_c < d),
  taken from the same blocks that build ``gram`` (for TransRate), so they cost no second pass;
* ``mean_projection``: X m, with m the mean, which turns the centred kernel into the raw one
  (LogME works on uncentred features).

The centred copy is never materialised whole when n >= d: rows are gathered in class order into a
reusable block buffer, centred in place and folded into the Gram matrix block by block.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ._backend import Array, Backend
from ._validation import as_backend

__all__ = ["FeatureStatistics", "compute_statistics", "STATISTICS"]

STATISTICS = frozenset({"gram", "class_sums", "row_sq_norms", "class_sq_sums", "class_grams", "mean_projection"})

DEFAULT_BLOCK_BYTES = 128 * 2**20


@dataclass
class FeatureStatistics:
    """Statistics of (features, labels); arrays live on the features' backend, in class-sorted order."""

    backend: Backend
    n: int
    d: int
    counts: np.ndarray  # (C,) host int64
    mean: Array  # (d,)
    primal: bool
    gram: Array | None = None  # (d, d) X^T X if primal else (n, n) X X^T
    class_sums: Array | None = None  # (C, d)
    row_sq_norms: Array | None = None  # (n,)
    class_sq_sums: Array | None = None  # (C, d)
    class_grams: list[Array] = field(default_factory=list)  # per class: X_c^T X_c or X_c X_c^T
    mean_projection: Array | None = None  # (n,) X m, dual only
    row_labels: np.ndarray | None = None  # (n,) host labels in the row order of the (n, .) arrays

    @property
    def num_classes(self) -> int:
        return int(self.counts.size)

    def class_indicator(self) -> Array:
        """The (n, C) one-hot class matrix E in the row order of the kernel (backend, float64)."""
        indicator = np.zeros((self.n, self.num_classes))
        indicator[np.arange(self.n), self.row_labels] = 1.0
        return as_backend(self.backend, indicator)


def _plan_blocks(counts: np.ndarray, d: int, max_rows: int, class_aligned: bool) -> list[tuple[int, int]]:
    """Row ranges of the class-sorted matrix. Class-aligned plans never split a class with
    n_c < d, and give each class with n_c >= d blocks of its own, so per-class products come from
    the same blocks as the global one."""
    n = int(counts.sum())
    if not class_aligned:
        return [(s, min(n, s + max_rows)) for s in range(0, n, max_rows)]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    blocks, c, num_classes = [], 0, counts.size
    while c < num_classes:
        if counts[c] >= d:
            start, end = int(bounds[c]), int(bounds[c + 1])
            blocks += [(s, min(end, s + max_rows)) for s in range(start, end, max_rows)]
            c += 1
            continue
        last = c + 1
        while last < num_classes and counts[last] < d and bounds[last + 1] - bounds[c] <= max_rows:
            last += 1
        blocks.append((int(bounds[c]), int(bounds[last])))
        c = last
    return blocks


def compute_statistics(
    features: Array,
    labels: np.ndarray,
    needs: set[str] | frozenset[str],
    backend: Backend,
    column_sums: Array | None = None,
    block_bytes: int = DEFAULT_BLOCK_BYTES,
) -> FeatureStatistics:
    """Compute the requested statistics in one pass (see the module docstring)."""
    unknown = set(needs) - STATISTICS
    if unknown:
        raise ValueError(f"unknown statistics requested: {sorted(unknown)}")
    n, d = int(features.shape[0]), int(features.shape[1])
    counts = np.bincount(labels)
    if column_sums is None:
        column_sums = backend.column_sums(features)
    mean = column_sums / n
    stats = FeatureStatistics(backend=backend, n=n, d=d, counts=counts, mean=mean, primal=n >= d)
    uncentred_pass = _uncentred_primal_pass if stats.primal else _uncentred_dual_pass
    if uncentred_pass(features, labels, stats, needs):
        return stats
    host_order = np.argsort(labels, kind="stable")
    stats.row_labels = labels[host_order]
    order = as_backend(backend, host_order)
    if stats.primal:
        _primal_pass(features, order, stats, needs, max_rows=max(d, block_bytes // (8 * d)))
    else:
        _dual_pass(features, order, stats, needs)
    return stats


def _segments(block: tuple[int, int], bounds: np.ndarray) -> tuple[slice, np.ndarray]:
    """The classes meeting a block (a slice of class ids) and where each starts inside it."""
    start, end = block
    first = int(np.searchsorted(bounds, start, side="right") - 1)
    last = int(np.searchsorted(bounds, end, side="left"))
    starts = np.maximum(bounds[first:last], start) - start
    return slice(first, last), starts


def _primal_pass(features: Array, order: Array, stats: FeatureStatistics, needs: set[str] | frozenset[str], max_rows: int) -> None:
    b, d, counts = stats.backend, stats.d, stats.counts
    bounds = np.concatenate([[0], np.cumsum(counts)])
    want_class_grams = "class_grams" in needs
    blocks = _plan_blocks(counts, d, max_rows, class_aligned=want_class_grams)
    buffer = b.empty((max(e - s for s, e in blocks), d))
    gram = b.zeros((d, d)) if "gram" in needs or want_class_grams else None
    class_sums = b.zeros((stats.num_classes, d)) if "class_sums" in needs else None
    class_sq_sums = b.zeros((stats.num_classes, d)) if "class_sq_sums" in needs else None
    row_sq_norms = b.empty((stats.n,)) if "row_sq_norms" in needs else None
    class_grams: list = [None] * stats.num_classes if want_class_grams else []
    for start, end in blocks:
        x = b.take_rows(features, order[start:end], out=buffer[: end - start])
        x -= stats.mean
        if gram is not None:
            block_gram = x.T @ x
            gram += block_gram
        classes, seg_starts = _segments((start, end), bounds)
        if class_sums is not None:
            class_sums[classes] += b.segment_sums(x, as_backend(b, seg_starts))
        if class_sq_sums is not None:
            class_sq_sums[classes] += b.segment_sums(x * x, as_backend(b, seg_starts))
        if row_sq_norms is not None:
            row_sq_norms[start:end] = b.row_sq_norms(x)
        if want_class_grams:
            if classes.stop - classes.start == 1 and counts[classes.start] >= d:
                c = classes.start
                class_grams[c] = block_gram if class_grams[c] is None else class_grams[c] + block_gram
            else:
                seg_ends = np.append(seg_starts[1:], end - start)
                for c, s, e in zip(range(classes.start, classes.stop), seg_starts, seg_ends):
                    piece = x[int(s) : int(e)]
                    class_grams[int(c)] = piece @ piece.T
    stats.gram, stats.class_sums, stats.class_sq_sums = gram, class_sums, class_sq_sums
    stats.row_sq_norms, stats.class_grams = row_sq_norms, class_grams


# The uncentred route keeps K = F F^T - r 1^T - 1 r^T + |m|^2 11^T (r = F m) only while the mean is
# at most this many times the typical centred norm (squared): beyond, cancellation would cost more
# than 4 of float64's 16 digits and the centred copy is made instead.
_MAX_OFFSET_RATIO = 1e4


def _is_float64(features: Array, backend: Backend) -> bool:
    return getattr(features, "dtype", None) in (np.float64, getattr(backend, "dtype", None))


def _uncentred_primal_pass(features: Array, labels: np.ndarray, stats: FeatureStatistics, needs: set[str] | frozenset[str]) -> bool:
    """n >= d without any copy of F: X^T X = F^T F - n m m^T, class sums from a sparse one-hot
    product, centred row norms from the raw ones. Applies to float64 features whose mean is
    moderate (see ``_MAX_OFFSET_RATIO``) when no per-class second moments are needed; returns False
    (computing nothing) otherwise. Saves the centred, class-sorted copy: about 15% of the product."""
    b, m, n = stats.backend, stats.mean, stats.n
    if not _is_float64(features, b) or not set(needs) <= {"gram", "class_sums", "row_sq_norms"}:
        return False
    raw_norms = b.row_sq_norms(features)
    offset = b.item((m * m).sum())
    mean_sq_norm = b.item(raw_norms.sum()) / n - offset
    if offset > _MAX_OFFSET_RATIO * mean_sq_norm:
        return False
    stats.row_labels = labels
    if "gram" in needs:
        gram = features.T @ features
        gram -= n * (m[:, None] * m[None, :])
        stats.gram = gram
    if "class_sums" in needs:
        counts = as_backend(b, stats.counts.astype(np.float64))
        stats.class_sums = b.class_sums(features, labels, stats.num_classes) - counts[:, None] * m[None, :]
    if "row_sq_norms" in needs:
        stats.row_sq_norms = raw_norms - 2.0 * (features @ m) + offset
    return True


def _uncentred_dual_pass(features: Array, labels: np.ndarray, stats: FeatureStatistics, needs: set[str] | frozenset[str]) -> bool:
    """n < d without a centred (or sorted) copy of F: the kernel of the raw features, centred as an
    n x n matrix. Returns False (computing nothing) where it does not apply."""
    b, m = stats.backend, stats.mean
    if not _is_float64(features, b) or not set(needs) <= {"gram", "class_sums", "row_sq_norms", "class_grams", "mean_projection"}:
        return False
    kernel = features @ features.T
    projection = features @ m  # f_i . m
    offset = b.item((m * m).sum())
    kernel -= projection[:, None]  # centred in place: no n x n temporaries
    kernel -= projection[None, :]
    kernel += offset
    mean_sq_norm = b.item(b.diag(kernel).sum()) / stats.n
    if offset > _MAX_OFFSET_RATIO * mean_sq_norm:
        return False
    stats.row_labels = labels
    stats.gram = kernel
    if "class_sums" in needs:
        counts = as_backend(b, stats.counts.astype(np.float64))
        stats.class_sums = b.class_sums(features, labels, stats.num_classes) - counts[:, None] * m[None, :]
    if "row_sq_norms" in needs:
        stats.row_sq_norms = b.diag(kernel) + 0.0
    if "class_grams" in needs:
        stats.class_grams = [kernel[np.ix_(rows, rows)] for rows in _class_rows(labels, stats.num_classes, b)]
    if "mean_projection" in needs:
        stats.mean_projection = projection - offset  # x_i . m = f_i . m - |m|^2
    return True


def _class_rows(labels: np.ndarray, num_classes: int, backend: Backend) -> list[Array]:
    order = np.argsort(labels, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(labels, minlength=num_classes))])
    return [as_backend(backend, order[s:e]) for s, e in zip(bounds[:-1], bounds[1:])]


def _dual_pass(features: Array, order: Array, stats: FeatureStatistics, needs: set[str] | frozenset[str]) -> None:
    b = stats.backend
    x = b.take_rows(features, order, out=b.empty((stats.n, stats.d)))
    x -= stats.mean
    kernel = x @ x.T if needs & {"gram", "class_grams", "row_sq_norms"} else None
    starts = as_backend(b, np.concatenate([[0], np.cumsum(stats.counts)[:-1]]))
    stats.gram = kernel
    if "class_sums" in needs:
        stats.class_sums = b.segment_sums(x, starts)
    if "class_sq_sums" in needs:
        stats.class_sq_sums = b.segment_sums(x * x, starts)
    if "row_sq_norms" in needs:
        stats.row_sq_norms = kernel.diagonal() + 0.0  # a copy, in numpy and torch alike
    if "class_grams" in needs:
        bounds = np.concatenate([[0], np.cumsum(stats.counts)])
        stats.class_grams = [kernel[int(s) : int(e), int(s) : int(e)] for s, e in zip(bounds[:-1], bounds[1:])]
    if "mean_projection" in needs:
        stats.mean_projection = x @ stats.mean
