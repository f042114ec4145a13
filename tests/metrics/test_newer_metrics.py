"""PARC, SFDA and PACTran (issue 26): independent references and the properties every metric must have.

References: values generated once from the official code (tests/metrics/data/official_pactran_sfda_parc.json,
sources and commits inside), scipy's Spearman correlation, scikit-learn's shrinkage LDA and logistic
regression. Tolerances (relative unless stated): closed forms and the official numpy code 1e-10; the
L-BFGS fits of PACTran-Gaussian 1e-6 against the official code (same start, same optimiser) and 1e-4
against scikit-learn's solver; float32 inputs are scored as their exact float64 values (1e-12), and within
the tolerance stated per metric of the float64 values they were rounded from.
"""

import doctest
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import spearmanr

from gtransfer import metrics
from gtransfer.metrics.parc import PARC_MAX_SAMPLES
from gtransfer.metrics.sfda import sfda_parts
from tests.metrics.test_properties import make_task

FIXTURE = json.loads((Path(__file__).parent / "data" / "official_pactran_sfda_parc.json").read_text())
FEATURE_NEW = ["parc", "sfda", "pactran_gaussian"]
SOURCE_NEW = ["pactran_dirichlet", "pactran_gamma"]
HAS_CUDA = torch.cuda.is_available()
requires_cuda = pytest.mark.skipif(
    not HAS_CUDA, reason="no CUDA GPU visible to torch: the CUDA path is tested on a GPU machine")
#: float32 inputs against the float64 values they were rounded from
FLOAT32_TOLERANCE = {"parc": 1e-3, "sfda": 1e-5, "pactran_gaussian": 1e-4}


def quiet(name, *args, **kwargs):
    """A registered metric, with SFDA's n - C < d warning silenced (tested on its own)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return metrics.METRICS[name](*args, **kwargs)


def source_task(n, c, z, seed=0, sharp=0.0):
    """Labels and source probabilities; ``sharp`` > 0 ties source classes to target classes."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % c)
    logits = rng.standard_normal((n, z)) + sharp * np.eye(z)[labels % z]
    probs = np.exp(logits - logits.max(1, keepdims=True))
    return probs / probs.sum(1, keepdims=True), labels


def fixture_case(case):
    return np.array(case["features"]), np.array(case["labels"]), np.array(case["source_probs"])


# --- references ---


@pytest.mark.parametrize("index", range(len(FIXTURE["cases"])))
def test_pactran_equals_the_official_code(index):
    case = FIXTURE["cases"][index]
    features, labels, probs = fixture_case(case)
    assert metrics.pactran_dirichlet(probs, labels) == pytest.approx(-case["pac_dir"], rel=1e-10)
    assert metrics.pactran_gamma(probs, labels) == pytest.approx(-case["pac_gamma"], rel=1e-10)
    for lda in (10.0, 1.0, 0.1):
        expected = -case[f"pac_gauss_{lda}"]
        assert metrics.pactran_gaussian(features, labels, lda_factor=lda) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("index", range(len(FIXTURE["cases"])))
def test_sfda_equals_the_official_code_with_its_power_iteration(index):
    case = FIXTURE["cases"][index]
    features, labels, _ = fixture_case(case)
    assert metrics.sfda(features, labels, power_iterations=3) == pytest.approx(case["sfda"], rel=1e-10)
    # the exact largest eigenvalue moves lambda a little, the score by less than 1e-5 here
    assert metrics.sfda(features, labels) == pytest.approx(case["sfda"], rel=1e-4)


def _parc_by_scipy(standardised, labels, round_labels):
    """PARC as the paper writes it: Spearman between 1 - corrcoef of the rows and 1 - corrcoef of the one-hot rows."""
    upper = np.triu_indices(labels.size, 1)
    label_rdm = 1.0 - np.corrcoef(np.eye(labels.max() + 1)[labels])
    if round_labels:
        label_rdm = np.round(label_rdm, 9)
    return 100.0 * spearmanr((1.0 - np.corrcoef(standardised))[upper], label_rdm[upper])[0]


