"""Input checks shared by every metric: clear errors that name the problem and say how to fix it."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ._backend import Array, Backend, _is_torch_tensor, backend_for, host_view

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "MIN_SAMPLES_PER_CLASS", "CheckedFeatures", "ConstantColumnsWarning", "check_features", "check_labels",
    "check_source_labels", "check_probabilities", "as_class_indices",
]

_ENCODE_HINT = "encode them with `np.unique(labels, return_inverse=True)[1]`"


def _unmasked(x: Any, name: str) -> Any:
    """A numpy masked array without masked entries becomes its data; masked entries are refused."""
    if isinstance(x, np.ma.MaskedArray):
        mask = np.ma.getmaskarray(x)
        if mask.any():
            rows = np.unique(np.nonzero(mask.reshape(mask.shape[0], -1) if mask.ndim else mask)[0])
            raise ValueError(
                f"{name} is a masked array with {int(mask.sum())} masked entries in {rows.size} rows "
                f"(first rows: {rows[:5].tolist()}): the metric core does not guess values for them; fill them "
                "(np.ma.filled(x, value)) or drop those rows (np.ma.compress_rows(x), and the same rows of the labels)"
            )
        return np.ma.getdata(x)
    return x


def _to_host(x: object, name: str) -> np.ndarray:
    x = _unmasked(x, name)
    if _is_torch_tensor(x):
        import torch

        x = x.detach().cpu()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    if isinstance(x, (list, tuple)) or np.isscalar(x):
        return np.asarray(x)
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except Exception as error:  # pragma: no cover - exotic inputs
        raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(x).__name__}") from error


def _is_numeric_dtype(x: Array) -> bool:
    if _is_torch_tensor(x):
        import torch

        return x.dtype != torch.bool and not x.dtype.is_complex
    return np.issubdtype(x.dtype, np.number) and not np.issubdtype(x.dtype, np.complexfloating)


#: Labels need at least this many samples per class on average (n >= 2 C): with C = n the labels are
#: sample ids, every class mean is a sample and the H-score reaches C - 1 whatever the features.
MIN_SAMPLES_PER_CLASS = 2

#: Features whose largest magnitude lies outside [2^-64, 2^64] are rescaled by a power of two into
#: [1, 2) before any statistic is taken: inside the window every statistic (up to sum_k ||x_k||^4 of
#: Ledoit-Wolf) stays far from float64's overflow and underflow, and a power of two rescales exactly.
SAFE_LOG2_MAGNITUDE = 64


@dataclass
class CheckedFeatures:
    """Validated features, ready for the statistics pass.

    ``features`` is the caller's array (any dtype, its own device), or a rescaled float64 copy when its
    magnitude is extreme: then ``features = original * 2**log2_scale`` exactly. ``backend`` is where the
    statistics are computed (the features' own device unless another was asked for), and
    ``column_sums`` (float64, on the backend) are the rescaled features' column sums.
    """

    features: Array
    backend: Backend
    column_sums: Array
    log2_scale: int = 0
    #: how many constant columns of the caller's features were dropped (see ``check_features``)
    constant_columns: int = 0

    @property
    def shape(self) -> tuple[int, int]:
        return int(self.features.shape[0]), int(self.features.shape[1])


def _magnitude_sums_and_constant_columns(
    features: Array, block_bytes: int = 2**20
) -> tuple[float, Array | None, np.ndarray]:
    """(largest |entry|, float64 column sums, which columns hold one value) without a copy of the matrix;
    NaN (or inf) in any entry makes the magnitude non-finite. Torch: device reductions; numpy: row
    blocks of about ``block_bytes``, each read once for the magnitude and the sums (the sums are None
    for input other than float64). Constant columns: the columns constant over the first block are the
    candidates, checked over the other rows (for the candidates only), so the common case, no
    candidate after the first block, costs one comparison of that block."""
    if _is_torch_tensor(features):
        lo, hi = features.aminmax(dim=0)
        magnitude = max(abs(float(lo.min())), abs(float(hi.max())))
        return magnitude, None, (lo == hi).cpu().numpy()
    n, d = features.shape
    rows = max(1, block_bytes // (8 * max(d, 1)))
    magnitude = 0.0
    sums = np.zeros(d) if features.dtype == np.float64 else None
    buffer = np.empty((min(n, rows), d), dtype=features.dtype) if np.issubdtype(features.dtype, np.floating) else None
    candidates = np.flatnonzero(np.all(features[:rows] == features[0], axis=0))
    for start in range(0, n, rows):
        block = features[start : start + rows]
        if buffer is not None:
            largest = float(np.abs(block, out=buffer[: block.shape[0]]).max())
        else:
            largest = float(np.abs(block.astype(np.float64)).max())
        if not math.isfinite(largest):  # NaN or inf: Python's max() would drop a NaN
            return largest, None, np.zeros(d, dtype=bool)
        magnitude = max(magnitude, largest)
        if sums is not None:
            sums += np.add.reduce(block, axis=0)
        if start and candidates.size:
            candidates = candidates[np.all(block[:, candidates] == features[0, candidates], axis=0)]
    constant = np.zeros(d, dtype=bool)
    constant[candidates] = True
    return magnitude, sums, constant


class ConstantColumnsWarning(UserWarning):
    """Feature columns that hold one value were dropped before scoring (the message says how many)."""


def _without_constant_columns(features: Array, constant: np.ndarray, name: str) -> Array:
    """The features without their constant columns; one zero column when no column varies.

    A constant column is zero once centred: it adds nothing to any covariance, class mean gap or
    distance, yet at a large magnitude (1e20) it swamps the rounding of the others. LogME, which
    reads uncentred features, would take a nonzero constant for an intercept; dropped, every
    metric is the same whatever the constant. When no column varies, one zero column stands for
    them (the no-information case every metric scores as such).
    """
    n, d = features.shape
    warnings.warn(
        f"{name}: {int(constant.sum())} of {d} columns hold one value each and were dropped before scoring "
        "(a constant column carries no information about the samples)"
        + ("; no column varies: one zero column stands for them" if constant.all() else ""),
        ConstantColumnsWarning,
        stacklevel=3,
    )
    varying = np.flatnonzero(~constant)
    if _is_torch_tensor(features):
        import torch

        if varying.size == 0:
            return torch.zeros((n, 1), dtype=torch.float64, device=features.device)
        return features[:, torch.as_tensor(varying, device=features.device)]
    if varying.size == 0:
        return np.zeros((n, 1))
    return np.ascontiguousarray(features[:, varying])


def _rescaled(features: Array, backend: Backend, log2_scale: int) -> Array:
    """features * 2**log2_scale as float64 where the features live (exact: a power of two), in at
    most two steps so that neither factor overflows."""
    half = log2_scale // 2
    out: Array
    if _is_torch_tensor(features):
        import torch

        out = features.to(torch.float64) * math.ldexp(1.0, half)
    else:
        out = np.asarray(features, dtype=np.float64) * math.ldexp(1.0, half)
    out *= math.ldexp(1.0, log2_scale - half)
    return out


def check_features(
    features: Array,
    name: str = "features",
    min_samples: int = 2,
    device: str | None = None,
    *,
    keep_constant_columns: bool = False,
) -> CheckedFeatures:
    """Validate an (n, d) real feature matrix and prepare it for the statistics pass.

    Torch tensors are detached (``requires_grad`` is fine); a numpy masked array is accepted when no
    entry is masked (its data are used) and refused otherwise. The largest magnitude doubles as the
    NaN/inf check and comes from the same pass as the column sums (no copy); only when it fires are
    the bad entries counted. Columns that hold one value are dropped (a copy of the others; one zero
    column stays when none varies), with a ``ConstantColumnsWarning`` that counts them: every metric
    is then the same whatever the constant, 1 or 1e30. ``keep_constant_columns=True`` keeps them, for a
    metric that reads the features' values rather than their variance (ETran's energy). Features
    of extreme magnitude are rescaled exactly by a power of two (see ``SAFE_LOG2_MAGNITUDE``).
    """
    features = _unmasked(features, name)
    if _is_torch_tensor(features):
        features = host_view(features.detach(), device)  # CPU tensors: numpy's backend, on the same memory
    if not _is_torch_tensor(features) and not isinstance(features, np.ndarray):
        if isinstance(features, (list, tuple)):
            features = np.asarray(features)
        else:
            raise TypeError(f"{name} must be a numpy array or a torch tensor, got {type(features).__name__}")
    if not _is_numeric_dtype(features):
        raise TypeError(f"{name} must hold real numbers, got dtype {features.dtype}")
    if features.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got {features.ndim}-D with shape {tuple(features.shape)}"
        )
    n, d = features.shape
    if n < min_samples:
        raise ValueError(f"{name} needs at least {min_samples} samples, got {n}")
    if d < 1:
        raise ValueError(f"{name} has no feature columns (shape {tuple(features.shape)})")
    magnitude, column_sums, constant = _magnitude_sums_and_constant_columns(features)
    if not math.isfinite(magnitude):
        host = _to_host(features, name)
        bad = ~np.isfinite(host)
        n_nan, n_inf = int(np.isnan(host).sum()), int(np.isinf(host).sum())
        rows = np.unique(np.nonzero(bad)[0])
        raise ValueError(
            f"{name} contain {n_nan} NaN and {n_inf} infinite values in {rows.size} rows "
            f"(first rows: {rows[:5].tolist()}); drop or impute them first"
        )
    if constant.any() and not keep_constant_columns:
        features = _without_constant_columns(features, constant, name)
        # of the columns that vary: the constants no longer set the scale
        magnitude = float(features.abs().max() if _is_torch_tensor(features) else np.abs(features).max())
        column_sums = None if column_sums is None or constant.all() else column_sums[~constant]
    log2_scale = 0
    if magnitude > 0 and not 2.0**-SAFE_LOG2_MAGNITUDE <= magnitude <= 2.0**SAFE_LOG2_MAGNITUDE:
        log2_scale = 1 - math.frexp(magnitude)[1]  # the largest magnitude lands in [1, 2)
        features = _rescaled(features, backend_for(features), log2_scale)
        column_sums = None
    backend = backend_for(features, device)
    if column_sums is None:
        column_sums = backend_for(features).column_sums(features)
    column_sums = backend.asarray(column_sums)
    dropped = 0 if keep_constant_columns else int(constant.sum())
    return CheckedFeatures(features, backend, column_sums, log2_scale, dropped)


def check_labels(labels: Array, n_samples: int, name: str = "labels") -> np.ndarray:
    """Validate class labels: 1-D integers 0..C-1, every class present, C >= 2, and at least
    ``MIN_SAMPLES_PER_CLASS`` samples per class on average (n >= 2 C). Returns host int64."""
    host = _to_host(labels, name)
    if host.ndim != 1:
        if host.ndim == 2 and host.shape[1] > 1:
            raise ValueError(
                f"{name} must be 1-D class indices, got shape {host.shape}; for one-hot labels pass labels.argmax(1)"
            )
        host = host.reshape(-1) if host.ndim == 2 and host.shape[1] == 1 else host
        if host.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {host.shape}")
    if host.shape[0] != n_samples:
        raise ValueError(f"{name} has {host.shape[0]} entries but the features have {n_samples} rows")
    host = as_class_indices(host, name, _ENCODE_HINT)
    if host.size and host.max() >= n_samples:
        raise ValueError(
            f"{name} must be 0..C-1 with every class present, so below the number of samples ({n_samples}); "
            f"got a label of {host.max()}; {_ENCODE_HINT}"
        )
    counts = np.bincount(host)
    absent = np.flatnonzero(counts == 0)
    if absent.size:
        raise ValueError(
            f"{name} must use every class 0..C-1 (C = max + 1 = {counts.size}); absent: {absent[:10].tolist()}; "
            f"{_ENCODE_HINT}"
        )
    if counts.size < 2:
        raise ValueError(f"{name} hold a single class: transferability needs at least two classes")
    if n_samples < MIN_SAMPLES_PER_CLASS * counts.size:
        raise ValueError(
            f"{name} have {counts.size} classes for {n_samples} samples ({n_samples / counts.size:.2g} per class on "
            f"average): the metrics need at least {MIN_SAMPLES_PER_CLASS} samples per class on average (C <= n / "
            f"{MIN_SAMPLES_PER_CLASS}); "
            "with about one sample per class the labels are sample ids and every metric reads them back (the H-score "
            "reaches its maximum C - 1 for any features); merge rare classes or add samples"
        )
    return host


def check_source_labels(source_labels: Array, n_samples: int, name: str = "source_labels") -> np.ndarray:
    """Hard source-model predictions: 1-D non-negative integers (classes may be absent)."""
    host = _to_host(source_labels, name)
    if host.ndim != 1:
        raise ValueError(f"{name} must be 1-D source class indices, got shape {host.shape}")
    if host.shape[0] != n_samples:
        raise ValueError(f"{name} has {host.shape[0]} entries but labels have {n_samples}")
    return as_class_indices(host, name, "pass source_probs.argmax(1)")


def as_class_indices(host: np.ndarray, name: str, hint: str) -> np.ndarray:
    """1-D host array -> int64 class indices, refusing non-integer, non-finite and negative values."""
    if host.dtype == bool:
        host = host.astype(np.int64)
    if not np.issubdtype(host.dtype, np.integer):
        if not np.issubdtype(host.dtype, np.floating) or not np.all(np.isfinite(host)):
            raise ValueError(f"{name} must be integer class indices, got dtype {host.dtype}; {hint}")
        if np.any(host != np.round(host)):
            raise ValueError(f"{name} must be integer class indices, got non-integer values; {hint}")
    host = host.astype(np.int64, copy=False)
    if host.min() < 0:
        raise ValueError(f"{name} must be non-negative class indices, got {host.min()}; {hint}")
    return host


def _epsilon(x: object) -> float:
    """Machine epsilon of an array's floating dtype (float64's for integers)."""
    if _is_torch_tensor(x) and x.dtype.is_floating_point:
        import torch

        return float(torch.finfo(x.dtype).eps)
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        return float(np.finfo(dtype).eps)
    return float(np.finfo(np.float64).eps)


def row_sum_tolerance(epsilon: float, num_classes: int) -> float:
    """How far a row of probabilities of a dtype with machine epsilon ``epsilon`` may sum from 1:
    one rounding of each entry (at most epsilon in all) plus a sum over Z classes accumulated in
    float32 or better (4 sqrt(Z) of its epsilon), and never below 1e-6. float32 softmax rows over
    10,000 classes deviate by up to 2e-6 (tolerance 4.8e-5); float16 rows by up to 3.6e-4 (1.0e-3)."""
    accumulation = min(epsilon, float(np.finfo(np.float32).eps))
    return max(1e-6, epsilon + 4.0 * accumulation * math.sqrt(num_classes))


def _row_sums_and_minimum(host: np.ndarray, block_bytes: int = 2**20) -> tuple[np.ndarray, float]:
    """Row sums and the smallest entry in one pass over memory (row blocks of ``block_bytes``, each read twice
    from cache). A NaN or inf entry makes its row sum non-finite (and -inf the minimum), so no isfinite pass is
    needed until one shows (that pass and its boolean copy cost as much as both reductions: 40-55% of LEEP's
    time; blocked, the two reductions took 7.4 ms against 11.9 ms at 5000 x 1000)."""
    rows = max(1, block_bytes // max(1, 8 * host.shape[1]))
    sums, lowest = np.empty(host.shape[0]), np.inf
    for start in range(0, host.shape[0], rows):
        block = host[start : start + rows]
        sums[start : start + rows] = block.sum(axis=1)
        lowest = float(np.minimum(lowest, block.min())) if block.size else lowest  # NaN propagates
    return sums, lowest


def check_probabilities(
    source_probs: Array, n_samples: int, name: str = "source_probs", atol: float | None = None
) -> np.ndarray:
    """Source-model probabilities: (n, Z), finite, non-negative, rows summing to 1 within ``atol``
    (default: ``row_sum_tolerance`` of the input's dtype). Returns them as host float64."""
    epsilon = _epsilon(source_probs)
    host = _to_host(source_probs, name)
    if host.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_source_classes), got shape {host.shape}")
    if host.shape[0] != n_samples:
        raise ValueError(f"{name} has {host.shape[0]} rows but labels have {n_samples}")
    if not np.issubdtype(host.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers, got dtype {host.dtype}")
    host = host.astype(np.float64, copy=False)
    row_sums, lowest = _row_sums_and_minimum(host)
    if not (np.isfinite(lowest) and np.all(np.isfinite(row_sums))):
        bad = int((~np.isfinite(host)).sum())
        if bad:
            raise ValueError(f"{name} contain {bad} NaN or infinite values")
    if lowest < 0:
        raise ValueError(
            f"{name} contain negative values (min {lowest:.3g}): pass probabilities, e.g. softmax(logits), not "
            "logits"
        )
    if atol is None:
        atol = row_sum_tolerance(epsilon, host.shape[1])
    row_error = np.abs(row_sums - 1.0)
    if row_error.max() > atol:
        raise ValueError(
            f"{name} rows must sum to 1 ({int((row_error > atol).sum())} rows deviate, worst by {row_error.max():.3g}, "
            f"tolerance {atol:.2g} for its dtype); normalise with P / P.sum(1, keepdims=True) or apply a softmax to "
            "logits"
        )
    return host


def as_backend(backend: Backend, host_array: npt.ArrayLike) -> Array:
    """Move a host array onto the features' backend (device) as int64 or float64."""
    if np.issubdtype(np.asarray(host_array).dtype, np.integer):
        return backend.as_int(host_array)
    return backend.asarray(host_array)
