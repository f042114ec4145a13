import numpy as np
import pandas as pd
import pytest

from gtransfer.evaluation import (
    attribute_scores,
    gain_over_baselines,
    leave_one_dataset_out_truth,
    per_group_measure,
    random_measure,
    spearman,
)
from tests.evaluation.synthetic import evaluation_table


def test_leave_one_dataset_out_truth_by_hand():
    frame = pd.DataFrame({
        "target": ["a:0", "a:0", "a:1", "a:1", "b", "b", "c", "c"],
        "encoder": ["x", "y"] * 4,
        "truth": [0.9, 0.1, 0.7, 0.3, 0.2, 0.6, 0.4, 0.5],
    })
    prior = leave_one_dataset_out_truth(frame, "truth")
    # rows of dataset a: x's mean over b and c = (0.2 + 0.4) / 2, y's = (0.6 + 0.5) / 2
    assert prior.tolist()[:4] == pytest.approx([0.3, 0.55, 0.3, 0.55])
    # dataset b: x over a (two tasks) and c = (0.9 + 0.7 + 0.4) / 3, y = (0.1 + 0.3 + 0.5) / 3
    assert prior.tolist()[4:6] == pytest.approx([2.0 / 3, 0.3])
    lower = leave_one_dataset_out_truth(frame, "truth", higher_is_better=False)
    assert lower.tolist() == pytest.approx([-v for v in prior.tolist()])
    with pytest.raises(ValueError, match="2 or more datasets"):
        leave_one_dataset_out_truth(frame[frame["target"].str.startswith("a")], "truth")


def test_attribute_scores_and_missing_candidates():
    frame = pd.DataFrame({"target": ["t", "t"], "encoder": ["x", "y"]})
    assert attribute_scores(frame, {"x": 3, "y": 5}).tolist() == [3.0, 5.0]
    with pytest.raises(ValueError, match=r"no value for candidates \['y'\]"):
        attribute_scores(frame, {"x": 3}, name="params")


def test_per_group_measure_equals_the_measure_per_group():
    frame = evaluation_table(datasets=2, tasks=2)
    values = per_group_measure(frame, "metric", "truth")
    for target, part in frame.groupby("target"):
        assert values[target] == pytest.approx(spearman(part["metric"], part["truth"]))


def test_random_is_near_zero_and_a_real_metric_beats_the_best_baseline():
    frame = evaluation_table(shared=0.0)
    frame["lodo_mean_truth"] = leave_one_dataset_out_truth(frame, "truth")
    frame["params"] = attribute_scores(frame, dict(zip(frame["encoder"], frame["params"])), name="params")
    per_group = {name: per_group_measure(frame, name, "truth") for name in ("metric", "lodo_mean_truth", "params")}
    per_group["random"] = random_measure(frame, "truth", n_draws=300)
    assert abs(per_group["random"].mean()) < 0.05
    gain = gain_over_baselines(per_group, "metric", ["random", "lodo_mean_truth", "params"], measure="spearman",
                               n_boot=2000)
    assert gain.metric_mean > 0.8 and gain.gain.low > 0.6
    assert gain.best == max(gain.baseline_means, key=gain.baseline_means.get)
    assert gain.gain.counts == (("datasets", 6), ("tasks", 30))


def test_a_shared_candidate_effect_makes_the_prior_the_best_baseline():
    frame = evaluation_table(shared=3.0)
    frame["lodo_mean_truth"] = leave_one_dataset_out_truth(frame, "truth")
    per_group = {name: per_group_measure(frame, name, "truth") for name in ("metric", "lodo_mean_truth")}
    per_group["random"] = random_measure(frame, "truth", n_draws=100)
    gain = gain_over_baselines(per_group, "metric", ["random", "lodo_mean_truth"], measure="spearman", n_boot=2000)
    assert gain.best == "lodo_mean_truth" and gain.baseline_means["lodo_mean_truth"] > 0.8
    # regret is lower-is-better: the best baseline is the one with the least regret, the gain is its regret - the
    # metric's
    regret = {name: per_group_measure(frame, name, "truth", measure="regret") for name in ("metric", "lodo_mean_truth")}
    regret["random"] = random_measure(frame, "truth", measure="regret", n_draws=100)
    result = gain_over_baselines(regret, "metric", ["random", "lodo_mean_truth"], measure="regret", n_boot=500)
    assert result.best == min(result.baseline_means, key=result.baseline_means.get)
    assert result.gain.estimate == pytest.approx(np.mean(regret[result.best] - regret["metric"]))


def test_baseline_measures_builds_every_placebo():
    from gtransfer.evaluation import baseline_measures

    frame = evaluation_table(datasets=3, tasks=2, shared=3.0)
    frame["label_entropy"] = frame["encoder"].str[-2:].astype(float)  # stands in for H(Y) of each candidate target
    params = dict(zip(frame["encoder"], frame["params"]))
    values = baseline_measures(frame, "truth", attributes={"params": params}, label_entropy="label_entropy", n_draws=50)
    assert set(values) == {"random", "lodo_mean_truth", "params", "neg_label_entropy"}
    prior = frame.assign(prior=leave_one_dataset_out_truth(frame, "truth"))
    assert values["lodo_mean_truth"].to_dict() == pytest.approx(per_group_measure(prior, "prior", "truth").to_dict())
    entropy = frame.assign(neg=-frame["label_entropy"])
    assert values["neg_label_entropy"].to_dict() == pytest.approx(per_group_measure(entropy, "neg", "truth").to_dict())
    one_dataset = frame[frame["target"].str.startswith("d0")]
    assert "lodo_mean_truth" not in baseline_measures(one_dataset, "truth", n_draws=10)