@pytest.mark.parametrize("index", range(len(FIXTURE["cases"])))
def test_parc_equals_scipy_on_the_exact_label_dissimilarity_and_the_official_code_where_it_has_no_ulp_ties(index):
    case = FIXTURE["cases"][index]
    features, labels, _ = fixture_case(case)
    value = metrics.parc(features, labels, pca_dim=None)
    standardised = (features - features.mean(0)) / features.std(0)
    assert value == pytest.approx(_parc_by_scipy(standardised, labels, round_labels=True), rel=1e-10)
    raw = _parc_by_scipy(standardised, labels, round_labels=False)
    assert case["parc_official_raw"] == pytest.approx(raw, rel=1e-10)  # the fixture is the paper's form, raw
    if index == 0:  # 1 - corrcoef splits the tied label pairs by an ulp here: the official value moves by 0.37
        assert abs(value - case["parc_official_raw"]) > 0.1
    else:
        assert value == pytest.approx(case["parc_official_raw"], rel=1e-10)


@pytest.mark.parametrize("split", [0.5, 0.02, 0.98])
@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_parc_rank_sums_average_ties_as_scipy_rankdata_does(split, backend):
    """PARC's ranks come from sorts and binary searches: on values with many exact ties (small integers)
    the rank sum of one group and the tie term equal scipy's average ranks."""
    from scipy.stats import rankdata

    from gtransfer.metrics._backend import NumpyBackend, TorchBackend
    from gtransfer.metrics.parc import _rank_sum_and_ties

    rng = np.random.default_rng(3)
    values = rng.integers(0, 40, 5000).astype(np.float64)
    group = rng.random(5000) < split
    ranks = rankdata(values)
    _, runs = np.unique(values, return_counts=True)
    be = NumpyBackend() if backend == "numpy" else TorchBackend(torch.device("cpu"))
    first, second = be.asarray(values[group]), be.asarray(values[~group])
    rank_sum, ties = _rank_sum_and_ties(be, first, second)
    assert rank_sum == pytest.approx(ranks[group].sum(), rel=1e-14)
    assert ties == pytest.approx(float((runs.astype(float) ** 3 - runs).sum()), rel=1e-14)


def test_parc_with_pca_equals_scikit_learn_pca_then_scipy():
    from sklearn.decomposition import PCA

    features, labels = make_task(150, 60, 4, seed=3)
    reduced = PCA(n_components=8, svd_solver="full").fit_transform(features)  # signs: largest loading positive
    standardised = (reduced - reduced.mean(0)) / reduced.std(0)
    expected = _parc_by_scipy(standardised, labels, True)
    assert metrics.parc(features, labels, pca_dim=8) == pytest.approx(expected, rel=1e-9)


def test_parc_refuses_more_samples_than_it_can_pair():
    features, labels = make_task(60, 4, 2)
    with pytest.raises(ValueError, match="above max_samples=50.*probe set"):
        metrics.parc(features, labels, max_samples=50)
    assert PARC_MAX_SAMPLES == 5000
    with pytest.raises(ValueError, match="at least 2 samples per class"):
        metrics.parc(features[:3], np.arange(3))
    with pytest.raises(ValueError, match="fewer than two informative"):
        metrics.parc(features[:, :1], labels)


@pytest.mark.parametrize("solver", ["eigen", "lsqr"])
@pytest.mark.parametrize("n, d, c", [(300, 12, 3), (80, 20, 5), (40, 6, 2)])
def test_sfda_stage_one_is_scikit_learn_shrinkage_lda(solver, n, d, c):
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    features, labels = make_task(n, d, c, seed=4)
    features = features * 0.2  # a small within-class scatter: lambda well above its floor
    parts = sfda_parts(features, labels)
    assert 1e-6 < parts.lam < 1
    lda = LinearDiscriminantAnalysis(solver=solver, shrinkage=parts.lam).fit(features, labels)
    np.testing.assert_allclose(parts.first, lda.predict_proba(features), rtol=1e-8, atol=1e-12)


