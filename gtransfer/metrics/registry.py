"""The metric registry and ``score_all``, which shares one statistics pass between metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from ._backend import Array
from ._statistics import compute_statistics
from ._validation import check_features, check_labels, check_probabilities
from .baselines import cross_validation_refusal, knn_accuracy, linear_probe_accuracy
from .corrections import label_entropy, normalized_leep, normalized_nce_from_probs
from .etran import ETRAN_WEIGHTS, etran, etran_components
from .gbc import GBC_NEEDS, gbc, gbc_from_statistics
from .hscore import (
    H_SCORE_NEEDS,
    SHRINKAGE_H_SCORE_NEEDS,
    h_score,
    h_score_from_statistics,
    shrinkage_h_score,
    shrinkage_h_score_from_statistics,
)
from .leep import leep, nce_from_probs, nleep, nleep_refusal
from .logme import LOGME_NEEDS, logme, logme_from_statistics
from .ncti import NCTI_WEIGHTS, ncti, ncti_components
from .pactran import pactran_dirichlet, pactran_gamma, pactran_gaussian
from .parc import parc
from .pool import PoolMetricSpec
from .sfda import sfda
from .transrate import TRANSRATE_NEEDS, transrate, transrate_from_statistics

__all__ = [
    "MetricSpec", "METRIC_SPECS", "METRICS", "FEATURE_METRICS", "SOURCE_METRICS", "DEFAULT_SOURCE_METRICS", "Scores",
    "score_all",
    "POOL_METRIC_SPECS", "POOL_METRICS",
]


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: what it reads, what shared statistics it needs, how to compute it."""

    name: str
    function: Callable
    inputs: str  # "features" or "source_probs"
    description: str
    needs: frozenset = frozenset()
    from_statistics: Callable | None = None
    #: (n, d, class counts) -> why the metric cannot score such data (None: it can); checked by
    #: ``score_all`` before any statistic is computed
    refusal: Callable[[int, int, np.ndarray], str | None] | None = None
    default: bool = True  # in score_all's default set; False: costly (O(n^2) PARC, L-BFGS PACTran), asked by name


def _source_metric(name: str, function: Callable[[Array, Array], float], description: str) -> MetricSpec:
    return MetricSpec(name, function, "source_probs", description)


METRIC_SPECS: dict[str, MetricSpec] = {
    spec.name: spec
    for spec in [
        MetricSpec("h_score", h_score, "features", "H-score (Bao et al. 2019)", H_SCORE_NEEDS, h_score_from_statistics),
        MetricSpec(
            "shrinkage_h_score",
            shrinkage_h_score,
            "features",
            "H-score with Ledoit-Wolf shrinkage (Ibrahim et al. 2022)",
            SHRINKAGE_H_SCORE_NEEDS,
            shrinkage_h_score_from_statistics,
        ),
        MetricSpec("logme", logme, "features", "LogME (You et al. 2021)", LOGME_NEEDS, logme_from_statistics),
        MetricSpec(
            "gbc", gbc, "features", "GBC, diagonal Gaussians (Pandy et al. 2022)", GBC_NEEDS, gbc_from_statistics
        ),
        MetricSpec(
            "transrate",
            transrate,
            "features",
            "TransRate (Huang et al. 2022)",
            TRANSRATE_NEEDS,
            transrate_from_statistics,
        ),
        MetricSpec(
            "nleep", nleep, "features", "N-LEEP (Li et al. 2021)", refusal=lambda n, d, counts: nleep_refusal(counts)
        ),
        MetricSpec(
            "knn_accuracy",
            knn_accuracy,
            "features",
            "5-NN cross-validated accuracy (baseline)",
            refusal=lambda n, d, counts: cross_validation_refusal(counts),
        ),
        MetricSpec(
            "linear_probe_accuracy",
            linear_probe_accuracy,
            "features",
            "logistic-regression probe (baseline)",
            refusal=lambda n, d, counts: cross_validation_refusal(counts),
        ),
        _source_metric("nce", nce_from_probs, "NCE (Tran et al. 2019), hard labels = argmax"),
        _source_metric("leep", leep, "LEEP (Nguyen et al. 2020)"),
        _source_metric("nce_normalized", normalized_nce_from_probs, "1 + NCE / H(Y)"),
        _source_metric("leep_normalized", normalized_leep, "1 + LEEP / H(Y)"),
        # issue 26, metrics newer than the paper: asked for by name (not in score_all's default set)
        MetricSpec("parc", parc, "features", "PARC x 100 (Bolya et al. 2021); O(n^2), n <= 5000", default=False),
        MetricSpec("sfda", sfda, "features", "SFDA (Shao et al. 2022)", default=False),
        MetricSpec(
            "pactran_gaussian",
            pactran_gaussian,
            "features",
            "-PACTran-Gaussian, lambda = 1 (Ding et al. 2022)",
            default=False,
        ),
        MetricSpec(
            "pactran_dirichlet",
            pactran_dirichlet,
            "source_probs",
            "-PACTran-Dirichlet (Ding et al. 2022)",
            default=False,
        ),
        MetricSpec("pactran_gamma", pactran_gamma, "source_probs", "-PACTran-Gamma (Ding et al. 2022)", default=False),
    ]
}

