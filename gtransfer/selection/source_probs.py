"""Stand-in source-model probabilities for encoders without a source head (for NCE and LEEP).

NCE and LEEP read the source model's predictions P (n x Z). The published graph encoders are
checkpoints of the encoder alone (the pretraining heads are not shipped), so gtransfer builds P from
the embeddings themselves -- the project's own definition, not the paper's: k-means with Z centres on
the standardised target features, then

    P_iz = softmax_z( -||x_i - c_z||^2 / tau ),   tau = mean_i min_z ||x_i - c_z||^2,

so a sample sits mostly, not entirely, in its nearest cluster. An encoder that separates the target's
classes into distinct clusters gets a high NCE/LEEP, as with a real source head.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["cluster_source_probs"]


def cluster_source_probs(features: npt.ArrayLike, num_clusters: int = 32, seed: int = 0) -> np.ndarray:
    """(n, Z) row-stochastic soft cluster assignments of ``features`` (see the module docstring).

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
