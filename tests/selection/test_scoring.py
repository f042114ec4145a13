"""selection/scoring.py: the scoring service behind gtransfer rank and the graph trial kinds."""

from __future__ import annotations

import numpy as np
import pytest

from gtransfer.embeddings.targets import target_embeddings
from gtransfer.models.specs import resolve_encoder
from gtransfer.selection.ranking import rank_encoders
from gtransfer.selection.scoring import score_encoder, source_probs_for
from gtransfer.selection.source_probs import cluster_source_probs

ENCODER = "random:gin:layers=2,dim=16,seed=0"
METRICS = ["shrinkage_h_score", "logme", "nce", "leep"]


def test_rank_and_score_encoder_give_the_same_values_through_the_one_source_closure(tmp_path):
    """Both read NCE/LEEP from ``source_probs_for``; the k-means stand-in (Z=32, seed 0) is every default of rank."""
    frame = rank_encoders("MUTAG", [ENCODER], metrics=METRICS, cache=tmp_path, progress=False, source="kmeans-stand-in")
    scores = score_encoder(ENCODER, "MUTAG", metrics=METRICS, source="kmeans-stand-in", cache=tmp_path)
    row = frame.iloc[0]
    for metric in METRICS:
        assert row[metric] == pytest.approx(scores[metric], rel=1e-12, abs=1e-12), metric
    assert row["source"] == scores["nce_leep_source"] == (
        "kmeans-stand-in: k-means of the target's own embeddings, Z=32 (not a source model)")
    assert (row["n"], row["d"]) == (scores["n"], scores["d"])


def test_source_probs_for_maps_any_rows_and_says_when_there_is_no_head(tmp_path):
    spec = resolve_encoder(ENCODER)
    embeddings = target_embeddings(spec, "MUTAG", cache=tmp_path)
    features = embeddings.part("train")[0].astype(np.float64)
    source, probs = source_probs_for(spec, features, embeddings, source="kmeans-stand-in", num_clusters=8, seed=3)
    assert source.startswith("kmeans-stand-in") and "Z=8" in source
    rows = features[:40]
    # the rows it is given, not the training split
    np.testing.assert_array_equal(probs(rows), cluster_source_probs(rows, num_clusters=8, seed=3))
    assert source_probs_for(spec, features, embeddings) == ("none: the encoder has no source head", None)