METRICS: dict[str, Callable] = {name: spec.function for name, spec in METRIC_SPECS.items()}
#: the feature metrics of score_all's default set
FEATURE_METRICS = tuple(name for name, spec in METRIC_SPECS.items() if spec.inputs == "features" and spec.default)
#: every metric that reads source probabilities (membership says a metric needs them)
SOURCE_METRICS = tuple(name for name, spec in METRIC_SPECS.items() if spec.inputs == "source_probs")
DEFAULT_SOURCE_METRICS = tuple(name for name in SOURCE_METRICS if METRIC_SPECS[name].default)

#: Pool-relative metrics: a model's score depends on the other candidates, so they take the whole pool
#: (``function(features_by_model, labels)``) and are not in ``METRICS``/``score_all``; their per-model
#: ``components`` can be computed one model at a time and combined over a pool later (``spec.combine``).
POOL_METRIC_SPECS: dict[str, PoolMetricSpec] = {
    spec.name: spec
    for spec in [
        PoolMetricSpec("ncti", ncti, ncti_components, NCTI_WEIGHTS, "NCTI, pool-relative (Wang et al. 2023)"),
        PoolMetricSpec("etran", etran, etran_components, ETRAN_WEIGHTS, "ETran, pool-relative (Gholami et al. 2023)"),
    ]
}
POOL_METRICS: dict[str, Callable] = {name: spec.function for name, spec in POOL_METRIC_SPECS.items()}


class Scores(dict):
    """``score_all``'s result: {metric name: value} for the metrics that scored, plus ``label_entropy``.

    ``refused`` maps each requested metric that could not score these data to the reason (N-LEEP on
    too few samples per mixture component, the cross-validated baselines on a class of one sample,
    ...); ``constant_columns`` counts the feature columns dropped because they hold one value.
    """

    def __init__(self, values: dict[str, float] | None = None, *, refused: dict[str, str] | None = None,
                 constant_columns: int = 0) -> None:
        super().__init__(values or {})
        self.refused: dict[str, str] = dict(refused or {})
        self.constant_columns = constant_columns


