r"""EXPERIMENTAL: a W2PGNN-style graphon distance between two collections of graphs.

Cao et al., "When to Pre-Train Graph Neural Networks? From Data Generation Perspective!", KDD 2023
(arXiv:2303.16458), in the simplified, well-defined form of ../shared/metrics_spec.md section 7b: one
sorted step-function graphon per collection at a fixed resolution K, compared by the square-loss
Gromov-Wasserstein discrepancy with uniform marginals. What is left out of the paper's method: the
total-variation denoising of the sorted-and-smoothed estimator (at a fixed K the block average is the
smoothing), the bilinear resize to 1000 x 1000, and the convex hull of several graphon bases (one
basis per collection here: the paper's ``domain`` basis with a single pre-training dataset).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._backend import on_one_blas_thread
from .graph_inputs import GraphCollection, as_adjacencies

__all__ = ["estimate_graphon", "gromov_wasserstein_square", "graphon_distance", "graphon_score"]


@lru_cache(maxsize=512)
def _overlaps(num_nodes: int, resolution: int) -> np.ndarray:
    """O[k, i] = length of [i/n, (i+1)/n) intersected with [k/K, (k+1)/K), as a (K, n) float64 array."""
    # in units of 1/(nK) every breakpoint is an integer: node i covers [iK, (i+1)K), cell k covers [kn, (k+1)n)
    points = np.union1d(np.arange(num_nodes + 1) * resolution, np.arange(resolution + 1) * num_nodes)
    starts, lengths = points[:-1], np.diff(points)
    out = np.zeros((resolution, num_nodes))
    np.add.at(out, (starts // num_nodes, starts // resolution), lengths / (num_nodes * resolution))
    out.flags.writeable = False
    return out


@on_one_blas_thread
def estimate_graphon(graphs: GraphCollection, *, resolution: int = 32) -> np.ndarray:
    r"""The sorted step-function graphon of a collection, averaged over its graphs, on a K x K grid.

    Each graph's nodes are sorted by degree (descending, ties by node id) and its adjacency is read as
    the step function W_G(x, y) = A[ceil(nx), ceil(ny)] on [0, 1]^2 (Lovasz's empirical graphon);
    the estimate is the mean over graphs of W_G's averages on the K x K cells:

    .. math::
        \hat W_{kl} = \frac{1}{|\mathcal G|} \sum_{G} K^2 \int_{k/K}^{(k+1)/K}\!\int_{l/K}^{(l+1)/K} W_G(x, y)\,dx\,dy .

    Exact for any graph size (no zero padding: a small graph is not diluted by the largest one, the
    bias of the official estimator); when K divides n it is the block average of the sorted adjacency.

    Args:
        graphs: one graph or a sequence of graphs (see :mod:`.graph_inputs`).
        resolution: K >= 1 (default 32).

    Returns:
        (K, K) symmetric float64 array with entries in [0, 1].

    Examples:
        >>> import numpy as np
        >>> triangle = (3, np.array([[0, 1, 2], [1, 2, 0]]))
        >>> estimate_graphon(triangle, resolution=3).tolist()
        [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0]]
    """
    if not isinstance(resolution, (int, np.integer)) or resolution < 1:
        raise ValueError(f"resolution must be an integer >= 1, got {resolution!r}")
    adjacencies = as_adjacencies(graphs)
    total = np.zeros((resolution, resolution))
    for adjacency in adjacencies:
        n = adjacency.shape[0]
        degree = np.diff(adjacency.indptr)
        rank = np.empty(n, dtype=np.int64)
        rank[np.lexsort((np.arange(n), -degree))] = np.arange(n)
        overlaps = _overlaps(n, int(resolution))[:, rank]  # (K, n): node i's share of each cell, in sorted position
        total += overlaps @ (adjacency @ overlaps.T)
    return total * (resolution**2 / len(adjacencies))


@on_one_blas_thread
def gromov_wasserstein_square(
    first: np.ndarray, second: np.ndarray, *, max_iter: int = 1000, tol: float = 1e-9
) -> float:
    r"""Square-loss Gromov-Wasserstein discrepancy between two K x K symmetric matrices, uniform marginals.

    .. math::
        GW^2(C, D) = \min_{T \in \Pi(u, u)} \sum_{i,j,k,l} (C_{ik} - D_{jl})^2\, T_{ij} T_{kl},
        \qquad u = \mathbf 1 / K ,

    computed as POT's ``ot.gromov.gromov_wasserstein2(C, D, loss_fun="square_loss")`` does it
    (Peyre et al. 2016; Vayer et al. 2019): conditional gradient from the product coupling u u^T, each
    step's linear problem solved exactly (with equal uniform marginals its vertices are permutations:
    ``scipy.optimize.linear_sum_assignment``), the step length by the exact line search of the
    quadratic, stopped when the objective changes by less than ``tol`` (absolute and relative) or
    after ``max_iter`` steps. GW^2 is non-convex: the value is that of the local optimum reached, an
    upper bound of the minimum. For two constant matrices p and q it is (p - q)^2 for any coupling.

    Args:
        first, second: (K, K) symmetric real matrices of one size K.

    Returns:
        GW^2 >= 0 (float; not square-rooted).

    Examples:
        >>> import numpy as np
        >>> round(gromov_wasserstein_square(np.full((4, 4), 0.5), np.full((4, 4), 0.2)), 12)
        0.09
    """
    c, d = (np.asarray(m, dtype=np.float64) for m in (first, second))
    for name, m in (("first", c), ("second", d)):
        if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] == 0:
            raise ValueError(
                f"gromov_wasserstein_square: {name} must be a non-empty square matrix, got shape {m.shape}"
            )
        if not np.all(np.isfinite(m)):
            raise ValueError(f"gromov_wasserstein_square: {name} holds NaN or inf")
        if not np.allclose(m, m.T, rtol=0, atol=1e-12 * max(1.0, float(np.abs(m).max()))):
            raise ValueError(f"gromov_wasserstein_square: {name} is not symmetric; symmetrise it, (M + M.T) / 2")
    if c.shape != d.shape:
        raise ValueError(f"gromov_wasserstein_square: the matrices must have one size, got {c.shape} and {d.shape}; "
                         "estimate both graphons at the same resolution")
    size = c.shape[0]
    # with uniform marginals, sum (C_ik - D_jl)^2 T_ij T_kl = const - 2 <C T D, T>, const = mean(C^2) + mean(D^2)
    constant = float((c**2).mean() + (d**2).mean())
    coupling = np.full((size, size), 1.0 / size**2)
    cross = c @ coupling @ d
    value = constant - 2.0 * float(np.vdot(cross, coupling))
    for _ in range(max_iter):
        rows, cols = linear_sum_assignment(-cross)  # minimises <-4 C T D, S> over permutations S / K
        direction = -coupling
        direction[rows, cols] += 1.0 / size
        cross_direction = c @ direction @ d
        # value(T + a D) = value - 4 a <C T D, D> - 2 a^2 <C D D', D>
        slope, curvature = -4.0 * float(np.vdot(cross, direction)), -2.0 * float(np.vdot(cross_direction, direction))
        if curvature > 0:
            step = min(1.0, max(0.0, -slope / (2.0 * curvature)))
        else:
            step = 1.0 if slope + curvature < 0 else 0.0
        new_value = value + step * slope + step**2 * curvature
        coupling += step * direction
        cross += step * cross_direction
        change = abs(new_value - value)
        value = new_value
        if change <= tol or change <= tol * abs(value):
            break
    return max(value, 0.0)


def graphon_distance(source: GraphCollection, target: GraphCollection, *, resolution: int = 32) -> float:
    r"""EXPERIMENTAL. GW^2 between the two collections' graphon estimates (lower: more similar; see
    :func:`graphon_score`).

    .. math::
        d(\mathcal G_s, \mathcal G_t) = GW^2\big(\hat W_s, \hat W_t\big)

    with :func:`estimate_graphon` at ``resolution`` K and :func:`gromov_wasserstein_square`, solved from
    both sides (source to target, target to source) and the smaller local optimum kept: both are upper
    bounds of the minimum, and the distance is then symmetric.

    Examples:
        >>> import numpy as np
        >>> complete4 = (4, np.array([[0, 0, 0, 1, 1, 2], [1, 2, 3, 2, 3, 3]]))
        >>> empty4 = (4, np.zeros((2, 0), dtype=int))
        >>> round(graphon_distance(complete4, empty4, resolution=4), 12)  # mean of (J - I)^2 on a 4 x 4 grid
        0.75
    """
    first, second = estimate_graphon(source, resolution=resolution), estimate_graphon(target, resolution=resolution)
    return min(gromov_wasserstein_square(first, second), gromov_wasserstein_square(second, first))


def graphon_score(source: GraphCollection, target: GraphCollection, *, resolution: int = 32) -> float:
    r"""EXPERIMENTAL. W2PGNN-style pre-training feasibility of ``source`` for ``target``: -GW^2 of their graphons.

    Cao et al., "When to Pre-Train Graph Neural Networks? From Data Generation Perspective!", KDD 2023:
    a downstream collection is a good pre-training target when its graphon is close to the graphons
    of the pre-training data. Simplified form (metrics_spec.md 7b; what it leaves out: this module's
    docstring):

    .. math::
        \zeta(\mathcal G_s, \mathcal G_t) = -\,GW^2\big(\hat W_s, \hat W_t\big), \qquad
        GW^2(C, D) = \min_{T \in \Pi(u, u)} \sum_{i,j,k,l} (C_{ik} - D_{jl})^2\, T_{ij} T_{kl},

    with \hat W the K x K sorted step-function graphon of each collection (:func:`estimate_graphon`) and
    GW^2 the square-loss Gromov-Wasserstein discrepancy with uniform marginals, not square-rooted
    (:func:`gromov_wasserstein_square`, solved from both sides, the smaller local optimum of a non-convex
    problem kept; deterministic: no random draw anywhere, so no seed). For Erdos-Renyi collections of densities p and q
    the graphons
    tend to the constants p and q and the distance to (p - q)^2. Label-free and feature-free.

    Experimental: the estimator is a simplification of the paper's (no TV denoising, no mixture of
    bases) and its ranking quality on real source/target pairs has not been measured yet.

    Args:
        source, target: a graph ``(num_nodes, edge_index)`` (numpy or torch) or a scipy sparse adjacency,
            or a sequence of graphs. Refused: graphs without nodes, empty collections, self-loops;
            one-directional edges are read as undirected.
        resolution: K, the graphon grid (default 32).

    Returns:
        -GW^2 (float, <= 0; higher is better).

    Examples:
        >>> import numpy as np
        >>> triangle = (3, np.array([[0, 1, 2], [1, 2, 0]]))
        >>> path = (3, np.array([[0, 1], [1, 2]]))
        >>> graphon_score(triangle, triangle, resolution=3)
        0.0
        >>> round(graphon_score(triangle, path, resolution=3), 4)
        -0.2222
    """
    return 0.0 - graphon_distance(source, target, resolution=resolution)
