"""The source probabilities theta (n, Z) that NCE and LEEP read, and where they come from.

NCE and LEEP score a *source model* by its predictions on the target's inputs (Tran et al. 2019;
Nguyen et al. 2020). :func:`source_probabilities` gives them, named by a ``source`` option:

* ``"head"`` (the default, the papers' definition): the source head an encoder was trained with
  (a graph source-zoo checkpoint, :mod:`gtransfer.models.source_heads`), applied to the target's
  embeddings. An encoder without one -- the published Hu et al. checkpoints ship the encoder alone,
  and ``random:`` encoders were never trained -- gets no probabilities (NCE/LEEP are NaN, and the
  reason is recorded).
* ``"kmeans-stand-in"``: **not a source model**. k-means with Z centres on the standardised target
  embeddings themselves, then

      P_iz = softmax_z( -||x_i - c_z||^2 / tau ),   tau = mean_i min_z ||x_i - c_z||^2,

  so a sample sits mostly, not entirely, in its nearest cluster. It measures how well the target's
  classes fall into clusters of the embedding -- a clustering score, not transfer from a source
  task -- and is kept only for encoders without a head, under a name that says so.

Every caller records :attr:`SourceProbabilities.source`, the one line naming what the NCE/LEEP
values of a row were computed from; reports and ``gtransfer rank`` print it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    from gtransfer.models.specs import EncoderSpec

__all__ = ["SOURCES", "SourceProbabilities", "cluster_source_probs", "source_probabilities"]

#: the values of the ``source`` option
SOURCES = ("head", "kmeans-stand-in")
NO_HEAD = "none: the encoder has no source head"


@dataclass(frozen=True)
class SourceProbabilities:
    """theta (n, Z) float64, or None when the encoder has no source of that kind; ``source`` names it."""

    probs: np.ndarray | None
    source: str


def source_probabilities(
    encoder: EncoderSpec,
    features: npt.ArrayLike,
    dataset: str,
    node_input: str | int,
    *,
    source: str = "head",
    num_clusters: int = 32,
    seed: int = 0,
) -> SourceProbabilities:
    """theta for NCE/LEEP of ``encoder`` on a target, from the ``source`` the caller names.

    Args:
        encoder: the resolved encoder whose embeddings ``features`` (n, D) are.
        dataset, node_input: the target's dataset name and node input (a featuriser or a float width),
            checked against what the source model was trained on.
        source: ``"head"`` or ``"kmeans-stand-in"`` (see the module docstring).
        num_clusters, seed: Z and the k-means seed of the stand-in.

    Raises:
        ValueError: an unknown ``source``; a source head trained on other inputs than the target's.
    """
    if source == "head":
        head = encoder.source_head
        if head is None:
            return SourceProbabilities(None, NO_HEAD)
        head.check_input(dataset, node_input)
        return SourceProbabilities(head.probabilities(np.asarray(features)), head.describe())
    if source == "kmeans-stand-in":
        probs = cluster_source_probs(features, num_clusters=num_clusters, seed=seed)
        return SourceProbabilities(
            probs, f"kmeans-stand-in: k-means of the target's own embeddings, Z={num_clusters} (not a source model)"
        )
    raise ValueError(f"unknown NCE/LEEP source {source!r}; choose one of {', '.join(SOURCES)}")


def cluster_source_probs(features: npt.ArrayLike, *, num_clusters: int = 32, seed: int = 0) -> np.ndarray:
    """(n, Z) row-stochastic soft k-means assignments of ``features``: the ``kmeans-stand-in`` source.

    Raises:
        ValueError: ``features`` not a finite 2-D array, or fewer samples than clusters.
    """
    from sklearn.cluster import KMeans

    features = np.asarray(features, dtype=np.float64)
    if features.ndim != 2 or not np.all(np.isfinite(features)):
        raise ValueError(f"features must be a finite 2-D array, got shape {features.shape}")
    if features.shape[0] < num_clusters:
        raise ValueError(f"need at least num_clusters={num_clusters} samples, got {features.shape[0]}")
    scale = features.std(axis=0)
    scaled = (features - features.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    centres = KMeans(n_clusters=num_clusters, n_init=3, random_state=seed).fit(scaled).cluster_centers_
    distances = ((scaled[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
    tau = max(float(distances.min(axis=1).mean()), 1e-12)
    logits = -distances / tau
    logits -= logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)
