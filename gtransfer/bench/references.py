"""The published reference algorithms the suite times gtransfer against, where the reference is not installable.

tllib (thuml's Transfer-Learning-Library, ``tllib.ranking``) is not on PyPI (``pip index versions tllib``: no
matching distribution, 2026-12-07), and the ``LogME`` name on PyPI is an unrelated logging package. So the suite
times the references' algorithms, written here from the papers and the references' documented steps (not their
code): dense NumPy, as the references compute, without input checks (which only makes them faster).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["REFERENCES", "tllib_leep", "tllib_transrate"]


def tllib_leep(probs: np.ndarray, labels: np.ndarray) -> float:
    """LEEP as tllib computes it: the joint P(y, z) from one boolean row selection per target class, the
    empirical prediction as one (n, Z) x (Z, C) product, then each sample's own class picked."""
    n = labels.size
    num_classes = int(labels.max()) + 1
    joint = np.stack([probs[labels == c].sum(0) for c in range(num_classes)]) / n
    conditional = joint / joint.sum(0, keepdims=True)  # (C, Z): P(y | z)
    predicted = probs @ conditional.T  # (n, C)
    return float(np.log(predicted[np.arange(n), labels]).mean())


def _coding_rate(rows: np.ndarray, epsilon: float) -> float:
    d = rows.shape[1]
    return 0.5 * float(np.linalg.slogdet(np.eye(d) + rows.T @ rows / (rows.shape[0] * epsilon))[1])


def tllib_transrate(features: np.ndarray, labels: np.ndarray, *, epsilon: float = 1e-4) -> float:
    """TransRate as tllib computes it: globally centred features, R(Z) = 1/2 logdet(I + Z^T Z / (n_Z eps)) on the
    d x d side by an LU log-determinant, for all rows and for each class's rows (a selected copy each)."""
    centred = features - features.mean(0, keepdims=True)
    num_classes = int(labels.max()) + 1
    per_class = sum(_coding_rate(centred[labels == c], epsilon) for c in range(num_classes))
    return _coding_rate(centred, epsilon) - per_class / num_classes


#: a suite case's ``reference`` name -> (label printed, function of (features or probabilities, labels))
REFERENCES: dict[str, tuple[str, Callable[[np.ndarray, np.ndarray], float]]] = {
    "tllib_leep": ("tllib's LEEP algorithm", tllib_leep),
    "tllib_transrate": ("tllib's TransRate algorithm", tllib_transrate),
}