def test_sfda_is_shrinkage_lda_then_confmix_then_lda_again():
    """The whole score, composed from scikit-learn's LDA and the paper's ConfMix written out."""
    from scipy.special import softmax
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    features, labels = make_task(200, 10, 4, seed=5)
    features = features * 0.3
    parts = sfda_parts(features, labels)
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage=parts.lam)
    first = lda.fit(features, labels).predict_proba(features)
    p = softmax(first, axis=1)[np.arange(200), labels][:, None]
    means = np.stack([features[labels == c].mean(0) for c in range(4)])
    others = (means.sum(0) - means) / 3
    mixed = p * features + (1 - p) * others[labels]
    second = LinearDiscriminantAnalysis(solver="eigen", shrinkage=parts.lam).fit(mixed, labels).predict_proba(mixed)
    assert parts.score == pytest.approx(second[np.arange(200), labels].mean(), rel=1e-10)


def test_sfda_saturates_with_a_warning_when_the_within_class_covariance_is_singular():
    rng = np.random.default_rng(6)
    labels = np.arange(40) % 4
    noise = rng.standard_normal((40, 100))  # n - C = 36 < d = 100, features pure noise
    with pytest.warns(UserWarning, match="n - C = 36 < d = 100"):
        value = metrics.sfda(noise, labels)
    assert value > 0.99  # every encoder scores about 1 here: the official behaviour, stated in the docstring
    assert metrics.sfda(noise[:, :8], labels) < 0.5  # the same noise in few dimensions scores low


def test_pactran_gaussian_fit_agrees_with_scikit_learn_logistic_regression():
    """L(theta) = mean CE + |W|^2 / (2 lambda n) is scikit-learn's multinomial objective with C = lambda
    (up to the factor lambda n; bias unpenalised): the bound computed from its solution agrees."""
    from sklearn.linear_model import LogisticRegression

    features, labels = make_task(300, 8, 3, seed=7)
    n, d, c, lam, kappa = 300, 8, 3, 1.0, 100.0
    x = features - features.mean(0)
    model = LogisticRegression(C=lam, tol=1e-12, max_iter=10000).fit(x, labels)
    q = model.predict_proba(x)
    w = model.coef_.T
    loss = -np.log(q[np.arange(n), labels]).mean() + (w * w).sum() / (2 * lam * n)
    spread = q * (1 - q)
    curvature = ((x * x).T @ spread).sum() + d * c / (lam * n) + spread.sum()
    bound = loss + c * kappa / (2 * lam * n) * np.log(curvature * lam * n / (d * c) + 1e-10)
    assert metrics.pactran_gaussian(features, labels, max_iter=1000, tol=1e-12) == pytest.approx(-bound, rel=1e-6)
    assert metrics.pactran_gaussian(features, labels) == pytest.approx(-bound, rel=1e-4)  # 100 iterations


def test_pactran_dirichlet_on_a_one_class_source_is_its_closed_form():
    """Z = 1 (P = 1): q = 1, A[c] = a0_c + n_c and the bound is (log B(a0) - log B(A)) / (nC)."""
    from scipy.special import gammaln

    labels = np.array([0, 0, 0, 1, 1, 2])
    a0 = np.array([3, 2, 1]) / 6 + 1e-10
    counts = a0 + np.array([3, 2, 1])

    def log_b(a):
        return gammaln(a).sum() - gammaln(a.sum())

    kl = 6 * (0.0 - np.log1p(1e-10))  # q log q - q log(P + 1e-10) with q = P = 1, as the reference takes the log
    expected = -(log_b(a0) - log_b(counts) + kl) / 18
    assert metrics.pactran_dirichlet(np.ones((6, 1)), labels) == pytest.approx(expected, rel=1e-12)


# --- LogME: regression evidence against scikit-learn, multi-label form ---


