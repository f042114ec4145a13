"""The `score` trial kind keeps the metrics that can score when one cannot (N-LEEP on C = 40, n = 2,000 failed the
trial)."""

from __future__ import annotations

import numpy as np
import pytest

from gtransfer.metrics import h_score, logme
from gtransfer.studies.registry import get_trial_kind


def test_the_score_kind_stores_h_score_and_logme_when_nleep_refuses(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(2000) % 40
    features = rng.standard_normal((2000, 6)) + 0.2 * labels[:, None]
    np.save(tmp_path / "f.npy", features)
    np.save(tmp_path / "y.npy", labels)
    result = get_trial_kind("score")({"features": str(tmp_path / "f.npy"), "labels": str(tmp_path / "y.npy"),
                                     "metrics": ["h_score", "logme", "nleep"]})
    assert "nleep" not in result
    assert result["h_score"] == pytest.approx(h_score(features, labels), rel=1e-12)
    assert result["logme"] == pytest.approx(logme(features, labels), rel=1e-12)
    assert (result["n"], result["d"], result["num_classes"]) == (2000, 6, 40)
