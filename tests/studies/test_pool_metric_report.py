"""Pool-relative metrics in studies: score trials store per-model components, the report combines them per target."""

import numpy as np
import pytest

from gtransfer.metrics import POOL_METRIC_SPECS, etran, ncti
from gtransfer.selection.scoring import pool_component_columns
from gtransfer.studies.keys import trial_key
from gtransfer.studies.report.tables import ReportConfig, combine_pool_metrics, metric_scores
from gtransfer.studies.store import TrialStore

ENCODERS = ("good", "fair", "noise")


def _pool(target_seed: int) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Three encoders' features of one target's 120 samples, 3 classes: class signal 2.0, 0.7, 0."""
    rng = np.random.default_rng(target_seed)
    labels = np.arange(120) % 3
    signal = np.eye(3)[labels] @ rng.standard_normal((3, 6))
    return {name: rng.standard_normal((120, 6)) + strength * signal
            for name, strength in zip(ENCODERS, (2.0, 0.7, 0.0))}, labels


def test_a_report_of_two_targets_by_three_encoders_equals_the_pool_metric_per_target(tmp_path):
    pools = {f"t{i}": _pool(i) for i in range(2)}
    with TrialStore(tmp_path / "r.db") as store:
        keys = []
        for target, (features, labels) in pools.items():
            for encoder, x in features.items():
                params = {"encoder": encoder, "target": target, "seed": 0}
                keys.append(trial_key("score", params))
                result = {"h_score": 1.0, "n": 120, **pool_component_columns(x, labels, ["ncti", "etran"])}
                store.record(keys[-1], "score", params, result=result)
        store.register_study("s", {"name": "s"}, keys)
        scores = metric_scores(store, "s", ReportConfig())
    assert "ncti__seli" not in scores.columns  # components are not metrics of their own
    for target, (features, labels) in pools.items():
        rows = scores[scores["target"] == target].set_index("encoder")
        for name, function in (("ncti", ncti), ("etran", etran)):
            expected = function(features, labels)
            got = {encoder: rows.loc[encoder, name] for encoder in ENCODERS}
            assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), (target, name)
        assert rows.loc["good", "ncti"] > rows.loc["noise", "ncti"]  # a real ranking, not a tie


def test_a_pool_of_one_encoder_or_a_refused_component_is_nan_with_a_warning():
    import pandas as pd

    parts = POOL_METRIC_SPECS["ncti"].weights
    frame = pd.DataFrame([{"target": "a", "encoder": "e1", **{f"ncti__{p}": 1.0 for p in parts}},
                          {"target": "b", "encoder": "e1", **{f"ncti__{p}": 1.0 for p in parts}},
                          {"target": "b", "encoder": "e2", **{f"ncti__{p}": np.nan for p in parts}}])
    with pytest.warns(UserWarning, match="ncti: 2 target"):
        out = combine_pool_metrics(frame)
    assert out["ncti"].isna().all()
    assert out.attrs["pool_components"] == [f"ncti__{p}" for p in parts]
    with pytest.raises(ValueError, match="but not"):
        combine_pool_metrics(frame.drop(columns=["ncti__vc"]))


def test_components_that_refuse_the_data_are_nan_with_their_reason():
    labels = np.array([0, 0, 1])  # n <= 2C: the class-count rule refuses
    out = pool_component_columns(np.random.default_rng(0).standard_normal((3, 2)), labels, ["ncti"])
    assert all(np.isnan(out[f"ncti__{p}"]) for p in POOL_METRIC_SPECS["ncti"].weights)
    assert isinstance(out["refused_ncti"], str) and out["refused_ncti"]