# n < d: targets with a finite evidence maximum (where y can be interpolated, some draws send the noise
# precision to infinity and the dense log-determinant below loses its digits)
@pytest.mark.parametrize("n, d, signal, seed", [(200, 10, 0.3, 8), (30, 80, 0.05, 1), (40, 40, 0.1, 1)])
def test_logme_regression_is_the_evidence_scikit_learn_bayesian_ridge_maximises(n, d, signal, seed):
    from sklearn.linear_model import BayesianRidge

    rng = np.random.default_rng(seed)
    features = rng.standard_normal((n, d))
    y = signal * features @ rng.standard_normal(d) + rng.standard_normal(n)
    ridge = BayesianRidge(fit_intercept=False, alpha_1=0, alpha_2=0, lambda_1=0, lambda_2=0, compute_score=True,
                          tol=1e-14, max_iter=100000).fit(features, y)
    beta, alpha = ridge.alpha_, ridge.lambda_  # scikit-learn: alpha_ the noise precision, lambda_ the weights'
    a_matrix = alpha * np.eye(d) + beta * features.T @ features
    m = beta * np.linalg.solve(a_matrix, features.T @ y)
    evidence = (d / 2 * np.log(alpha) + n / 2 * np.log(beta) - n / 2 * np.log(2 * np.pi)
                - beta / 2 * np.sum((y - features @ m) ** 2) - alpha / 2 * m @ m
                - 0.5 * np.linalg.slogdet(a_matrix)[1]) / n
    assert ridge.scores_[-1] / n == pytest.approx(evidence, rel=1e-10)  # its score is this evidence (no priors at 0)
    # 2000 steps: the fixed point creeps on towards the interpolating solution (beta -> inf) after many more at n = d
    value = metrics.logme_regression(features, y, max_iter=2000, tol=1e-13, epsilon=0.0)
    assert value == pytest.approx(evidence, rel=1e-10)
    rank = min(n, d)
    if rank < d:  # the published fixed-point copies drop (d - k)/2 log alpha from log|A|: off by that much
        dropped = (d - rank) / (2 * n) * np.log(alpha)
        assert abs(dropped) > 1e-3
        assert value + dropped != pytest.approx(evidence, rel=1e-6)
    # the defaults stop early: 11 steps, tol 1e-3
    assert metrics.logme_regression(features, y) == pytest.approx(evidence, rel=1e-2)


def test_logme_multilabel_is_the_mean_of_each_tasks_binary_logme_on_its_labelled_rows():
    rng = np.random.default_rng(9)
    features = rng.standard_normal((120, 6))
    labels = (features[:, :3] + rng.standard_normal((120, 3)) > 0).astype(float)
    labels[:30, 1] = np.nan
    labels[::7, 2] = np.nan
    per_task = []
    for t in range(3):
        rows = ~np.isnan(labels[:, t])
        per_task.append(metrics.logme(features[rows], labels[rows, t].astype(int)))
    assert metrics.logme_multilabel(features, labels) == pytest.approx(np.mean(per_task), rel=1e-12)
    one_class = np.column_stack([labels, np.ones(120)])
    with pytest.warns(UserWarning, match="1 of 4 tasks left out"):
        assert metrics.logme_multilabel(features, one_class) == pytest.approx(np.mean(per_task), rel=1e-12)
    with pytest.raises(ValueError, match="0, 1 or NaN"):
        metrics.logme_multilabel(features, labels * 2)
    with pytest.raises(ValueError, match="none of the 1 tasks"):
        metrics.logme_multilabel(features, np.ones((120, 1)))
    torch_value = metrics.logme_multilabel(torch.from_numpy(features), torch.from_numpy(labels))
    assert torch_value == pytest.approx(np.mean(per_task), rel=1e-9)


