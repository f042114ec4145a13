import numpy as np
import pytest
from scipy import stats

from gtransfer.evaluation import (
    ExclusionRule,
    correlation_ceiling,
    exclude_groups,
    spearman_brown,
    split_half_reliability,
)


def test_spearman_brown_predicts_the_reliability_of_the_seed_mean():
    """Truth per seed = z + noise: the all-seed mean's reliability is var z / (var z + s^2 / S) (Pearson, normal
    data; Spearman within 0.03 at 3,000 candidates)."""
    rng = np.random.default_rng(0)
    n, seeds, noise = 3000, 4, 1.0
    z = rng.standard_normal(n)
    truth = z[:, None] + noise * rng.standard_normal((n, seeds))
    result = split_half_reliability(truth)
    assert result.splits == 3 and result.seeds == 4  # {0,1}|{2,3}, {0,2}|{1,3}, {0,3}|{1,2}
    theory = 1.0 / (1.0 + noise**2 / seeds)
    assert result.reliability == pytest.approx(theory, abs=0.03)
    assert result.ceiling == pytest.approx(np.sqrt(result.reliability))
    # the ceiling bounds the truth's correlation with the noiseless z (what a perfect metric would score)
    observed = stats.spearmanr(z, truth.mean(1)).statistic
    assert observed == pytest.approx(result.ceiling, abs=0.03)


def test_formulas():
    assert spearman_brown(0.5) == pytest.approx(2 / 3)
    assert spearman_brown(0.5, k=3) == pytest.approx(0.75)
    assert correlation_ceiling(0.64) == pytest.approx(0.8)
    assert correlation_ceiling(0.64, metric_reliability=0.25) == pytest.approx(0.4)
    assert correlation_ceiling(-0.2) == 0.0
    with pytest.raises(ValueError, match="seeds >= 2"):
        split_half_reliability(np.ones((5, 1)))


def test_exclusion_rule_counts_what_it_leaves_out():
    rule = ExclusionRule(min_test_positives=5, min_seed_agreement=0.3)
    groups = {
        "tox21:0": {"test_positives": 2, "seed_agreement": 0.8},
        "clintox:0": {"test_positives": 3, "seed_agreement": 0.1},
        "bbbp": {"test_positives": 40, "seed_agreement": 0.7},
        "bace": {"test_positives": 60, "seed_agreement": 0.2},
        "sider:6": {"test_positives": 30},  # one seed: agreement unknown
    }
    result = exclude_groups(groups, rule)
    assert result.kept == ("bbbp",)
    assert result.excluded["clintox:0"] == ("fewer than 5 test positives", "seed agreement below 0.3")
    assert result.counts == {"fewer than 5 test positives": 2, "seed agreement below 0.3": 2,
                             "seed agreement unknown (fewer than 2 seeds)": 1}
    assert result.summary().startswith("excluded 4 of 5 groups: 2 with fewer than 5 test positives")
    keep_unknown = exclude_groups(groups, ExclusionRule(min_seed_agreement=0.3, unknown_agreement="keep"))
    assert set(keep_unknown.kept) == {"tox21:0", "bbbp", "sider:6"}
    assert ExclusionRule.from_dict(rule.as_dict()) == rule
    with pytest.raises(ValueError, match="unknown keys"):
        ExclusionRule.from_dict({"min_positives": 3})
    with pytest.raises(ValueError, match="unknown properties"):
        exclude_groups({"x": {"positives": 3}}, rule)


def test_reliability_per_group_of_a_long_table():
    from gtransfer.evaluation import reliability_per_group
    from tests.evaluation.synthetic import evaluation_table

    frame = evaluation_table(datasets=2, tasks=2, seed_noise=0.5)
    seeds = ["truth_s0", "truth_s1", "truth_s2"]
    frame.loc[frame.index[0], "truth_s2"] = float("nan")  # one group misses a seed value
    table = reliability_per_group(frame, seeds)
    assert list(table.index) == sorted(frame["target"].unique())
    assert np.isnan(table.loc["d0:0", "r_half"]) and table.loc["d0:0", "splits"] == 0
    part = frame[frame["target"] == "d1:1"]
    expected = split_half_reliability(part[seeds].to_numpy())
    assert table.loc["d1:1", "reliability"] == pytest.approx(expected.reliability)
    assert table.loc["d1:1", "ceiling"] == pytest.approx(expected.ceiling) and table.loc["d1:1", "splits"] == 3
    with pytest.raises(ValueError, match="2 or more seed columns"):
        reliability_per_group(frame, ["truth_s0"])
