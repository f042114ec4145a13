"""Measures of one group: how well a metric's scores over the candidates follow the truth
(correlations, selection quality), the candidate-level bootstrap, and relative accuracy
(docs/design.md sections 2-3, docs/evaluation.md).

Every function takes ``scores`` (a metric's value per candidate) and ``truth`` (the fine-tuned
performance per candidate), 1-D and of equal length. Scores are higher-is-better (every transferability
metric here is). The truth may be lower-is-better (RMSE, MAE of regression targets): pass
``higher_is_better=False`` (:func:`truth_higher_is_better` decides it from the truth's name), and every
measure treats the lowest truth as the best candidate: correlations are taken with :math:`-truth`, so a
positive correlation still means "the metric ranks good encoders first"; top-1 relative accuracy becomes
best error / chosen error; regret becomes chosen error - best error (both >= 0 as before).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from gtransfer.evaluation.bootstrap import percentile_interval

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = [
    "pearson",
    "spearman",
    "kendall",
    "weighted_kendall",
    "top1_relative_accuracy",
    "regret",
    "CORRELATIONS",
    "MEASURES",
    "Measure",
    "bootstrap_ci",
    "evaluate_metric",
    "majority_accuracy",
    "relative_accuracy",
    "relative_to_majority",
    "relative_to_scratch",
    "relative_auc",
    "numerically_constant",
    "truth_higher_is_better",
    "LOWER_IS_BETTER",
]

#: truth measures where lower is better (a name is matched by its last ``_``-separated part: ``test_rmse``)
LOWER_IS_BETTER = frozenset({"rmse", "mae", "mse", "error", "loss"})


def truth_higher_is_better(name: str) -> bool:
    """False for a truth named like an error (``rmse``, ``test_rmse``, ``valid_mae``, ``loss``), else True."""
    return str(name).rsplit("_", 1)[-1].lower() not in LOWER_IS_BETTER


def _oriented(truth: np.ndarray, higher_is_better: bool) -> np.ndarray:
    """The truth turned higher-is-better (negated when lower is better)."""
    return truth if higher_is_better else -truth


def _pair(scores: npt.ArrayLike, truth: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    scores = np.asarray(scores, dtype=np.float64)
    truth = np.asarray(truth, dtype=np.float64)
    if scores.ndim != 1 or truth.ndim != 1:
        raise ValueError(f"scores and truth must be 1-D, got shapes {scores.shape} and {truth.shape}")
    if scores.size != truth.size:
        raise ValueError(f"scores has {scores.size} candidates but truth has {truth.size}")
    if scores.size < 2:
        raise ValueError("need at least two candidates to evaluate a metric")
    if not (np.all(np.isfinite(scores)) and np.all(np.isfinite(truth))):
        raise ValueError("scores and truth must be finite (a metric returned NaN or inf?)")
    return scores, truth


def _correlation(
    statistic: Callable, scores: npt.ArrayLike, truth: npt.ArrayLike, higher_is_better: bool = True
) -> float:
    """A scipy correlation statistic of scores with the (oriented) truth; NaN when either side is constant
    (undefined)."""
    scores, truth = _pair(scores, truth)
    if np.ptp(scores) == 0 or np.ptp(truth) == 0:
        return float("nan")
    return float(statistic(scores, _oriented(truth, higher_is_better)).statistic)


def numerically_constant(values: npt.ArrayLike, *, rtol: float = 1e-5) -> bool:
    """True when the values differ by less than ``rtol`` of their magnitude (ties up to rounding).

    A metric constant over the candidates ranks nothing: H-score saturates at C - 1 for every
    encoder when n <= d, and its "ranking" is then rounding noise.
    """
    values = np.asarray(values, dtype=np.float64)
    return bool(np.all(np.isfinite(values))) and float(np.ptp(values)) <= rtol * max(1.0, float(np.max(np.abs(values))))


def pearson(scores: npt.ArrayLike, truth: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """Pearson's linear correlation coefficient r."""
    from scipy.stats import pearsonr

    return _correlation(pearsonr, scores, truth, higher_is_better)


