"""NCE, LEEP and N-LEEP: scores from a source model's predictions on the target data."""

from __future__ import annotations

import numpy as np

from ._backend import Array
from ._validation import check_features, check_labels, check_probabilities, check_source_labels

__all__ = ["nce", "nce_from_probs", "leep", "nleep", "nleep_refusal"]


def _joint_distribution(labels: np.ndarray, source: np.ndarray, num_source: int) -> np.ndarray:
    """Empirical P(y, z) as a (C, Z) table from hard source labels."""
    num_classes = int(labels.max()) + 1
    counts = np.bincount(labels * num_source + source, minlength=num_classes * num_source)
    return counts.reshape(num_classes, num_source) / labels.size


def nce(source_labels: Array, labels: Array) -> float:
    r"""Negative Conditional Entropy (Tran et al., "Transferability and Hardness of Supervised
    Classification Tasks", ICCV 2019).

    With P(y, z) the empirical joint distribution of target labels y and the source model's hard
    predictions z (``source_probs.argmax(1)``),

    .. math::
        \mathrm{NCE} = -H(Y \mid Z) = \sum_{y, z} P(y, z) \log \frac{P(y, z)}{P(z)} \le 0 .

    Note NCE = I(Y; Z) - H(Y): it carries the target's label entropy (see
    ``gtransfer.metrics.normalized_nce`` for the correction used in target selection).

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> round(nce(labels, labels), 4)  # source labels that determine the target: the maximum, 0
        0.0
        >>> round(nce(np.zeros(60, dtype=int), labels), 4)  # one source class: -H(Y) = -log 3
        -1.0986
    """
    labels = check_labels(labels, len(labels))
    source = check_source_labels(source_labels, labels.size)
    # compact the source ids first: the table is (C, distinct ids), whatever the ids' magnitude
    source_ids, source = np.unique(source, return_inverse=True)
    joint = _joint_distribution(labels, source.reshape(-1), source_ids.size)
    marginal = joint.sum(0, keepdims=True)
    used = joint > 0
    return float((joint[used] * np.log(joint[used] / np.broadcast_to(marginal, joint.shape)[used])).sum())


def nce_from_probs(source_probs: Array, labels: Array) -> float:
    """NCE with the hard source labels taken as ``source_probs.argmax(1)``.

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> sharp = np.eye(3)[labels] * 0.8 + 0.2 / 3  # source predictions that follow the labels
        >>> flat = np.full((60, 3), 1 / 3)  # uninformative ones
        >>> round(nce_from_probs(sharp, labels), 4), round(nce_from_probs(flat, labels), 4)
        (0.0, -1.0986)
    """
    labels = check_labels(labels, len(labels))
    return nce(check_probabilities(source_probs, labels.size).argmax(1), labels)


def leep(source_probs: Array, labels: Array) -> float:
    r"""Log Expected Empirical Prediction (Nguyen et al., "LEEP: A New Measure to Evaluate
    Transferability of Learned Representations", ICML 2020).

    With theta_i the source model's probabilities on sample i,
    P(y, z) = (1/n) sum_{i: y_i = y} theta_iz and P(y | z) = P(y, z) / P(z),

    .. math::
        \mathrm{LEEP} = \frac1n \sum_i \log \sum_z P(y_i \mid z)\, \theta_{iz} .

    Source classes that no sample uses (P(z) = 0) are ignored, where the reference code returns
    NaN (0/0); on the remaining columns the value is the reference's.

    Examples:
        >>> import numpy as np
        >>> labels = np.arange(60) % 3
        >>> sharp = np.eye(3)[labels] * 0.8 + 0.2 / 3  # source predictions that follow the labels
        >>> flat = np.full((60, 3), 1 / 3)  # uninformative ones
        >>> round(leep(sharp, labels), 4), round(leep(flat, labels), 4)
        (-0.2744, -1.0986)
    """
    labels = check_labels(labels, len(labels))
    probs = check_probabilities(source_probs, labels.size)
    joint = _class_sums(probs, labels) / labels.size
    marginal = joint.sum(0)
    conditional = np.divide(joint, marginal, out=np.zeros_like(joint), where=marginal > 0)
    return float(np.log(_row_dots_with_class_rows(probs, conditional, labels)).mean())


def _class_sums(rows: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """(C, Z) sums of the rows of each class (``np.add.at`` took 10-15x longer). Up to 32 classes one selection
    per class (C passes over the labels, one over the rows: 0.6 ms against 0.9 ms for a sparse product at
    n = 500, Z = 1000); beyond, one sparse indicator product, O(n Z) whatever C (a dense one-hot GEMM costs
    C times more)."""
    num_classes = int(labels.max()) + 1
    if num_classes <= 32:
        return np.stack([rows[labels == c].sum(0) for c in range(num_classes)])
    import scipy.sparse as sp

    n = labels.size
    indicator = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(num_classes, n))
    return np.asarray(indicator @ rows)


