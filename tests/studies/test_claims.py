"""The claim statistics (gtransfer.studies.claims) and the committed claims pages, specs and digests."""

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import rankdata, spearmanr

from gtransfer.evaluation import check_registration, hierarchical_bootstrap, load_claim_spec, spec_digest
from gtransfer.studies.claims import (
    TimingClaim,
    geometric_mean_interval,
    load_timing_claim,
    mean_interval,
    partial_spearman,
    per_group_slope,
    ties_as_constant,
)

ROOT = Path(__file__).resolve().parents[2]
CLAIMS = ROOT / "docs" / "results" / "claims"
SPECS = sorted(p for p in (CLAIMS / "specs").glob("*.yaml") if not p.stem.endswith(("-vision", "-full")))
#: the image claims' specs, registered before the vision medium preset's first trial
VISION_SPECS = sorted((CLAIMS / "specs").glob("*-vision.yaml"))


def _load(path: Path):
    return load_timing_claim(path) if path.name.startswith("c-") else load_claim_spec(path)


def test_mean_interval_is_the_task_level_bootstrap_of_the_finite_values():
    values = np.random.default_rng(0).normal(0.3, 0.2, 40)
    with_nan = np.append(values, np.nan)
    interval = mean_interval(with_nan, n_boot=2000)
    reference = hierarchical_bootstrap(values, unit="task", n_boot=2000)
    assert (interval.estimate, interval.low, interval.high) == (reference.estimate, reference.low, reference.high)
    assert interval.estimate == pytest.approx(values.mean(), abs=1e-15) and interval.counts == (("tasks", 40),)
    with pytest.raises(ValueError, match="no finite value"):
        mean_interval([np.nan])


def test_geometric_mean_interval_exponentiates_the_bootstrap_of_the_logs():
    ratios = np.array([[2.0, 2.5], [8.0, np.nan], [4.0, 3.0]])
    interval = geometric_mean_interval(ratios, n_boot=3000)
    logs = hierarchical_bootstrap(np.log(ratios), unit="task", n_boot=3000)
    # the estimate: geometric mean over cells of each cell's geometric mean over its repeats
    expected = np.exp(np.mean([np.log(2.0 * 2.5) / 2, np.log(8.0), np.log(12.0) / 2]))
    assert interval.estimate == pytest.approx(expected, rel=1e-12)
    assert interval.low == pytest.approx(np.exp(logs.low)) and interval.high == pytest.approx(np.exp(logs.high))
    assert interval.counts == (("tasks", 3), ("seeds", 2))
    with pytest.raises(ValueError, match="positive"):
        geometric_mean_interval([1.0, -2.0])


def test_partial_spearman_equals_the_correlation_of_rank_residuals():
    rng = np.random.default_rng(3)
    z = rng.normal(size=40)
    x, y = z + rng.normal(size=40), 0.5 * z + rng.normal(size=40)
    rx, ry, rz = rankdata(x), rankdata(y), rankdata(z)
    design = np.column_stack([np.ones(40), rz])
    residual = [r - design @ np.linalg.lstsq(design, r, rcond=None)[0] for r in (rx, ry)]
    expected = float(np.corrcoef(residual[0], residual[1])[0, 1])
    assert partial_spearman(x, y, z) == pytest.approx(expected, abs=1e-12)
    assert partial_spearman(x, y, z) != pytest.approx(spearmanr(x, y).statistic, abs=0.05)  # z mattered
    assert partial_spearman(-z, y, z) == 0.0  # a ranking that is z itself carries nothing beyond z


def test_per_group_slope_and_ties_as_constant():
    cells = pd.DataFrame({"g": ["a", "a", "b", "b", "b"], "x": [0.0, 1.0, 0.0, 1.0, 2.0],
                          "v": [1.0, 3.0, 5.0, 4.0, 3.0]})
    slopes = per_group_slope(cells["v"], cells["x"], cells["g"])
    assert slopes.to_dict() == pytest.approx({"a": 2.0, "b": -1.0})
    with pytest.raises(ValueError, match="group 'a' has one covariate value"):
        per_group_slope(cells["v"], pd.Series([1.0] * 5), cells["g"])
    frame = pd.DataFrame({"target": ["t1"] * 3 + ["t2"] * 3, "h": [1.0, 1.0 + 1e-9, 1.0, 0.1, 0.5, 0.9]})
    out, tied = ties_as_constant(frame, ["h"])
    assert tied == {"h": ["t1"]} and out["h"].tolist() == [0.0, 0.0, 0.0, 0.1, 0.5, 0.9]
    assert frame["h"].iloc[1] == 1.0 + 1e-9  # the input is left alone


