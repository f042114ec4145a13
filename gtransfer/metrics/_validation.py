"""Input checks shared by every metric: clear errors that name the problem and say how to fix it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ._backend import Array, Backend, _is_torch_tensor, backend_for

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["check_features", "check_labels", "check_source_labels", "check_probabilities", "as_class_indices"]

_ENCODE_HINT = "encode them with `np.unique(labels, return_inverse=True)[1]`"


def _to_host(x: object, name: str) -> np.ndarray:
    if _is_torch_tensor(x):
        return x.detach().cpu().numpy()
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


def check_features(features: Array, name: str = "features", min_samples: int = 2) -> tuple[Array, Backend, Array]:
    """Validate an (n, d) real feature matrix; return (features, backend, column sums in float64).

    The column sums double as the NaN/inf check (a non-finite entry makes its column sum non-finite),
    so the check costs no extra pass; only when it fires are the bad entries counted.
    """
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
    backend = backend_for(features)
    column_sums = backend.column_sums(features)
    if not bool((column_sums == column_sums).all()) or not bool(np.isfinite(backend.to_numpy(column_sums)).all()):
        host = _to_host(features, name)
        bad = ~np.isfinite(host)
        n_nan, n_inf = int(np.isnan(host).sum()), int(np.isinf(host).sum())
        if bad.any():
            rows = np.unique(np.nonzero(bad)[0])
            raise ValueError(
                f"{name} contain {n_nan} NaN and {n_inf} infinite values in {rows.size} rows "
                f"(first rows: {rows[:5].tolist()}); drop or impute them first"
            )
        raise ValueError(f"{name} overflow float64 when summed: rescale them")
    return features, backend, column_sums


def check_labels(labels: Array, n_samples: int, name: str = "labels") -> np.ndarray:
    """Validate class labels: 1-D integers 0..C-1, every class present, C >= 2. Returns host int64."""
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
    counts = np.bincount(host)
    absent = np.flatnonzero(counts == 0)
    if absent.size:
        raise ValueError(
            f"{name} must use every class 0..C-1 (C = max + 1 = {counts.size}); absent: {absent[:10].tolist()}; "
            f"{_ENCODE_HINT}"
        )
    if counts.size < 2:
        raise ValueError(f"{name} hold a single class: transferability needs at least two classes")
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


def check_probabilities(source_probs: Array, n_samples: int, name: str = "source_probs", atol: float = 1e-6) -> np.ndarray:
    """Source-model probabilities: (n, Z), finite, non-negative, rows summing to 1 within ``atol``."""
    host = _to_host(source_probs, name)
    if host.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_source_classes), got shape {host.shape}")
    if host.shape[0] != n_samples:
        raise ValueError(f"{name} has {host.shape[0]} rows but labels have {n_samples}")
    if not np.issubdtype(host.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers, got dtype {host.dtype}")
    host = host.astype(np.float64, copy=False)
    if not np.all(np.isfinite(host)):
        raise ValueError(f"{name} contain {int((~np.isfinite(host)).sum())} NaN or infinite values")
    if host.min() < 0:
        raise ValueError(
            f"{name} contain negative values (min {host.min():.3g}): pass probabilities, e.g. softmax(logits), not logits"
        )
    row_error = np.abs(host.sum(axis=1) - 1.0)
    if row_error.max() > atol:
        raise ValueError(
            f"{name} rows must sum to 1 ({int((row_error > atol).sum())} rows deviate, worst by {row_error.max():.3g}); "
            "normalise with P / P.sum(1, keepdims=True) or apply a softmax to logits"
        )
    return host


def as_backend(backend: Backend, host_array: npt.ArrayLike) -> Array:
    """Move a host array onto the features' backend (device) as int64 or float64."""
    if np.issubdtype(np.asarray(host_array).dtype, np.integer):
        return backend.as_int(host_array)
    return backend.asarray(host_array)
