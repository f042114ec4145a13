"""Every measure of gtransfer.evaluation against scipy (or, for the selection measures scipy lacks, against their
definition written out), and the orientation table."""

import doctest

import numpy as np
import pytest
from scipy import stats

from gtransfer import evaluation
from gtransfer.evaluation import (
    MEASURES,
    baselines,
    bootstrap,
    preregistration,
    reliability,
)
from gtransfer.evaluation import (
    stability as stability_module,
)


@pytest.fixture(scope="module")
def cases():
    rng = np.random.default_rng(7)
    out = []
    for size in (5, 11, 21):
        truth = rng.uniform(0.5, 0.9, size)
        out.append((truth + 0.05 * rng.standard_normal(size), truth))
    truth = np.array([0.7, 0.7, 0.8, 0.6, 0.9, 0.8])  # ties in the truth
    out.append((np.array([1.0, 2.0, 2.0, 0.5, 3.0, 1.0]), truth))  # and in the scores
    return out


@pytest.mark.parametrize(
    "name, reference",
    [
        ("pearson", stats.pearsonr),
        ("spearman", stats.spearmanr),
        ("kendall", stats.kendalltau),  # tau-b
        # scipy's defaults, as SFDA/NCTI/ETran call it: weigher 1/(r + 1), rank=True, additive
        (
            "weighted_kendall",
            lambda x, y: stats.weightedtau(x, y, rank=True, weigher=lambda r: 1.0 / (r + 1), additive=True),
        ),
    ],
)
def test_correlations_equal_scipy(cases, name, reference):
    for scores, truth in cases:
        assert MEASURES[name].fn(scores, truth) == pytest.approx(reference(scores, truth).statistic, abs=1e-12), name
        # a lower-is-better truth is the same measure against -truth
        assert MEASURES[name].fn(scores, -truth, higher_is_better=False) == pytest.approx(
            reference(scores, truth).statistic, abs=1e-12), name


def test_selection_measures_follow_their_definition(cases):
    for scores, truth in cases:
        chosen = truth[np.argmax(scores)]
        assert MEASURES["top1_relative_accuracy"].fn(scores, truth) == pytest.approx(chosen / truth.max())
        assert MEASURES["regret"].fn(scores, truth) == pytest.approx(truth.max() - chosen)


def test_orientation_table_declares_every_measure():
    assert set(MEASURES) == set(evaluation.CORRELATIONS)
    assert {name for name, m in MEASURES.items() if not m.higher_is_better} == {"regret"}
    for name, m in MEASURES.items():
        assert m.name == name and m.fn is evaluation.CORRELATIONS[name] and m.formula
    # a perfect ranker reaches the good end of every measure's bounds
    truth = np.array([0.5, 0.9, 0.7, 0.6])
    for name, m in MEASURES.items():
        best = m.bounds[1] if m.higher_is_better else m.bounds[0]
        assert m.fn(truth, truth) == pytest.approx(best), name


def test_kendalls_w_matches_the_mean_pairwise_spearman_of_scipy():
    rng = np.random.default_rng(3)
    for m, k in [(2, 5), (4, 7), (10, 12)]:
        table = rng.standard_normal((m, k))
        rho = np.mean([stats.spearmanr(table[i], table[j]).statistic for i in range(m) for j in range(i + 1, m)])
        w = stability_module.kendalls_w(table)
        assert (m * w - 1) / (m - 1) == pytest.approx(rho, abs=1e-12)
        taus = [stats.kendalltau(table[i], table[j]).statistic for i in range(m) for j in range(i + 1, m)]
        assert stability_module.mean_pairwise_tau(table) == pytest.approx(np.mean(taus), abs=1e-12)
    assert stability_module.kendalls_w([[1, 2, 3, 4], [4, 3, 2, 1]]) == pytest.approx(0.0)
    # ties corrected: two identical orderings with a tie still agree perfectly
    assert stability_module.kendalls_w([[1, 1, 2], [1, 1, 2]]) == pytest.approx(1.0)


def test_split_half_of_two_seeds_is_scipy_spearman_of_the_seeds():
    rng = np.random.default_rng(5)
    truth = rng.standard_normal((15, 2))
    result = reliability.split_half_reliability(truth)
    assert result.splits == 1
    assert result.r_half == pytest.approx(stats.spearmanr(truth[:, 0], truth[:, 1]).statistic, abs=1e-12)


def test_negative_label_entropy_is_minus_scipy_entropy():
    for counts in ([50, 50], [95, 5], [10, 20, 30, 0]):
        assert baselines.negative_label_entropy(counts) == pytest.approx(-stats.entropy(counts), abs=1e-12)


def test_docstring_examples_run():
    for module in (bootstrap, reliability, baselines, stability_module, preregistration):
        failures, tried = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert tried > 0 and failures == 0, module.__name__
