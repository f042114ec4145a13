"""compare_metrics on synthetic tables whose answers are known."""

import numpy as np
import pandas as pd
import pytest

from gtransfer.evaluation.comparison import compare_metrics, partial_spearman


def _source_table() -> pd.DataFrame:
    """2 datasets x 2 tasks x 4 encoders; encoder order reversed between the datasets, so the
    leave-one-dataset-out mean truth ranks exactly backwards (Spearman -1) on every task."""
    rows = []
    for dataset, order in (("dsa", [0.9, 0.8, 0.7, 0.6]), ("dsb", [0.6, 0.7, 0.8, 0.9])):
        for task in range(2):
            for e, truth in enumerate(order):
                truth = truth + 0.01 * task
                rows.append({"target": f"{dataset}:{task}", "encoder": f"e{e}", "auc": truth,
                             "oracle": truth, "backwards": -truth, "flat": 1.0,
                             "half": np.nan if (dataset == "dsb" and task == 1) else truth})
    return pd.DataFrame(rows)


def test_source_selection_measures_baselines_and_gains_have_their_known_values():
    table = compare_metrics(_source_table(), ["oracle", "backwards", "flat", "half"], "auc", n_boot=500)
    get = table.set_index(["ranker", "measure"])
    for measure in ("spearman", "pearson", "kendall", "weighted_kendall"):
        assert get.loc[("oracle", measure), ["estimate", "low", "high"]].tolist() == pytest.approx([1, 1, 1])
        assert get.loc[("backwards", measure), "estimate"] == pytest.approx(-1)
        assert get.loc[("lodo_mean_truth", measure), "estimate"] == pytest.approx(-1)
        assert get.loc[("flat", measure), "estimate"] == 0.0  # constant: ranks nothing
        # the best baseline is random (0: its expectation), so the oracle gains 1 over it
        assert get.loc[("random", measure), "estimate"] == 0.0
        assert get.loc[("oracle", measure), "best_baseline"] == "random"
        assert get.loc[("oracle", measure), ["gain", "gain_low", "gain_high"]].tolist() == pytest.approx([1, 1, 1])
    assert get.loc[("oracle", "top1_relative_accuracy"), "estimate"] == pytest.approx(1.0)
    random_top1 = np.mean([np.mean(t) / max(t) for t in ([0.9, 0.8, 0.7, 0.6], [0.91, 0.81, 0.71, 0.61])])
    assert get.loc[("random", "top1_relative_accuracy"), "estimate"] == pytest.approx(random_top1)
    # backwards picks the worst: 0.6/0.9 on the first task of each dataset, 0.61/0.91 on the second
    assert get.loc[("backwards", "top1_relative_accuracy"), "estimate"] == pytest.approx((0.6 / 0.9 + 0.61 / 0.91) / 2)
    assert get.loc[("half", "spearman"), "groups"] == 3 and get.loc[("half", "spearman"), "dropped_groups"] == 1
    assert "2 datasets, 4 tasks" in get.loc[("oracle", "spearman"), "units"]


def test_target_selection_partial_correlation_removes_what_the_label_entropy_explains():
    rng = np.random.default_rng(0)
    rows = []
    for family in ("f1", "f2", "f3"):
        entropy = rng.uniform(0.3, 1.6, 30)
        skill = rng.standard_normal(30)
        accuracy = 1.0 - 0.3 * entropy + 0.05 * skill
        for i in range(30):
            rows.append({"family": family, "target": f"{family}:{i}", "acc": accuracy[i], "h": entropy[i],
                         "nce_like": -entropy[i], "skill": skill[i]})
    frame = pd.DataFrame(rows)
    table = compare_metrics(
        frame,
        ["nce_like", "skill"],
        "acc",
        group="family",
        candidate="target",
        resample="candidates",
        label_entropy="h",
        control="h",
        n_boot=200,
    ).set_index(["ranker", "measure"])
    # the NCE-like metric is -H(Y): as good as the baseline, and nothing beyond H(Y)
    assert table.loc[("nce_like", "spearman"), "estimate"] > 0.9
    assert table.loc[("nce_like", "spearman"), "estimate"] == pytest.approx(
        table.loc[("neg_label_entropy", "spearman"), "estimate"]
    )
    assert table.loc[("nce_like", "spearman"), "gain"] == pytest.approx(0.0, abs=1e-12)
    assert table.loc[("nce_like", "partial_spearman"), "estimate"] == 0.0  # undefined: H(Y) explains it entirely
    # the skill metric knows what is left once H(Y) is accounted for
    assert table.loc[("skill", "partial_spearman"), "estimate"] > 0.8
    assert table.loc[("skill", "partial_spearman"), "low"] > 0.6
    assert table.loc[("random", "spearman"), "estimate"] == 0.0
    assert "3 groups fixed, 90 candidates" in table.loc[("skill", "spearman"), "units"]


def test_partial_spearman_matches_the_closed_form_and_refuses_bad_input():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    s, t, c = rng.standard_normal((3, 40))
    t = t + s + c
    r_st, r_sc, r_tc = spearmanr(s, t)[0], spearmanr(s, c)[0], spearmanr(t, c)[0]
    expected = (r_st - r_sc * r_tc) / np.sqrt((1 - r_sc**2) * (1 - r_tc**2))
    assert partial_spearman(s, t, c) == pytest.approx(expected, abs=1e-12)
    assert partial_spearman(s, -t, c, higher_is_better=False) == pytest.approx(expected, abs=1e-12)
    with pytest.raises(ValueError, match="one length"):
        partial_spearman(s, t[:5], c)
    with pytest.raises(ValueError, match="resample"):
        compare_metrics(_source_table(), ["oracle"], "auc", resample="seeds")


def test_the_row_wise_measures_of_resample_candidates_equal_the_evaluation_layer_per_group():
    from gtransfer.evaluation.baselines import per_group_measure

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"family": np.repeat(["f1", "f2"], 12), "target": [f"t{i}" for i in range(24)],
                          "acc": rng.random(24), "metric": np.round(rng.standard_normal(24), 1), "h": rng.random(24)})
    frame.loc[3, "metric"] = frame.loc[4, "metric"]  # a tie
    table = compare_metrics(frame, ["metric"], "acc", group="family", candidate="target", resample="candidates",
                            n_boot=20).set_index(["ranker", "measure"])
    for measure in ("spearman", "pearson", "kendall", "weighted_kendall", "top1_relative_accuracy"):
        expected = per_group_measure(frame, "metric", "acc", group="family", measure=measure).mean()
        assert table.loc[("metric", measure), "estimate"] == pytest.approx(expected, abs=1e-12), measure
    assert table.loc[("random", "top1_relative_accuracy"), "estimate"] == pytest.approx(
        frame.groupby("family")["acc"].apply(lambda t: t.mean() / t.max()).mean())
