import numpy as np
import pytest
from scipy import stats

from gtransfer import evaluation


def test_correlations_on_known_orderings():
    truth = np.array([0.1, 0.4, 0.35, 0.8, 0.6])
    monotone = np.exp(truth * 10)  # same order, non-linear
    assert evaluation.spearman(monotone, truth) == pytest.approx(1.0)
    assert evaluation.kendall(monotone, truth) == pytest.approx(1.0)
    assert evaluation.weighted_kendall(monotone, truth) == pytest.approx(1.0)
    assert evaluation.pearson(monotone, truth) < 1.0
    assert evaluation.pearson(3 * truth + 1, truth) == pytest.approx(1.0)
    assert evaluation.kendall(-truth, truth) == pytest.approx(-1.0)
    # one discordant pair out of 10 -> tau = (9 - 1) / 10
    swapped = np.array([1, 3, 2, 5, 4.0])[[0, 1, 2, 4, 3]]
    assert evaluation.kendall(np.array([1, 2, 3, 4, 5.0]), np.array([1, 3, 2, 4, 5.0])) == pytest.approx(0.8)
    assert evaluation.weighted_kendall(swapped, truth) == pytest.approx(stats.weightedtau(swapped, truth).statistic)


def test_constant_scores_have_undefined_correlation():
    assert np.isnan(evaluation.spearman([1, 1, 1], [1, 2, 3]))


def test_selection_quality():
    truth = np.array([0.70, 0.90, 0.80])
    assert evaluation.top1_relative_accuracy([3, 2, 1], truth) == pytest.approx(0.70 / 0.90)
    assert evaluation.regret([3, 2, 1], truth) == pytest.approx(0.20)
    assert evaluation.top1_relative_accuracy([0, 5, 1], truth) == 1.0
    assert evaluation.regret([0, 5, 1], truth) == 0.0


def test_bootstrap_interval_brackets_the_estimate_and_is_reproducible():
    rng = np.random.default_rng(0)
    truth = rng.uniform(size=30)
    scores = truth + 0.3 * rng.standard_normal(30)
    estimate, low, high = evaluation.bootstrap_ci(evaluation.spearman, scores, truth, n_boot=300, seed=1)
    assert estimate == pytest.approx(evaluation.spearman(scores, truth))
    assert -1 <= low < estimate < high <= 1
    assert evaluation.bootstrap_ci(evaluation.spearman, scores, truth, n_boot=300, seed=1) == (estimate, low, high)
    report = evaluation.evaluate_metric(scores, truth, n_boot=50)
    assert set(report) == set(evaluation.CORRELATIONS)


def test_bootstrap_counts_degenerate_resamples():
    with pytest.warns(UserWarning, match=r"\d+ of 200 resamples were degenerate"):
        evaluation.bootstrap_ci(evaluation.spearman, [1.0, 2.0], [1.0, 2.0], n_boot=200)


def test_relative_accuracies():
    labels = np.array([0] * 95 + [1] * 5)
    assert evaluation.majority_accuracy(labels) == 0.95
    assert evaluation.relative_to_majority(0.95, labels) == pytest.approx(0.0)
    assert evaluation.relative_to_majority(0.99, labels) == pytest.approx(0.8)
    assert evaluation.relative_accuracy(0.5, 0.5) == 0.0
    assert evaluation.relative_to_scratch(0.8, 0.7) == pytest.approx(0.1)
    assert evaluation.relative_auc(0.75) == pytest.approx(0.5)


def test_lower_is_better_truth_makes_the_lowest_error_the_best_candidate():
    rmse = np.array([1.2, 0.6, 0.9, 2.0])  # candidate 1 is best
    good = np.array([1.0, 4.0, 2.0, 0.0])  # the metric ranks candidates exactly by low error
    for name in ("pearson", "spearman", "kendall", "weighted_kendall"):
        assert evaluation.CORRELATIONS[name](good, rmse, higher_is_better=False) > 0.9, name
        assert evaluation.CORRELATIONS[name](good, rmse, higher_is_better=False) == pytest.approx(
            evaluation.CORRELATIONS[name](good, -rmse)), name
    assert evaluation.spearman(good, rmse, higher_is_better=False) == pytest.approx(1.0)
    assert evaluation.top1_relative_accuracy(good, rmse, higher_is_better=False) == 1.0
    assert evaluation.regret(good, rmse, higher_is_better=False) == 0.0
    bad = -good  # picks candidate 3, the worst
    assert evaluation.spearman(bad, rmse, higher_is_better=False) == pytest.approx(-1.0)
    assert evaluation.top1_relative_accuracy(bad, rmse, higher_is_better=False) == pytest.approx(0.6 / 2.0)
    assert evaluation.regret(bad, rmse, higher_is_better=False) == pytest.approx(2.0 - 0.6)
    report = evaluation.evaluate_metric(good, rmse, n_boot=20, higher_is_better=False)
    assert report["spearman"][0] == pytest.approx(1.0) and report["regret"][0] == 0.0


def test_truth_direction_from_its_name():
    for name in ("rmse", "test_rmse", "valid_mae", "test_mse", "loss"):
        assert not evaluation.truth_higher_is_better(name), name
    for name in ("test_accuracy", "test_roc_auc", "relative_accuracy", "test_average_precision", "test_metric"):
        assert evaluation.truth_higher_is_better(name), name
