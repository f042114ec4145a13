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


def test_the_score_kind_stores_each_refusal_with_its_reason_and_the_report_reads_only_the_values(tmp_path):
    """The kind stored the metrics that scored but dropped ``scores.refused``: why N-LEEP was missing was lost."""
    from gtransfer.metrics import score_all
    from gtransfer.studies.report.tables import ReportConfig, metric_scores
    from gtransfer.studies.runner import run_sweep
    from gtransfer.studies.spec import load_spec
    from gtransfer.studies.store import TrialStore
    from tests.study_helpers import probe_spec, write_embedding_study, write_spec

    write_embedding_study(tmp_path, targets=("t1",), n=300)
    write_embedding_study(tmp_path, targets=("t2",), n=20)  # N-LEEP's mixture needs more samples than 20
    raw = probe_spec(name="refusals", kind="score", seeds=[0], targets=["t1", "t2"])
    raw.pop("grid")
    raw["params"]["metrics"] = ["logme", "nleep"]
    with TrialStore(tmp_path / "r.db") as store:
        assert run_sweep(load_spec(write_spec(tmp_path, raw)), store, progress=False).failed == 0
        results = {(r.params["encoder"], r.params["target"]): r.result for r in store.records(status="ok")}
        for (encoder, target), result in results.items():
            features = np.load(tmp_path / "emb" / f"{encoder}_{target}.npy")
            labels = np.load(tmp_path / f"y_{target}.npy")
            refused = score_all(features, labels, metrics=["logme", "nleep"]).refused
            assert ("nleep" in result) == (target == "t1") and bool(refused) == (target == "t2")
            stored = {k: v for k, v in result.items() if k.startswith("refused_")}
            assert stored == {f"refused_{k}": v for k, v in refused.items()}
        scores = metric_scores(store, "refusals", ReportConfig({"candidate": "encoder", "group": "target"}))
    assert "refused_nleep" not in scores.columns and {"logme", "nleep"} <= set(scores.columns)
    assert scores.loc[scores["target"] == "t2", "nleep"].isna().all()