def test_a_timing_claim_digests_like_a_claim_spec_and_a_later_edit_is_said_in_bold(tmp_path):
    claim = TimingClaim("c", "faster", "seconds", "h", "logme", 3.0, ("rerun",))
    digest = spec_digest(claim)  # type: ignore[arg-type]
    changed = TimingClaim("c", "faster", "seconds", "h", "logme", 2.0, ("rerun",))
    assert spec_digest(changed) != digest  # type: ignore[arg-type]
    path = tmp_path / "c.yaml"
    path.write_text(f"claim: c\nstatement: faster\ntruth: seconds\nmetric: h\nminus: logme\nmargin: 3\n"
                    f"placebos: [rerun]\nregistration: {{digest: {digest}, at: '2026-12-01T00:00:00Z'}}\n")
    assert check_registration(load_timing_claim(path), "2026-12-02T00:00:00Z").ok  # type: ignore[arg-type]
    path.write_text(path.read_text().replace("margin: 3", "margin: 2"))
    line = check_registration(load_timing_claim(path), "2026-12-02T00:00:00Z").line()  # type: ignore[arg-type]
    assert line.startswith("**The spec of claim (c) changed after it was registered")
    with pytest.raises(ValueError, match="unknown keys"):
        path.write_text(path.read_text() + "measure: spearman\n")
        load_timing_claim(path)


# -- the committed specs and pages --------------------------------------------------------------------------------
def test_every_committed_spec_is_unchanged_since_registration_and_printed_on_its_page():
    """Each spec's digest is recorded, unchanged, and printed on its page with the registration line the page
    must carry: pre-registered (recorded before its store's first trial) or, in bold, fixed after it."""
    import yaml

    assert len(SPECS) >= 15  # the nine 2026-12-07 afternoon rules, the four of the new truths, the two of the large
    runs = yaml.safe_load((CLAIMS / "runs.yaml").read_text())
    first = {"truth": runs["truths-medium"]["first_trial_at"], "target": runs["truths-medium-target"]["first_trial_at"],
             "large": runs["truths-large"]["first_trial_at"]}
    pages = {p.name: p.read_text() for p in CLAIMS.glob("claim-*.md")}
    checked = 0
    for path in SPECS:
        spec = _load(path)
        digest = spec_digest(spec)  # type: ignore[arg-type]
        assert spec.registration["digest"] == digest, f"{path.name} changed after its registration"
        page = f"claim-{path.name[0]}.md"
        assert f"digest `{digest}`" in pages[page], f"{page} does not print the digest of {path.name}"
        if path.stem.endswith(("-truth", "-truth-large")):  # the new truths' rules: their first trial is in runs.yaml
            at = (first["large"] if path.stem.endswith("-large") else first["target"] if path.stem.startswith("d-")
                  else first["truth"])
            line = check_registration(spec, at).line()  # type: ignore[arg-type]
            assert line in pages[page], f"{page} does not say how {path.name} was registered: {line}"
            checked += 1
        elif path.stem in {"a", "a-prime", "b-probe", "b-finetune", "c-project", "c-published", "d-old", "d-nce",
                           "d-leep"}:  # written after their reports: the page says so in bold
            assert f"**The spec of claim ({spec.claim}) was fixed after the store's first trial" in pages[page]
            checked += 1
    assert checked >= 15


def test_the_image_specs_are_unchanged_since_registration():
    names = {load_claim_spec(p).claim for p in VISION_SPECS}
    assert names == {"a-vision", "a'-vision", "b-vision", "d-old-vision", "d-nce-vision", "d-leep-vision"}
    for path in VISION_SPECS:
        spec = load_claim_spec(path)
        assert spec.registration["digest"] == spec_digest(spec), f"{path.name} changed after its registration"
        graph_name = {"b-vision.yaml": "b-finetune.yaml"}.get(path.name, path.name.replace("-vision", ""))
        graph = load_claim_spec(CLAIMS / "specs" / graph_name)
        # the graph rule's measure, metric, minus, margin, direction, placebos and unit; the truth is the images'
        same = ("measure", "metric", "minus", "margin", "direction", "placebos", "unit", "balance", "n_boot", "seed")
        assert {f: getattr(spec, f) for f in same} == {f: getattr(graph, f) for f in same}, path.name
        assert spec.truth.startswith("vision-") and not graph.truth.startswith("vision-")


def test_the_image_pages_print_each_rule_registered_before_the_committed_stores_first_trial():
    from gtransfer.studies.claims.vision import store_first_trial

    store = ROOT / "docs" / "results" / "vision-medium" / "results.db"
    first = store_first_trial(store)
    assert first == "2026-12-07T19:38:53Z"
    pages = {p.name: p.read_text() for p in CLAIMS.glob("claim-*-vision.md")}
    assert sorted(pages) == ["claim-a-vision.md", "claim-b-vision.md", "claim-d-vision.md"]
    for path in VISION_SPECS:
        spec = load_claim_spec(path)
        assert check_registration(spec, first).ok, path.name
        page = pages[f"claim-{path.name[0]}-vision.md"]
        assert f"digest `{spec.registration['digest']}`" in page
        assert f"Rule pre-registered: spec digest `{spec.registration['digest'][:12]}`" in page


def _sections(text: str) -> list[str]:
    return re.split(r"\n(?=Rule `)", text)