def test_multitask_targets_score_logme_by_its_multilabel_form_in_rank_score_and_studies(tmp_path, capsys):
    from gtransfer.cli import main
    from gtransfer.selection.task_scores import score_target

    rng = np.random.default_rng(10)
    features = rng.standard_normal((90, 5))
    labels = (rng.random((90, 3)) < 0.4).astype(float)
    labels[:20, 0] = np.nan
    labels[:, 2] = 0.0  # a task with one class: skipped and counted
    scores = score_target(features, labels, "multitask", metrics=["logme", "h_score"])
    assert scores["logme"] == pytest.approx(metrics.logme_multilabel(features, labels[:, :2]), rel=1e-12)
    assert (scores["tasks_scored"], scores["tasks_skipped"]) == (2, 1)
    assert list(scores)[:2] == ["logme", "h_score"]
    both = score_target(features, labels, "multitask", metrics=["sfda", "parc"])  # new metrics: mean over tasks too
    rows = ~np.isnan(labels[:, 0])
    first = metrics.sfda(features[rows], labels[rows, 0].astype(int))
    assert both["sfda"] == pytest.approx((first + metrics.sfda(features, labels[:, 1].astype(int))) / 2, rel=1e-12)
    binary = score_target(features, labels[:, 1].astype(int), "binary", metrics=["pactran_gaussian"])
    expected = metrics.pactran_gaussian(features, labels[:, 1].astype(int))
    assert binary["pactran_gaussian"] == pytest.approx(expected, rel=1e-12)
    np.save(tmp_path / "f.npy", features)
    np.save(tmp_path / "y.npy", labels)
    assert main(["score", "--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "y.npy"), "--task", "mean",
                 "--metrics", "logme", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["logme"] == pytest.approx(scores["logme"], rel=1e-12)


# --- the registry ---


def test_new_metrics_are_registered_by_name_outside_the_default_set():
    features, labels = make_task(120, 6, 3, seed=11)
    probs, _ = source_task(120, 3, 5, seed=11)
    got = metrics.score_all(features, labels, source_probs=probs, metrics=FEATURE_NEW + SOURCE_NEW)
    for name in FEATURE_NEW:
        assert got[name] == pytest.approx(metrics.METRICS[name](features, labels), rel=1e-12), name
    for name in SOURCE_NEW:
        assert got[name] == pytest.approx(metrics.METRICS[name](probs, labels), rel=1e-12), name
        assert name in metrics.SOURCE_METRICS and name not in metrics.DEFAULT_SOURCE_METRICS
    assert not set(FEATURE_NEW) & set(metrics.FEATURE_METRICS)
    default = metrics.score_all(features, labels, source_probs=probs)
    assert not set(FEATURE_NEW + SOURCE_NEW) & set(default)


def test_score_command_computes_the_new_metrics(tmp_path, capsys):
    from gtransfer.cli import main

    features, labels = make_task(80, 5, 3, seed=12)
    np.save(tmp_path / "f.npy", features)
    np.save(tmp_path / "y.npy", labels)
    assert main(["score", "--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "y.npy"),
                 "--metrics", "parc,sfda,pactran_gaussian", "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["sfda"] == pytest.approx(metrics.sfda(features, labels), rel=1e-12)
    assert printed["parc"] == pytest.approx(metrics.parc(features, labels), rel=1e-12)


@pytest.mark.parametrize("module", ["parc", "sfda", "pactran", "logme"])
def test_docstring_examples_run(module):
    import importlib

    module = importlib.import_module(f"gtransfer.metrics.{module}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --- properties of every new metric ---


def score(name, features, labels, probs=None, **kwargs):
    data = probs if name in SOURCE_NEW else features
    return quiet(name, data, labels, **kwargs)


@pytest.mark.parametrize("name", FEATURE_NEW + SOURCE_NEW)
def test_sample_order_does_not_matter(name):
    features, labels = make_task(150, 8, 3, seed=13)
    probs, _ = source_task(150, 3, 6, seed=13)
    order = np.random.default_rng(14).permutation(150)
    before = score(name, features, labels, probs)
    # L-BFGS sums the objective in another order: its path moves by rounding only
    tolerance = 1e-6 if name == "pactran_gaussian" else 1e-9
    assert score(name, features[order], labels[order], probs[order]) == pytest.approx(before, rel=tolerance)


@pytest.mark.parametrize("name", FEATURE_NEW + SOURCE_NEW)
def test_class_names_do_not_matter(name):
    features, labels = make_task(150, 8, 3, seed=15)
    probs, _ = source_task(150, 3, 6, seed=15)
    renamed = np.array([2, 0, 1])[labels]
    before = score(name, features, labels, probs)
    # PACTran-Gaussian starts W at random columns: other classes, another start, the same convex minimum
    kwargs = {"max_iter": 2000, "tol": 1e-12} if name == "pactran_gaussian" else {}
    if kwargs:
        before = score(name, features, labels, probs, **kwargs)
    assert score(name, features, renamed, probs, **kwargs) == pytest.approx(before, rel=1e-6)


@pytest.mark.parametrize("c", [2, 4])
@pytest.mark.parametrize("name", FEATURE_NEW)
def test_perfect_features_score_near_the_top_and_noise_near_the_bottom(name, c):
    rng = np.random.default_rng(16)
    labels = rng.permutation(np.arange(400) % c)
    perfect = rng.standard_normal((c, c + 4))[labels] + 1e-3 * rng.standard_normal((400, c + 4))  # the class, and noise
    noise = rng.standard_normal((400, c + 4))
    top, bottom = score(name, perfect, labels), score(name, noise, labels)
    if name == "parc":  # a perfect ranking of a binary indicator: rho = sqrt(3 p (1 - p)) at most
        p = 1 - 1 / c
        assert top > 0.95 * 100 * np.sqrt(3 * p * (1 - p)) and abs(bottom) < 5
    elif name == "sfda":  # in (0, 1]: 1 for separable classes, about 1 / C for noise
        assert top > 0.99 and bottom < 1 / c + 0.1
    else:  # -PAC_Gauss <= 0 (L >= 0, sigma^-2 >= 1); noise pays L = log C; both pay the prior term
        # C kappa / (2 lambda n) log sigma^-2, about 1 nat at n = 400 (it falls as log(n) / n)
        assert bottom < -np.log(c) and top < 0 and top > bottom + 1.5


@pytest.mark.parametrize("c", [2, 4])
@pytest.mark.parametrize("name", SOURCE_NEW)
def test_a_source_aligned_with_the_target_beats_an_uninformative_one(name, c):
    aligned, labels = source_task(400, c, c, seed=17, sharp=6.0)
    uniform = np.full((400, c), 1.0 / c)
    assert score(name, None, labels, aligned) > score(name, None, labels, uniform) + 0.05


@pytest.mark.parametrize("name", FEATURE_NEW + SOURCE_NEW)
def test_a_class_with_one_sample_and_two_classes_give_finite_values(name):
    features, labels = make_task(61, 5, 3, seed=18)
    labels = np.where(labels == 2, 1, labels)
    labels[7] = 2  # class 2 has one sample
    probs, _ = source_task(61, 3, 4, seed=18)
    assert np.isfinite(score(name, features, labels, probs))
    binary = np.minimum(labels, 1)
    assert np.isfinite(score(name, features, binary, probs))


@pytest.mark.parametrize("name", FEATURE_NEW)
def test_constant_columns(name):
    features, labels = make_task(120, 40, 3, seed=19)
    padded = np.hstack([features, np.full((120, 3), 7.0)])
    value = score(name, padded, labels)
    assert np.isfinite(value)
    if name == "parc":  # no variance: no principal component reads them
        assert value == pytest.approx(score(name, features, labels), rel=1e-9)
    assert np.isfinite(score(name, np.hstack([features[:, :3], np.zeros((120, 2))]), labels))


@pytest.mark.parametrize("name", FEATURE_NEW)
def test_more_dimensions_than_samples(name):
    features, labels = make_task(30, 120, 3, seed=20)
    value = score(name, features, labels)
    assert np.isfinite(value)
    if name == "sfda":
        assert value > 0.99  # saturated (see the warning test)


@pytest.mark.parametrize("name", FEATURE_NEW + SOURCE_NEW)
def test_inputs_are_not_modified(name):
    features, labels = make_task(80, 6, 3, seed=21)
    probs, _ = source_task(80, 3, 4, seed=21)
    copies = features.copy(), labels.copy(), probs.copy()
    score(name, features, labels, probs)
    score(name, torch.from_numpy(features), torch.from_numpy(labels), probs)
    for before, after in zip(copies, (features, labels, probs)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("name", FEATURE_NEW)
def test_float32_features_against_float64(name):
    features, labels = make_task(200, 10, 3, seed=22)
    single = features.astype(np.float32)
    exact = score(name, single.astype(np.float64), labels)
    assert score(name, single, labels) == pytest.approx(exact, rel=1e-12)
    assert score(name, torch.from_numpy(single), labels) == pytest.approx(exact, rel=1e-6)
    assert exact == pytest.approx(score(name, features, labels), rel=FLOAT32_TOLERANCE[name])


@pytest.mark.parametrize("n, d", [(200, 10), (30, 60)])
@pytest.mark.parametrize("name", FEATURE_NEW)
def test_torch_and_numpy_agree_in_float64(name, n, d):
    features, labels = make_task(n, d, 3, seed=23)
    expected = score(name, features, labels)
    tolerance = 1e-6 if name == "pactran_gaussian" else 1e-9
    assert score(name, torch.from_numpy(features), torch.from_numpy(labels)) == pytest.approx(expected, rel=tolerance)


# --- CUDA: run where a GPU is present (python -m gtransfer.bench gpu-check runs these) ---


@pytest.mark.cuda
@requires_cuda
@pytest.mark.parametrize("n, d, c", [(400, 24, 3), (60, 150, 4)])
@pytest.mark.parametrize("name", FEATURE_NEW)
def test_new_metrics_on_cuda_equal_numpy(name, n, d, c):
    features, labels = make_task(n, d, c, seed=24)
    expected = score(name, features, labels)
    on_gpu = torch.from_numpy(features).cuda()
    tolerance = 1e-6 if name == "pactran_gaussian" else 1e-9
    assert score(name, on_gpu, torch.from_numpy(labels).cuda()) == pytest.approx(expected, rel=tolerance)
    assert score(name, on_gpu.float(), labels) == pytest.approx(expected, rel=FLOAT32_TOLERANCE[name])


@pytest.mark.cuda
@requires_cuda
def test_logme_multilabel_on_cuda_equals_numpy():
    rng = np.random.default_rng(25)
    features = rng.standard_normal((300, 20))
    labels = (rng.random((300, 4)) < 0.3).astype(float)
    labels[:50, 1] = np.nan
    expected = metrics.logme_multilabel(features, labels)
    assert metrics.logme_multilabel(torch.from_numpy(features).cuda(), labels) == pytest.approx(expected, rel=1e-9)


# --- bad input: one clear error each ---


def test_bad_options_and_inputs_are_refused_with_the_reason(tmp_path, capsys):
    from gtransfer.cli import main

    features, labels = make_task(60, 4, 3, seed=26)
    probs, _ = source_task(60, 3, 4, seed=26)
    with pytest.raises(ValueError, match="a must be a positive number"):
        metrics.sfda(features, labels, a=0.0)
    with pytest.raises(ValueError, match="power_iterations must be None"):
        metrics.sfda(features, labels, power_iterations=0)
    with pytest.raises(ValueError, match="pca_dim must be a positive integer"):
        metrics.parc(features, labels, pca_dim=0)
    with pytest.raises(ValueError, match="lda_factor must be a positive number"):
        metrics.pactran_gaussian(features, labels, lda_factor=-1.0)
    with pytest.raises(ValueError, match="alpha must be a positive number"):
        metrics.pactran_dirichlet(probs, labels, alpha=0.0)
    with pytest.raises(ValueError, match="rows must sum to 1"):
        metrics.pactran_gamma(probs * 2, labels)
    with pytest.raises(ValueError, match="absent"):
        metrics.sfda(features, labels * 2)
    np.save(tmp_path / "f.npy", features)
    np.save(tmp_path / "y.npy", np.stack([labels % 2, labels // 2], 1).astype(float))
    np.save(tmp_path / "p.npy", probs)
    command = ["score", "--features", str(tmp_path / "f.npy"), "--labels", str(tmp_path / "y.npy"), "--task", "mean"]
    assert main([*command, "--source-probs", str(tmp_path / "p.npy")]) == 2
    err = capsys.readouterr().err
    assert "--source-probs cannot follow" in err and "hint: leave out --source-probs" in err
