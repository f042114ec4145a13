"""Pre-registered claims: digests, the registration check, and the verdict rule run on placebo rankers."""

import hashlib
import json

import pytest
import yaml

from gtransfer.evaluation import (
    ClaimSpec,
    attribute_scores,
    check_registration,
    decide_claim,
    leave_one_dataset_out_truth,
    load_claim_spec,
    per_group_measure,
    random_measure,
    spec_digest,
)
from tests.evaluation.synthetic import evaluation_table

SPEC = {
    "claim": "x",
    "statement": "the metric ranks encoders with Spearman above 0.3",
    "truth": "truth",
    "measure": "spearman",
    "metric": "metric",
    "unit": "dataset",
    "balance": "task",
    "margin": 0.3,
    "direction": "above",
    "exclusion": {"min_test_positives": 5},
    "placebos": ["random", "lodo_mean_truth", "params"],
    "n_boot": 2000,
    "seed": 0,
}


def _per_group(shared):
    frame = evaluation_table(shared=shared, seed=3)
    frame["lodo_mean_truth"] = leave_one_dataset_out_truth(frame, "truth")
    frame["params"] = attribute_scores(frame, dict(zip(frame["encoder"], frame["params"])), name="params")
    values = {name: per_group_measure(frame, name, "truth") for name in ("metric", "lodo_mean_truth", "params")}
    values["random"] = random_measure(frame, "truth", n_draws=200)
    return values


def test_placebos_fail_a_sound_rule():
    result = decide_claim(ClaimSpec.from_dict(SPEC), _per_group(shared=0.0))
    assert result.verdict == "reproduced"
    assert set(result.placebos) == set(SPEC["placebos"])  # every placebo went through the rule
    for name, (verdict, interval) in result.placebos.items():
        assert verdict != "reproduced", f"placebo {name} passes the rule: {interval}"
    assert not result.broken and "Broken rule" not in "\n".join(result.lines())
    assert result.interval.counts == (("datasets", 6), ("tasks", 30))


def test_a_rule_a_placebo_passes_is_reported_broken():
    lax = ClaimSpec.from_dict({**SPEC, "margin": -0.5})  # random's ~0 clears -0.5
    result = decide_claim(lax, _per_group(shared=0.0))
    assert result.verdict == "reproduced" and result.broken and "random" in result.broken_by
    assert any(line.startswith("**Broken rule") and "random" in line for line in result.lines())
    # a realistic one: encoders that are good everywhere let the target-agnostic prior pass "Spearman > 0"
    shared = decide_claim(ClaimSpec.from_dict({**SPEC, "margin": 0.0}), _per_group(shared=3.0))
    assert shared.broken_by == ["lodo_mean_truth"]


def test_a_difference_rule_runs_placebos_in_the_metrics_place():
    values = _per_group(shared=0.0)
    spec = ClaimSpec.from_dict({**SPEC, "margin": 0.0, "minus": "params", "placebos": ["random", "lodo_mean_truth"]})
    result = decide_claim(spec, values)
    assert result.verdict == "reproduced"
    expected = (values["random"] - values["params"]).mean()
    assert result.placebos["random"][1].estimate == pytest.approx(expected)
    with pytest.raises(ValueError, match=r"no per-group values for \['nleep'\]"):
        decide_claim(ClaimSpec.from_dict({**SPEC, "metric": "nleep"}), values)