def score_all(
    features: Array,
    labels: Array,
    *,
    source_probs: Array | None = None,
    metrics: Iterable[str] | None = None,
    device: str | None = None,
) -> Scores:
    """Score one embedding matrix with many metrics, sharing their statistics.

    One validation, one pass over the features (mean, Gram matrix, class sums, ...) for every
    covariance-based metric, so the call costs little more than the most expensive metric alone.
    With ``device`` (e.g. "cuda"), the covariance-based metrics run there whatever the features'
    own device: a numpy array is streamed to the GPU in row (or column) blocks, so it may be larger
    than the GPU's memory as long as the d x d (n >= d) or n x n (n < d) products fit. N-LEEP, kNN and
    the probe always run on the CPU (scikit-learn).

    A metric that cannot score these data (a ``ValueError`` of its own, e.g. N-LEEP with too few
    samples per mixture component) drops out of the result with its reason in ``Scores.refused``;
    the others are scored. Refusals known from n, d and the class counts (``MetricSpec.refusal``)
    are decided before any statistic is computed. Only when every requested metric is refused does
    ``score_all`` raise, with every reason. Bad input (NaN, one class, ...) raises as before.

    Args:
        features: (n, d) array or tensor. labels: (n,) integers 0..C-1.
        source_probs: optional (n, Z) source-model probabilities, enabling NCE and LEEP (and their
            label-entropy corrections).
        metrics: names from ``METRICS``; default: every feature metric of the default set, plus its
            source metrics when ``source_probs`` is given (PARC, SFDA and the PACTran members only by name).
        device: where to compute (a torch device name: "cpu", "cuda", "cuda:1"); default: where the
            features live.

    Returns:
        a :class:`Scores` dict {metric name: value}, in the order requested, plus ``label_entropy``
        (H(Y), nats); its ``refused`` attribute maps the metrics that could not score to why.

    Examples:
        >>> rng = np.random.default_rng(0)
        >>> labels = np.arange(2000) % 40
        >>> features = rng.standard_normal((2000, 8)) + labels[:, None]
        >>> scores = score_all(features, labels, metrics=["h_score", "nleep"])
        >>> sorted(scores), sorted(scores.refused)
        (['h_score', 'label_entropy'], ['nleep'])
    """
    if metrics is None:
        names = list(FEATURE_METRICS) + (list(DEFAULT_SOURCE_METRICS) if source_probs is not None else [])
    else:
        names = list(dict.fromkeys(metrics))
        pool = [name for name in names if name in POOL_METRIC_SPECS]
        if pool:
            raise ValueError(
                f"{pool} are pool-relative: a model's score depends on the other candidates, so score_all (one model) "
                f"cannot compute them; call gtransfer.metrics.{pool[0]}(features_by_model, labels) with the whole pool "
                f"(per-model parts: POOL_METRIC_SPECS[{pool[0]!r}].components), or `gtransfer rank --metrics {pool[0]}`"
            )
        unknown = [name for name in names if name not in METRIC_SPECS]
        if unknown:
            raise ValueError(f"unknown metrics {unknown}; available: {sorted(METRIC_SPECS)}")
    checked = check_features(features, device=device)
    labels = check_labels(labels, checked.shape[0])
    requested = names
    refused: dict[str, str] = {}
    for name in requested:
        refusal = METRIC_SPECS[name].refusal
        reason = refusal(checked.shape[0], checked.shape[1], np.bincount(labels)) if refusal is not None else None
        if reason is not None:
            refused[name] = reason
    names = [name for name in names if name not in refused]
    needs_probs = [name for name in names if METRIC_SPECS[name].inputs == "source_probs"]
    if needs_probs:
        if source_probs is None:
            raise ValueError(f"metrics {needs_probs} need source_probs (the source model's probabilities)")
        source_probs = check_probabilities(source_probs, labels.size)
    needs = frozenset().union(*(METRIC_SPECS[name].needs for name in names))
    stats = compute_statistics(checked, labels, needs) if needs else None
    results = Scores(refused=refused, constant_columns=checked.constant_columns)
    for name in names:
        spec = METRIC_SPECS[name]
        try:
            if spec.from_statistics is not None:
                results[name] = float(spec.from_statistics(stats))
            elif spec.inputs == "source_probs":
                results[name] = float(spec.function(source_probs, labels))
            else:
                results[name] = float(spec.function(features, labels))
        except ValueError as exc:  # this metric cannot score these data: the others still can
            results.refused[name] = str(exc)
    if results.refused and not any(name in results for name in names):
        reasons = "\n".join(f"{name}: {why}" for name, why in results.refused.items())
        raise ValueError(f"no requested metric can score these data:\n{reasons}")
    results.refused = {name: results.refused[name] for name in requested if name in results.refused}
    results["label_entropy"] = label_entropy(labels)
    return results
