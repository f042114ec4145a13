"""Deciding claims: paired differences over groups, their intervals and the verdict rule."""

import numpy as np
import pandas as pd
import pytest

from gtransfer.studies.claims import (
    Interval,
    geometric_mean_interval,
    mean_interval,
    paired_differences,
    verdict,
    within_family_spearman,
)


def test_mean_interval_brackets_the_mean_and_narrows_with_more_groups():
    rng = np.random.default_rng(0)
    few = mean_interval(rng.normal(0.3, 0.2, 10))
    many = mean_interval(rng.normal(0.3, 0.2, 400))
    assert few.low < few.estimate < few.high and few.count == 10
    assert (many.high - many.low) < (few.high - few.low) / 4  # width ~ 1/sqrt(n)
    assert many.low < 0.3 < many.high
    assert mean_interval([1.0, np.nan, 3.0]).estimate == 2.0  # NaN left out
    with pytest.raises(ValueError, match="no finite value"):
        mean_interval([np.nan])
    speed = geometric_mean_interval([2.0, 8.0])
    assert speed.estimate == pytest.approx(4.0) and 2.0 <= speed.low <= speed.high <= 8.0


def test_verdict_never_calls_reproduced_an_interval_that_includes_the_opposite():
    assert verdict(Interval(0.3, 0.1, 0.5, 40)) == "reproduced"
    assert verdict(Interval(0.3, -0.01, 0.5, 40)) == "inconclusive"
    assert verdict(Interval(-0.3, -0.5, -0.1, 40)) == "contradicted"
    assert verdict(Interval(-0.05, -0.08, -0.02, 40), margin=-0.1) == "reproduced"  # non-inferiority at 0.1
    assert verdict(Interval(-0.3, -0.4, -0.2, 40), margin=-0.1) == "contradicted"


def test_paired_differences_pair_by_group_and_count_a_tie_as_no_ranking():
    per_group = pd.DataFrame({
        "group": ["t1", "t1", "t2", "t2", "t3"],
        "metric": ["shrinkage_h_score", "h_score", "shrinkage_h_score", "h_score", "shrinkage_h_score"],
        "truth": ["auc"] * 5,
        "spearman": [0.5, 0.2, 0.4, np.nan, 0.9],  # t2: H-score tied every candidate; t3: no H-score row
    })
    gains = paired_differences(per_group, "shrinkage_h_score", "h_score", "auc")
    assert gains.to_dict() == pytest.approx({"t1": 0.3, "t2": 0.4})  # t3 has no pair: left out
    assert paired_differences(per_group, "shrinkage_h_score", "h_score", "auc", nan_as_zero=False).to_dict() == pytest.approx({"t1": 0.3})
    with pytest.raises(ValueError, match="no 'logme' against 'auc'; metrics present"):
        paired_differences(per_group, "logme", "h_score", "auc")


def test_within_family_spearman_resamples_targets_inside_each_family():
    rng = np.random.default_rng(1)
    rows = []
    for family in ("A", "B", "C"):
        truth = rng.normal(size=12)
        for t, value in enumerate(truth):
            rows.append({"family": family, "target": f"{family}{t}", "acc": value, "good": value, "bad": -value,
                         "noise": rng.normal()})
    frame = pd.DataFrame(rows)
    perfect = within_family_spearman(frame, "good", "acc")
    assert perfect.estimate == pytest.approx(1.0) and perfect.low == pytest.approx(1.0) and perfect.count == 36
    gap = within_family_spearman(frame, "good", "acc", minus="bad")
    assert gap.estimate == pytest.approx(2.0)  # 1 - (-1)
    noise = within_family_spearman(frame, "noise", "acc")
    assert noise.low < 0.3 and noise.high > -0.3 and noise.low < noise.estimate < noise.high
    with pytest.raises(ValueError, match=r"columns \['nce'\] are not in the table"):
        within_family_spearman(frame, "nce", "acc")