def test_no_placebo_passes_a_rule_that_a_page_calls_sound():
    checked = 0
    for page in sorted(CLAIMS.glob("claim-*.md")):
        for section in _sections(page.read_text())[1:]:
            passing = re.findall(r"- placebo (\S+) in the metric's place: reproduced", section)
            passing += re.findall(r"Placebo `(\S+)`[^*]*\*\*reproduced\*\*", section)
            sound = "fails the rule as it must" in section or "Every placebo fails the rule" in section
            broken = "**Broken rule" in section or "**the rule is broken**" in section
            assert not (passing and sound), f"{page.name}: placebo {passing} passes a rule called sound"
            assert bool(passing) == broken, f"{page.name}: placebos {passing} but broken={broken}"
            checked += 1
    assert checked >= 9


def test_claim_a_dataset_level_interval_recomputed_independently():
    frame = pd.read_csv(ROOT / "docs" / "results" / "source-selection-medium-nall" / "scores_and_truth.csv")
    gains = {}
    for target, part in frame.groupby("target"):
        rho = {}
        for metric in ("shrinkage_h_score", "h_score"):
            scores = part[metric].to_numpy()
            constant = np.ptp(scores) <= 1e-5 * max(1.0, np.abs(scores).max())
            rho[metric] = 0.0 if constant else spearmanr(scores, part["test_roc_auc"]).statistic
        gains[target] = rho["shrinkage_h_score"] - rho["h_score"]
    datasets = sorted({t.split(":")[0] for t in gains})
    by_dataset = [np.array([g for t, g in gains.items() if t.split(":")[0] == d]) for d in datasets]
    rng = np.random.default_rng(123)
    means = np.empty(4000)
    for b in range(means.size):  # datasets with replacement, then tasks within each drawn dataset
        drawn = [by_dataset[i] for i in rng.integers(0, len(by_dataset), len(by_dataset))]
        values = np.concatenate([d[rng.integers(0, d.size, d.size)] for d in drawn])
        means[b] = values.mean()
    # the t-calibrated interval over the 6 datasets (evaluation.md), widened to contain the percentile one
    from scipy.stats import t as student_t

    estimate = np.mean(list(gains.values()))
    half = student_t.ppf(0.975, len(datasets) - 1) * np.sqrt(len(datasets) / (len(datasets) - 1)) * means.std(ddof=1)
    percentile_low, percentile_high = np.percentile(means, [2.5, 97.5])
    low, high = min(estimate - half, percentile_low), max(estimate + half, percentile_high)
    page = (CLAIMS / "claim-a.md").read_text()
    found = re.search(r"Verdict: \*\*(\w+)\*\* \(shrinkage_h_score - h_score, mean spearman with "
                      r"source-selection-medium-nall/test_roc_auc: ([+-][\d.]+) \[([+-][\d.]+), ([+-][\d.]+)\] "
                      r"\(6 datasets, 44 tasks, 10,000 resamples\)", page)
    assert found, "claim (a)'s verdict line is missing from its page"
    estimate, page_low, page_high = (float(found.group(i)) for i in (2, 3, 4))
    assert estimate == pytest.approx(np.mean(list(gains.values())), abs=0.005)
    assert page_low == pytest.approx(low, abs=0.04) and page_high == pytest.approx(high, abs=0.04)
    assert found.group(1) == ("reproduced" if page_low > 0 else "inconclusive")


@pytest.mark.parametrize(("suffix", "claims", "stores"), [
    ("-full", {"a-truth-full", "b-truth-full", "d-nce-truth-full", "d-leep-truth-full"},
     ("truths-full", "truths-full-target")),
    ("-large", {"a-truth-large", "b-truth-large"}, ("truths-large",)),
])
def test_the_stronger_truths_rules_are_the_medium_ones_registered_before_their_first_trial(suffix, claims, stores):
    """Registered 2026-12-07 23:53 UTC for the GPU run of the full truth and 2026-12-08 00:49 UTC for the large CPU
    truth: the medium truth's rule unchanged but for the truth it reads, digests intact, and no store of theirs
    recorded in runs.yaml to have started before them."""
    import yaml

    runs = yaml.safe_load((CLAIMS / "runs.yaml").read_text())
    paths = sorted((CLAIMS / "specs").glob(f"*-truth{suffix}.yaml"))
    assert {load_claim_spec(p).claim for p in paths} == claims
    for path in paths:
        spec = load_claim_spec(path)
        assert spec.registration["digest"] == spec_digest(spec), f"{path.name} changed after its registration"
        medium = load_claim_spec(CLAIMS / "specs" / path.name.replace(suffix, ""))
        same = ("measure", "metric", "minus", "margin", "direction", "placebos", "unit", "balance", "n_boot", "seed",
                "exclusion")
        assert {f: getattr(spec, f) for f in same} == {f: getattr(medium, f) for f in same}, path.name
        assert spec.truth == medium.truth.replace("truths-medium", f"truths{suffix}"), path.name
        for name in stores:
            if name in runs:  # once the run is recorded, its first trial must come after the registration
                assert check_registration(spec, runs[name]["first_trial_at"]).ok, (path.name, name)
