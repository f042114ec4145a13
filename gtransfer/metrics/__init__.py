"""The metric core: transferability metrics on any embedding matrix.

Arrays in, a Python float out. Inputs may be numpy arrays or torch tensors on any device; the work
runs in float64 where the input lives. The core knows nothing about graphs or images.

Every metric: ``metric(features, labels) -> float`` (NCE takes hard source labels, LEEP and
PACTran-Dirichlet/Gamma source probabilities). ``score_all`` computes many at once, sharing one pass over the features.
Pool-relative metrics (NCTI, ETran: ``POOL_METRICS``) take the whole candidate pool instead:
``metric(features_by_model, labels) -> {model: score}``.
"""

from ._backend import Array
from ._validation import ConstantColumnsWarning, as_class_indices
from .baselines import knn_accuracy, linear_probe_accuracy
from .corrections import (
    CORRECTIONS,
    correct_for_label_entropy,
    label_entropy,
    leep_gain,
    nce_gain,
    normalized_leep,
    normalized_nce,
)
from .etran import etran, etran_cls, etran_components, etran_energy
from .gbc import gbc
from .hscore import h_score, ledoit_wolf_shrinkage, shrinkage_h_score
from .leep import leep, nce, nleep
from .logme import logme, logme_multilabel, logme_regression
from .ncti import ncti, ncti_components
from .pactran import pactran_dirichlet, pactran_gamma, pactran_gaussian
from .parc import parc
from .pool import PoolMetricSpec, combine_components, min_max_normalise
from .registry import (
    DEFAULT_SOURCE_METRICS,
    FEATURE_METRICS,
    METRIC_SPECS,
    METRICS,
    POOL_METRIC_SPECS,
    POOL_METRICS,
    SOURCE_METRICS,
    MetricSpec,
    Scores,
    score_all,
)
from .sfda import sfda
from .transrate import transrate

__all__ = [
    "h_score",
    "logme_regression",
    "shrinkage_h_score",
    "ledoit_wolf_shrinkage",
    "logme",
    "nce",
    "leep",
    "nleep",
    "gbc",
    "transrate",
    "knn_accuracy",
    "linear_probe_accuracy",
    "score_all",
    "Scores",
    "ConstantColumnsWarning",
    "METRICS",
    "METRIC_SPECS",
    "MetricSpec",
    "FEATURE_METRICS",
    "SOURCE_METRICS",
    "label_entropy",
    "normalized_nce",
    "normalized_leep",
    "nce_gain",
    "leep_gain",
    "correct_for_label_entropy",
    "CORRECTIONS",
    "as_class_indices",
    "Array",
    "ncti",
    "ncti_components",
    "etran",
    "etran_components",
    "etran_energy",
    "etran_cls",
    "POOL_METRICS",
    "POOL_METRIC_SPECS",
    "PoolMetricSpec",
    "combine_components",
    "min_max_normalise",
    "logme_multilabel",
    "parc",
    "sfda",
    "pactran_dirichlet",
    "pactran_gamma",
    "pactran_gaussian",
    "DEFAULT_SOURCE_METRICS",
]