def _row_dots_with_class_rows(
    rows: np.ndarray, table: np.ndarray, labels: np.ndarray, block_rows: int = 256
) -> np.ndarray:
    """rows[i] . table[labels[i]] for each i, in row blocks whose gathered copy stays in cache (256 rows of
    Z = 1000: 2 MiB; 2048 rows took 1.5-2x longer at n = 20000; a GEMM with the whole table, then a pick,
    costs C times more)."""
    out = np.empty(labels.size)
    for start in range(0, labels.size, block_rows):
        end = min(labels.size, start + block_rows)
        out[start:end] = np.einsum("iz,iz->i", rows[start:end], table[labels[start:end]])
    return out


def nleep(
    features: Array,
    labels: Array,
    *,
    components_per_class: int = 5,
    pca_variance: float | None = 0.8,
    random_state: int = 0,
    max_bias: float = 0.25,
) -> float:
    r"""N-LEEP (Li et al., "Ranking Neural Checkpoints", CVPR 2021).

    LEEP with the source classifier replaced by a Gaussian mixture of ``components_per_class * C``
    components (full covariances) fitted on the features, after a PCA keeping ``pca_variance`` of
    the variance (None: no PCA, as in the stable_transfer reference); the mixture posteriors play
    the role of theta. The mixture fit makes the value depend on ``random_state`` and on the row
    order, so compare it across encoders only at a fixed seed.

    P(y | z) is estimated on the same samples it scores, over Z = 5C components: the plug-in bias
    of that estimate (Miller-Madow) is about (C - 1)(Z - 1) / (2n) nats upwards. With n = Z it is
    total (each component holds one sample, whose label it reads back: pure noise scores a perfect
    0.0), so a ValueError is raised when the bias exceeds ``max_bias`` times H(Y) (about a quarter of
    the range [-H(Y), 0] that separates noise from a perfect source, at the default).

    Examples:
        >>> import numpy as np
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(60) % 3
        >>> features = np.eye(3)[labels] * 2 + rng.standard_normal((60, 3))
        >>> round(nleep(features, labels), 2)
        -0.36
        >>> round(nleep(rng.standard_normal((60, 3)), labels), 2)
        -0.83
    """
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    checked = check_features(features)
    labels = check_labels(labels, checked.shape[0])
    refusal = nleep_refusal(np.bincount(labels), components_per_class=components_per_class, max_bias=max_bias)
    if refusal is not None:  # known from n and C alone: before the PCA and the mixture fit
        raise ValueError(refusal)
    num_components = components_per_class * (int(labels.max()) + 1)
    x = checked.backend.to_numpy(checked.features).astype(np.float64, copy=False)
    if pca_variance is not None:
        if not 0.0 < pca_variance <= 1.0:
            raise ValueError(f"pca_variance must be in (0, 1], got {pca_variance}")
        if pca_variance < 1.0:
            x = PCA(n_components=pca_variance, svd_solver="full", random_state=random_state).fit_transform(x)
    mixture = GaussianMixture(n_components=num_components, random_state=random_state).fit(x)
    posteriors = mixture.predict_proba(x)
    return leep(posteriors / posteriors.sum(1, keepdims=True), labels)


def nleep_refusal(class_counts: np.ndarray, *, components_per_class: int = 5, max_bias: float = 0.25) -> str | None:
    """Why N-LEEP refuses labels with these class counts (None: it scores them), known from n and C alone.

    The in-sample estimate of P(y | component) over Z = ``components_per_class`` * C components is biased
    up by about (C - 1)(Z - 1) / (2n) nats (Miller-Madow); N-LEEP refuses when that exceeds ``max_bias``
    times H(Y) (see :func:`nleep`).

    Examples:
        >>> nleep_refusal(np.full(4, 100)) is None
        True
        >>> nleep_refusal(np.full(40, 50)).split(":")[0]
        'N-LEEP with 200 mixture components (5 per class) on 2000 samples'
    """
    counts = np.asarray(class_counts, dtype=np.float64)
    counts = counts[counts > 0]
    n, num_classes = float(counts.sum()), int(counts.size)
    num_components = components_per_class * num_classes
    bias = (num_classes - 1) * (num_components - 1) / (2.0 * n)
    entropy = float(-(counts / n * np.log(counts / n)).sum())
    if bias <= max_bias * entropy:
        return None
    return (
        f"N-LEEP with {num_components} mixture components ({components_per_class} per class) on {int(n)} samples: "
        "the in-sample "
        f"estimate of P(y | component) is biased up by about (C-1)(Z-1)/(2n) = {bias:.3g} nats, more than "
        f"{max_bias:g} of "
        f"H(Y) = {entropy:.3g} (with about one sample per component it reads the labels back: noise scores a perfect "
        "0); "
        f"use at least {int(np.ceil((num_classes - 1) * (num_components - 1) / (2.0 * max_bias * entropy)))} samples "
        "or fewer components_per_class"
    )
