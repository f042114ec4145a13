import numpy as np
import pytest

from gtransfer.evaluation import (
    Decision,
    hierarchical_bootstrap,
    per_group_measure,
    perturbed_setups,
    rule_verdict,
    verdict_stability,
)
from tests.evaluation.synthetic import evaluation_table


def _decide(margin):
    def decide(frame, truth):
        values = {name: per_group_measure(frame, name, truth) for name in ("metric", "noise", "anti")}
        datasets = [g.split(":")[0] for g in values["metric"].index]
        interval = hierarchical_bootstrap(values["metric"].to_numpy(), datasets=datasets, n_boot=500)
        return Decision(rule_verdict(interval, margin), {k: float(v.mean()) for k, v in values.items()})
    return decide


def _table(metric_noise):
    frame = evaluation_table(metric_noise=metric_noise, seed=1)
    rng = np.random.default_rng(2)
    frame["noise"] = rng.standard_normal(len(frame))
    frame["anti"] = -frame["metric"]
    return frame


def test_setups_cover_every_perturbation():
    frame = _table(0.3)
    setups = perturbed_setups(frame, "truth", leave_out=2, candidate_draws=10, truth_seeds=["truth_s0", "truth_s1"],
                              score_samples={"n=50": frame})
    kinds = [s.kind for s in setups]
    assert kinds[0] == "base"
    assert kinds.count("leave-k-candidates-out") == 10 and kinds.count("leave-one-dataset-out") == 6
    assert kinds.count("truth-seed") == 2 and kinds.count("score-sample") == 1
    dropped = setups[1].frame
    assert dropped["encoder"].nunique() == 10 and dropped["target"].nunique() == 30
    assert "d0" not in {t.split(":")[0] for t in setups[11].frame["target"]}
    with pytest.raises(ValueError, match="leave_out"):
        perturbed_setups(frame, "truth", leave_out=11)


def test_a_clear_verdict_is_stable_and_a_borderline_one_is_not():
    frame = _table(0.3)
    setups = perturbed_setups(frame, "truth", candidate_draws=12, truth_seeds=["truth_s0", "truth_s1", "truth_s2"])
    clear = verdict_stability(setups, _decide(0.5))
    assert clear.verdict == "reproduced" and clear.share == 1.0
    assert clear.setups == len(setups) - 1 == 12 + 6 + 3
    assert clear.by_kind["leave-one-dataset-out"] == (6, 6)
    assert clear.kendalls_w == pytest.approx(1.0) and clear.mean_pairwise_tau == pytest.approx(1.0)
    assert "in 21 of 21 perturbed setups (100%" in str(clear)
    # a margin at the estimate itself: perturbed setups fall on both sides
    base = _decide(0.0)(frame, "truth").values["metric"]
    borderline = verdict_stability(setups, _decide(base - 0.03))
    assert 0.0 < borderline.share < 1.0, borderline
    with pytest.raises(ValueError, match="kind 'base'"):
        verdict_stability(setups[1:], _decide(0.5))


def test_many_candidate_pools_are_drawn_without_listing_them_all():
    """C(138, 10) is about 2e15 pools: they are drawn, never enumerated (enumerating them ran out of memory)."""
    import pandas as pd

    candidates = [f"t{i}" for i in range(138)]
    frame = pd.DataFrame({"encoder": candidates * 2, "target": ["A:0"] * 138 + ["B:0"] * 138,
                          "truth": np.arange(276.0)})
    setups = perturbed_setups(frame, "truth", leave_out=10, candidate_draws=20)
    drawn = [s for s in setups if s.kind == "leave-k-candidates-out"]
    assert len(drawn) == 20
    assert all(s.frame["encoder"].nunique() == 128 for s in drawn)