def spearman(scores: npt.ArrayLike, truth: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """Spearman's rank correlation rho."""
    from scipy.stats import spearmanr

    return _correlation(spearmanr, scores, truth, higher_is_better)


def kendall(scores: npt.ArrayLike, truth: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """Kendall's tau-b (ties accounted for)."""
    from scipy.stats import kendalltau

    return _correlation(kendalltau, scores, truth, higher_is_better)


def weighted_kendall(scores: npt.ArrayLike, truth: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    r"""Weighted Kendall tau with hyperbolic weights 1/(r + 1) (Vigna 2015; ``scipy.stats.weightedtau`` with its
    defaults, the convention of SFDA, NCTI, ETran and Agostinelli et al. 2022): the weigher is 1/(r + 1) of the
    rank r (0 = best), a swap costs the sum of its two elements' weights, and with ``rank=True`` the value is the
    mean of the two values ranked by the scores and by the truth. Swaps among the top-ranked candidates cost more,
    which suits model selection."""
    from scipy.stats import weightedtau

    return _correlation(weightedtau, scores, truth, higher_is_better)


def top1_relative_accuracy(scores: npt.ArrayLike, truth: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """Performance of the candidate the metric ranks first, divided by the best performance; for a
    lower-is-better truth (an error), the best (lowest) error divided by the chosen candidate's. In (0, 1]."""
    scores, truth = _pair(scores, truth)
    chosen = truth[np.argmax(scores)]
    if higher_is_better:
        best = truth.max()
        if best <= 0:
            raise ValueError("top-1 relative accuracy needs a positive best performance")
        return float(chosen / best)
    best = truth.min()
    if best <= 0:
        raise ValueError("top-1 relative accuracy of an error needs positive errors (the best error is <= 0)")
    return float(best / chosen)


def regret(scores: npt.ArrayLike, truth: npt.ArrayLike, *, higher_is_better: bool = True) -> float:
    """How much worse the candidate the metric ranks first is than the best one (>= 0): best - chosen,
    or chosen - best for a lower-is-better truth."""
    scores, truth = _pair(scores, truth)
    chosen = truth[np.argmax(scores)]
    return float(truth.max() - chosen) if higher_is_better else float(chosen - truth.min())


@dataclass(frozen=True)
class Measure:
    """A measure of one group and its orientation: ``higher_is_better`` says which way a metric should push it
    (regret is the one measure where lower is better); ``bounds`` is its range."""

    name: str
    fn: Callable[..., float]
    higher_is_better: bool
    bounds: tuple[float, float]
    formula: str


CORRELATIONS: dict[str, Callable] = {
    "pearson": pearson,
    "spearman": spearman,
    "kendall": kendall,
    "weighted_kendall": weighted_kendall,
    "top1_relative_accuracy": top1_relative_accuracy,
    "regret": regret,
}

#: every measure with its orientation, in one table (docs/evaluation.md section 1)
MEASURES: dict[str, Measure] = {
    "pearson": Measure("pearson", pearson, True, (-1.0, 1.0), "cov(s, t) / (sd(s) sd(t))"),
    "spearman": Measure("spearman", spearman, True, (-1.0, 1.0), "Pearson of the average ranks"),
    "kendall": Measure("kendall", kendall, True, (-1.0, 1.0), "tau-b = (P - Q) / sqrt((P + Q + T_s)(P + Q + T_t))"),
    "weighted_kendall": Measure("weighted_kendall", weighted_kendall, True, (-1.0, 1.0),
                                "scipy.stats.weightedtau: hyperbolic weigher 1/(r + 1), rank=True (Vigna 2015)"),
    "top1_relative_accuracy": Measure("top1_relative_accuracy", top1_relative_accuracy, True, (0.0, 1.0),
                                      "t[argmax s] / max t"),
    "regret": Measure("regret", regret, False, (0.0, float("inf")), "max t - t[argmax s]"),
}


def bootstrap_ci(
    fn: Callable[[np.ndarray, np.ndarray], float],
    scores: npt.ArrayLike,
    truth: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """(estimate, low, high): ``fn`` on the data and its percentile interval over candidate resamples.

    Resamples whose ``fn`` is undefined (all scores or all truths equal, giving NaN) are left out
    and counted in a warning; the interval uses the rest.
    """
    scores, truth = _pair(scores, truth)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    estimate = fn(scores, truth)
    rng = np.random.default_rng(seed)
    values = np.empty(n_boot)
    for b in range(n_boot):
        index = rng.integers(0, scores.size, scores.size)
        try:
            values[b] = fn(scores[index], truth[index])
        except ValueError:
            values[b] = np.nan
    undefined = int(np.isnan(values).sum())
    if undefined:
        warnings.warn(f"bootstrap: {undefined} of {n_boot} resamples were degenerate and left out", stacklevel=2)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return float(estimate), float("nan"), float("nan")
    low, high = percentile_interval(values, level=level)
    return float(estimate), low, high


def evaluate_metric(
    scores: npt.ArrayLike,
    truth: npt.ArrayLike,
    *,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    higher_is_better: bool = True,
) -> dict[str, tuple[float, float, float]]:
    """Every measure of ``CORRELATIONS`` with its bootstrap interval: {name: (estimate, low, high)};
    ``higher_is_better=False`` for an error as truth (see the module docstring)."""
    from functools import partial

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {
            name: bootstrap_ci(
                partial(fn, higher_is_better=higher_is_better), scores, truth, n_boot=n_boot, seed=seed, level=level
            )
            for name, fn in CORRELATIONS.items()
        }


def majority_accuracy(labels: npt.ArrayLike, *, train_labels: npt.ArrayLike | None = None) -> float:
    """Accuracy on ``labels`` of always predicting one class: the most frequent class of ``train_labels``.

    Without ``train_labels`` the class is the most frequent of ``labels`` themselves (the best constant
    prediction). Trials pass their training labels, so the baseline is what a model that learnt only
    the class prior would score on the test split. Ties go to the smallest class id.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        raise ValueError("labels are empty")
    reference = labels if train_labels is None else np.asarray(train_labels)
    if reference.size == 0:
        raise ValueError("train_labels are empty")
    values, counts = np.unique(reference, return_counts=True)
    majority = values[np.argmax(counts)]
    return float(np.mean(labels == majority))


def relative_accuracy(accuracy: float, baseline: float) -> float:
    """(acc - baseline) / (1 - baseline): the share of the attainable gain over a baseline."""
    if not 0.0 <= baseline < 1.0:
        raise ValueError(f"baseline accuracy must be in [0, 1), got {baseline}")
    return (accuracy - baseline) / (1.0 - baseline)


def relative_to_majority(accuracy: float, test_labels: npt.ArrayLike) -> float:
    """Relative accuracy against the majority-class baseline of the same test split (the default)."""
    return relative_accuracy(accuracy, majority_accuracy(test_labels))


def relative_to_scratch(accuracy: float, scratch_accuracy: float) -> float:
    """acc - acc_scratch: the gain of transfer over training the same target from scratch."""
    return accuracy - scratch_accuracy


def relative_auc(auc: float) -> float:
    """(AUC - 0.5) / 0.5 for ROC-AUC targets, where chance is 0.5."""
    return (auc - 0.5) / 0.5
