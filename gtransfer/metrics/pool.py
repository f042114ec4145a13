r"""Pool-relative metrics: scores that rank a candidate against the rest of a candidate pool.

NCTI (Wang et al., ICCV 2023) and ETran (Gholami et al., ICCV 2023) compute a few per-model
*components* (each an ordinary function of one model's features), then min-max normalise each
component over the candidate pool and add them with fixed weights:

.. math::
    \tilde s_j(m) = \frac{s_j(m) - \min_{m'} s_j(m')}{\max_{m'} s_j(m') - \min_{m'} s_j(m')}, \qquad
    T(m) = \sum_j w_j\, \tilde s_j(m).

So a model's score depends on which other models are in the pool: adding or removing a candidate
can change every score, and only the order within one pool means anything (not the values across
pools or targets). The scores lie in [sum of negative weights, sum of positive weights]; the best
model on every component gets the sum of the positive weights.

A component on which every model ties is set to 0 for every model (the released code divides 0 by 0
and returns NaN): it cannot tell the candidates apart, so it adds nothing. Values within a relative
``TIE_RTOL`` = 1e-9 of each other count as a tie: min-max would otherwise blow rounding noise up to
the full [0, 1] range (ETran's LDA term saturates at 1 for every model when n < d, for instance).

Reports that store the components of each (model, target) can combine them later with
:func:`combine_components`, without the embeddings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from ._backend import Array, _is_torch_tensor

__all__ = ["PoolMetricSpec", "min_max_normalise", "combine_components", "pool_items", "score_pool"]

K = TypeVar("K", bound=Hashable)

#: A component whose range over the pool is at most this fraction of its largest magnitude is a tie.
TIE_RTOL = 1e-9


def pool_items(
    features_by_model: Mapping[K, Array] | Sequence[Array], *, name: str = "features_by_model"
) -> list[tuple[K | int, Array]]:
    """The pool as (key, features) pairs: a mapping keeps its keys, a sequence is keyed 0..M-1.

    Raises:
        TypeError: one feature matrix instead of a pool, or something that is neither.
        ValueError: fewer than two candidates (a pool-relative score needs others to compare with).
    """
    if _is_torch_tensor(features_by_model) or hasattr(features_by_model, "ndim"):
        raise TypeError(
            f"{name} must be the whole candidate pool (a mapping name -> (n, d) features, or a list of them), "
            f"got one array of shape {tuple(cast(Any, features_by_model).shape)}; pool-relative metrics compare "
            "models, so pass every candidate, or use the per-model components function for one model"
        )
    items: list[tuple[K | int, Array]]
    if isinstance(features_by_model, Mapping):
        items = list(features_by_model.items())
    elif isinstance(features_by_model, Sequence) and not isinstance(features_by_model, (str, bytes)):
        items = list(enumerate(features_by_model))
    else:
        raise TypeError(
            f"{name} must be a mapping name -> features or a sequence of feature matrices, got "
            f"{type(features_by_model).__name__}"
        )
    if len(items) < 2:
        raise ValueError(
            f"{name} holds {len(items)} candidate(s): a pool-relative metric needs at least two models to compare "
            "(its components min-max normalise over the pool); use the per-model components function for one model"
        )
    return items


def min_max_normalise(values: Mapping[K, float]) -> dict[K, float]:
    """(v - min) / (max - min) over the pool; 0 for every model when all tie (within ``TIE_RTOL``).

    Raises:
        ValueError: a NaN or infinite value (named by its key).

    Examples:
        >>> min_max_normalise({'a': 2.0, 'b': 4.0, 'c': 3.0})
        {'a': 0.0, 'b': 1.0, 'c': 0.5}
    """
    bad = {key: value for key, value in values.items() if not math.isfinite(value)}
    if bad:
        raise ValueError(f"pool components must be finite, got {bad}")
    low, high = min(values.values()), max(values.values())
    span = high - low
    if span <= TIE_RTOL * max(abs(low), abs(high)):
        return {key: 0.0 for key in values}
    return {key: (value - low) / span for key, value in values.items()}


def combine_components(components: Mapping[K, Mapping[str, float]], weights: Mapping[str, float]) -> dict[K, float]:
    """T(m) = sum_j w_j (s_j(m) normalised over the pool), for precomputed per-model components.

    Args:
        components: {model: {component name: value}}, every model with every name in ``weights``.
        weights: {component name: weight}.

    Raises:
        ValueError: fewer than two models, a model without one of the components, or a non-finite value.

    Examples:
        >>> components = {'a': {'x': 1.0, 'y': 0.0}, 'b': {'x': 0.0, 'y': 2.0}}
        >>> combine_components(components, {'x': 1.0, 'y': -0.5})
        {'a': 1.0, 'b': -0.5}
    """
    if len(components) < 2:
        raise ValueError(f"a pool-relative score needs at least two models, got {len(components)}")
    missing = {key: sorted(set(weights) - set(parts)) for key, parts in components.items() if set(weights) - set(parts)}
    if missing:
        raise ValueError(f"models lack components {missing}; each needs {sorted(weights)}")
    total = {key: 0.0 for key in components}
    for name, weight in weights.items():
        for key, value in min_max_normalise({key: float(parts[name]) for key, parts in components.items()}).items():
            total[key] += weight * value
    return total


def score_pool(
    components: Callable[..., dict[str, float]],
    features_by_model: Mapping[K, Array] | Sequence[Array],
    labels: Array,
    weights: Mapping[str, float],
    **options: object,
) -> dict[K | int, float]:
    """Components of each model of the pool (``components(features, labels, **options)``), combined."""
    items = pool_items(features_by_model)
    return combine_components({key: components(features, labels, **options) for key, features in items}, weights)


@dataclass(frozen=True)
class PoolMetricSpec:
    """A registered pool-relative metric.

    ``function(features_by_model, labels, **options) -> {model: score}`` scores a whole pool;
    ``components(features, labels, **options) -> {component: value}`` is its per-model part (not
    pool-relative), and ``weights`` combine the components (:meth:`combine`) at the default options.
    """

    name: str
    function: Callable[..., dict]
    components: Callable[..., dict[str, float]]
    weights: Mapping[str, float]
    description: str

    def combine(self, components_by_model: Mapping[K, Mapping[str, float]]) -> dict[K, float]:
        """Pool scores from per-model components computed earlier (e.g. stored by a study)."""
        return combine_components(components_by_model, self.weights)