def test_digest_is_the_sha256_of_the_canonical_json_of_the_rule(tmp_path):
    spec = ClaimSpec.from_dict(SPEC)
    rule = {**SPEC, "minus": None}
    text = json.dumps(rule, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    assert spec_digest(spec) == hashlib.sha256(text.encode()).hexdigest()
    # the same spec as YAML (other key order) and JSON has one digest; registration is outside it
    (tmp_path / "x.yaml").write_text(yaml.safe_dump(dict(reversed(list(SPEC.items())))))
    (tmp_path / "x.json").write_text(
        json.dumps({**SPEC, "registration": {"digest": "0" * 64, "at": "2026-12-01T00:00:00Z"}})
    )
    assert spec_digest(load_claim_spec(tmp_path / "x.yaml")) == spec_digest(load_claim_spec(tmp_path / "x.json"))
    with pytest.raises(ValueError, match=r"unknown keys \['margins'\]"):
        ClaimSpec.from_dict({**SPEC, "margins": 0.1})
    with pytest.raises(ValueError, match="at least one placebo"):
        ClaimSpec.from_dict({**SPEC, "placebos": []})


def _registered(spec_fields, at):
    spec = ClaimSpec.from_dict(spec_fields)
    return {**spec_fields, "registration": {"digest": spec_digest(spec), "at": at}}


def test_registration_check_detects_a_changed_spec_and_a_late_one():
    first_trial = "2026-12-02T09:00:00Z"
    unchanged = check_registration(ClaimSpec.from_dict(_registered(SPEC, "2026-12-01T12:00:00Z")), first_trial)
    assert unchanged.ok and unchanged.status == "pre-registered" and "**" not in unchanged.line()
    # the margin edited after registration: the recorded digest no longer matches
    edited = {**_registered(SPEC, "2026-12-01T12:00:00Z"), "margin": 0.1}
    changed = check_registration(ClaimSpec.from_dict(edited), first_trial)
    assert changed.status == "edited since registration" and not changed.ok
    assert changed.line().startswith("**The spec of claim (x) changed after it was registered")
    # re-registered after the first trial: the rule was written with the data in hand
    late = check_registration(
        ClaimSpec.from_dict(_registered({**SPEC, "margin": 0.1}, "2026-12-02T15:00:00Z")), first_trial
    )
    assert late.status == "registered after the first trial" and late.line().startswith("**")
    assert check_registration(ClaimSpec.from_dict(SPEC), first_trial).status == "unregistered"
    # a first trial given as seconds since the epoch (a store's timestamp)
    epoch = 1764666000.0  # 2025-12-02 09:00 UTC: before the registration
    assert check_registration(ClaimSpec.from_dict(_registered(SPEC, "2026-12-01T12:00:00Z")), epoch).status == (
        "registered after the first trial")


def test_rule_verdict_on_either_side_of_the_margin():
    from gtransfer.evaluation import Interval, rule_verdict

    def interval(low, high):
        return Interval((low + high) / 2, low, high, (("tasks", 8),), 1000)

    assert rule_verdict(interval(0.05, 0.3), 0.0) == "reproduced"
    assert rule_verdict(interval(-0.3, -0.05), 0.0) == "contradicted"
    assert rule_verdict(interval(-0.05, 0.3), 0.0) == "inconclusive"
    # "below": a non-inferiority claim such as "H_alpha at most 0.1 worse" is "the deficit is below 0.1"
    assert rule_verdict(interval(-0.2, 0.05), 0.1, direction="below") == "reproduced"
    assert rule_verdict(interval(0.15, 0.4), 0.1, direction="below") == "contradicted"
    assert rule_verdict(interval(0.0, 0.2), 0.1, direction="below") == "inconclusive"


def test_a_bound_at_the_margin_up_to_rounding_is_inconclusive_whatever_its_sign():
    """With three datasets a percentile bound is often one dataset's value; where H_alpha and H-score rank a target's
    candidates alike, their slopes' difference is 0 up to rounding (+-1e-17, measured in the image (a') setups), and
    its sign used to make the same setup 'contradicted' on one CPU and 'inconclusive' on another."""
    from gtransfer.evaluation import Interval, rule_verdict

    def interval(low, high):
        return Interval((low + high) / 2, low, high, (("datasets", 3),), 1000)

    for rounding in (-1e-17, 0.0, 1e-17, 3e-13):
        assert rule_verdict(interval(rounding, 0.17), 0.0, direction="below") == "inconclusive"
        assert rule_verdict(interval(rounding, 0.17), 0.0) == "inconclusive"
        assert rule_verdict(interval(-0.17, -rounding), 0.0) == "inconclusive"
    # beyond the tolerance the interval clears the margin as before
    assert rule_verdict(interval(1e-9, 0.17), 0.0, direction="below") == "contradicted"
    assert rule_verdict(interval(1e-9, 0.17), 0.0) == "reproduced"
