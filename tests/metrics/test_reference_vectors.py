"""Every metric against the values public reference implementations return (tests/vectors).

Tolerances are those measured in tests/vectors/README.md; deliberate deviations are tested in
their own functions below.
"""

import json

import numpy as np
import pytest
import torch

from gtransfer import metrics
from tests.conftest import VECTORS_DIR

EXPECTED = json.loads((VECTORS_DIR / "expected.json").read_text())
CROSSCHECKS = json.loads((VECTORS_DIR / "_crosschecks.json").read_text())
CASES = sorted(EXPECTED)


def load(case):
    with np.load(VECTORS_DIR / f"{case}.npz") as data:
        return {key: data[key] for key in data.files}


def as_torch(case_data):
    return {key: torch.from_numpy(value) for key, value in case_data.items()}


FEATURE_REFERENCES = [
    # (our function, reference key, rtol)
    (metrics.h_score, "h_score__tllib", 1e-8),
    (metrics.shrinkage_h_score, "regularized_h_score__tllib", 1e-10),
    (lambda f, y: metrics.ledoit_wolf_shrinkage(f), "ledoit_wolf_shrinkage__sklearn", 1e-10),
    (metrics.transrate, "transrate__tllib", 1e-10),
    (lambda f, y: metrics.gbc(f, y, gaussian="diagonal"), "gbc_diagonal__stable_transfer_f64", 1e-10),
    (lambda f, y: metrics.gbc(f, y, gaussian="spherical"), "gbc_spherical__stable_transfer_f64", 1e-10),
]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("function, key, rtol", FEATURE_REFERENCES, ids=[k for _, k, _ in FEATURE_REFERENCES])
def test_feature_metrics_match_references(case, function, key, rtol, backend):
    data = load(case) if backend == "numpy" else as_torch(load(case))
    value = function(data["features"], data["labels"])
    assert isinstance(value, float)
    assert value == pytest.approx(EXPECTED[case][key], rel=rtol)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith("wide")])
def test_logme_matches_thuml_fixed_point_where_n_ge_d(case, backend):
    data = load(case) if backend == "numpy" else as_torch(load(case))
    value = metrics.logme(data["features"], data["labels"])
    # same algorithm: 1e-9 (README); the bar is 5e-4
    assert value == pytest.approx(EXPECTED[case]["logme__thuml"], rel=1e-9)
    # the ICML-2021 variant converges to the same evidence within the variants' spread
    assert value == pytest.approx(EXPECTED[case]["logme_icml__thuml"], rel=5e-4)


def test_logme_when_n_lt_d_includes_the_dropped_log_alpha_term():
    """Deliberate deviation: the reference drops (d - k)/2 log(alpha) when n < d (thuml/LogME #23)."""
    data = load("wide_n100_d256_c5")
    value = metrics.logme(data["features"], data["labels"])
    assert value == pytest.approx(CROSSCHECKS["wide_n100_d256_c5"]["logme_fp_padded"], rel=1e-9)
    assert value == pytest.approx(-0.508826, abs=5e-7)
    assert abs(value - EXPECTED["wide_n100_d256_c5"]["logme__thuml"]) > 5.0  # the buggy 5.346


def test_h_score_saturates_at_c_minus_1_when_n_le_d():
    data = load("wide_n100_d256_c5")
    assert metrics.h_score(data["features"], data["labels"]) == pytest.approx(4.0, rel=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_nce_matches_references(case):
    data = load(case)
    value = metrics.nce(data["source_labels"], data["labels"])
    assert value == pytest.approx(EXPECTED[case]["nce__tllib"], rel=1e-12)
    assert value == pytest.approx(EXPECTED[case]["nce__thuml"], rel=1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if EXPECTED[c]["leep__tllib"] is not None])
def test_leep_matches_references(case):
    data = load(case)
    value = metrics.leep(data["source_probs"], data["labels"])
    assert value == pytest.approx(EXPECTED[case]["leep__tllib"], rel=1e-12)
    assert value == pytest.approx(EXPECTED[case]["leep__stable_transfer_f32"], rel=1e-4)


def test_leep_ignores_unused_source_columns_where_the_reference_returns_nan():
    """Deliberate deviation: 4 of 12 one-hot source columns are never used; tllib gives NaN."""
    data = load("onehot_n300_d16_c4")
    assert EXPECTED["onehot_n300_d16_c4"]["leep__tllib"] is None
    value = metrics.leep(data["source_probs"], data["labels"])
    used = data["source_probs"].sum(0) > 0
    assert value == pytest.approx(metrics.leep(data["source_probs"][:, used], data["labels"]), rel=1e-15)
    assert value == pytest.approx(-1.31620353668555, rel=1e-12)  # tllib on the used columns (README)
    # LEEP on one-hot predictions is NCE
    assert value == pytest.approx(metrics.nce(data["source_labels"], data["labels"]), rel=1e-12)
    assert value == pytest.approx(EXPECTED["onehot_n300_d16_c4"]["leep__stable_transfer_f32"], rel=1e-4)


@pytest.mark.parametrize("case", ["small_n200_d16_c3", "imbalanced_n1000_d32_c2"])
def test_nleep_order_of_magnitude(case):
    """N-LEEP depends on row order and the sklearn version: an order-of-magnitude anchor only."""
    data = load(case)
    value = metrics.nleep(data["features"], data["labels"], pca_variance=None, random_state=123)
    assert value == pytest.approx(EXPECTED[case]["nleep__stable_transfer"], rel=0.1)


@pytest.mark.parametrize("case", CASES)
def test_h_score_is_not_the_stable_transfer_elementwise_product(case):
    """stable_transfer's hscore multiplies element-wise (a bug); it is not reproduced."""
    data = load(case)
    ours = metrics.h_score(data["features"], data["labels"])
    buggy = EXPECTED[case]["hscore__stable_transfer_f64"]
    assert abs(ours - buggy) > 0.5
    cov_f = np.cov(data["features"], rowvar=False)
    means = np.stack([data["features"][data["labels"] == c].mean(0) for c in range(data["labels"].max() + 1)])
    cov_g = np.cov(means[data["labels"]], rowvar=False)
    recomputed = np.trace(np.linalg.pinv(cov_f, rcond=1e-5) * cov_g)
    assert recomputed == pytest.approx(buggy, rel=1e-9)  # the reference is the element-wise product
