"""The claims pages on small synthetic reports: experiments/claims.py end to end (its options and what it prints),
and the package behind it (gtransfer.studies.claims: write_pages and its pieces): a page per claim with its rule's
digest, the bold registration warning, placebos through every rule, and pages that regenerate byte for byte."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gtransfer.evaluation import load_claim_spec
from gtransfer.studies.claims.pages import write_pages
from gtransfer.studies.claims.truths import with_section
from tests.study_helpers import load_experiment_script

ROOT = Path(__file__).resolve().parents[2]
METRICS = ("shrinkage_h_score", "h_score", "logme", "gbc", "transrate", "knn_accuracy")
SIZES = {"50": 50, "100": 100, "300": 300, "1000": 1000, "all": None}


def _source_reports(root: Path, rng) -> None:
    targets = [f"ds{d}:{t}" for d in range(4) for t in range(3)]
    encoders = [f"enc{i}" for i in range(8)]
    quality = {e: rng.normal() for e in encoders}
    truth = {(t, e): 0.7 + 0.05 * quality[e] + rng.normal(0, 0.005) for t in targets for e in encoders}
    for size, n in [*SIZES.items(), ("finetune", 400)]:
        rows = []
        for t in targets:
            for e in encoders:
                good = truth[(t, e)] + rng.normal(0, 0.01)
                rows.append({"target": t, "encoder": e, "shrinkage_h_score": good, "logme": good + rng.normal(0, 0.02),
                             "h_score": 1.0 if (n or 2000) <= 300 else rng.normal(), "gbc": rng.normal(),
                             "transrate": rng.normal(), "knn_accuracy": rng.normal(), "n": n or 1500.0, "d": 300.0,
                             "test_roc_auc": truth[(t, e)]})
        name = "source-selection-medium-finetune" if size == "finetune" else f"source-selection-medium-n{size}"
        (root / name).mkdir(parents=True)
        pd.DataFrame(rows).to_csv(root / name / "scores_and_truth.csv", index=False)
    for study in ("source-selection-medium-timing", "target-selection-medium-timing"):
        (root / study).mkdir()
        pd.DataFrame({"encoder": ["e1", "e2", "e3"], "target": ["ds0:0", "ds1:0", "ds2:0"], "n": [1000, 2000, 3000],
                      "d": [300, 300, 300], "seconds_shrinkage_h_score": [0.01, 0.02, 0.03],
                      "seconds_logme": [0.015, 0.03, 0.045]}).to_csv(root / study / "trials_graph_metric_timing.csv",
                                                                      index=False)


def _target_report(root: Path, rng) -> None:
    folder = root / "target-selection-medium"
    folder.mkdir()
    rows, trials = [], []
    for family in ("A", "B", "C"):
        for i in range(12):
            entropy = rng.uniform(0.2, 1.6)
            skill = rng.normal()
            seeds = [0.9 - entropy / 4 + 0.05 * skill + rng.normal(0, 0.01) for _ in range(2)]
            target = f"{family}:k={i}"
            rows.append({"family": family, "target": target, "label_entropy": entropy, "test_accuracy": np.mean(seeds),
                         "relative_accuracy": skill, "nce": -entropy, "leep": -entropy + rng.normal(0, 0.01),
                         "nce_normalized": rng.normal(), "leep_normalized": rng.normal(),
                         "shrinkage_h_score": skill, "logme": rng.normal()})
            trials += [{"target": target, "seed": s, "test_accuracy": v} for s, v in enumerate(seeds)]
    pd.DataFrame(rows).to_csv(folder / "scores_and_truth.csv", index=False)
    pd.DataFrame(trials).to_csv(folder / "trials_graph_finetune.csv", index=False)


def _truth_reports(root: Path, rng) -> None:
    """The new truths (docs/results/truths-medium): a source truth with 3 seeds and test positives per task, where
    H_alpha follows the encoders' quality on the dataset (so "usually good" cannot) and H-score is noise; a target
    truth where NCE is -H(Y) and balanced accuracy follows H(Y) and a skill NCE does not see."""
    folder = root / "truths-medium"
    folder.mkdir()
    encoders = [f"enc{i}" for i in range(8)]
    rows = []
    for d in range(4):
        quality = {e: rng.normal() for e in encoders}  # which encoder is good depends on the dataset
        for t in range(3):
            positives = 2 if (d, t) == (0, 0) else 12  # one task the exclusion rule must leave out
            for e in encoders:
                seeds = [0.7 + 0.05 * quality[e] + rng.normal(0, 0.01) for _ in range(3)]
                rows.append({"target": f"ds{d}:{t}", "encoder": e, "shrinkage_h_score": quality[e] + rng.normal(0, 0.1),
                             "logme": quality[e] + rng.normal(0, 0.1), "h_score": rng.normal(), "gbc": rng.normal(),
                             "transrate": rng.normal(), "knn_accuracy": rng.normal(), "sfda": rng.normal(), "n": 320.0,
                             "d": 300.0, "test_positives": positives, "test_roc_auc": np.mean(seeds),
                             **{f"test_roc_auc_seed{s}": v for s, v in enumerate(seeds)}})
    # a dataset added after the verdicts were read (ADDED_AFTER_THE_VERDICTS): outside the registered verdict
    quality = {e: rng.normal() for e in encoders}
    for e in encoders:
        seeds = [0.7 + 0.05 * quality[e] + rng.normal(0, 0.01) for _ in range(3)]
        rows.append({**rows[-1], "target": "ogbg-molhiv", "encoder": e, "shrinkage_h_score": quality[e],
                     "logme": quality[e], "h_score": rng.normal(), "test_positives": 6, "test_roc_auc": np.mean(seeds),
                     **{f"test_roc_auc_seed{s}": v for s, v in enumerate(seeds)}})
    pd.DataFrame(rows).to_csv(folder / "scores_and_truth.csv", index=False)
    # the full (GPU) truth: the same design without the later dataset, decided by its own registered rules
    full = root / "truths-full"
    full.mkdir()
    pd.DataFrame([r for r in rows if r["target"] != "ogbg-molhiv"]).to_csv(full / "scores_and_truth.csv",
                                                                          index=False)
    # the large (CPU) truth: medium's scores, the same truth on ds0-ds2 and the reverse ranking on ds3
    large = root / "truths-large"
    large.mkdir()
    flipped = [{**r, **{k: 1.4 - v for k, v in r.items() if k.startswith("test_roc_auc")}}
               if r["target"].startswith("ds3") else r for r in rows if r["target"] != "ogbg-molhiv"]
    pd.DataFrame(flipped).to_csv(large / "scores_and_truth.csv", index=False)
    rows = []
    for family in ("A", "B", "C", "D"):
        for i in range(12):
            entropy, skill = rng.uniform(0.2, 1.6), rng.normal()
            seeds = [0.9 - entropy / 4 + 0.05 * skill + rng.normal(0, 0.005) for _ in range(3)]
            rows.append({"family": family, "target": f"{family}:k={i}", "label_entropy": entropy, "nce": -entropy,
                         "leep": -entropy + rng.normal(0, 0.01), "nce_normalized": rng.normal(),
                         "leep_normalized": rng.normal(), "shrinkage_h_score": skill, "logme": rng.normal(),
                         "test_balanced_accuracy": np.mean(seeds), "test_accuracy": np.mean(seeds),
                         "majority_accuracy": 0.6,
                         **{f"test_balanced_accuracy_seed{s}": v for s, v in enumerate(seeds)}})
    pd.DataFrame(rows).to_csv(folder / "target_scores_and_truth.csv", index=False)
    pd.DataFrame(rows).to_csv(full / "target_scores_and_truth.csv", index=False)


def _pages_folder(pages: Path) -> Path:
    """A page folder holding the committed specs and timing benchmark, as the claims read them."""
    shutil.copytree(ROOT / "docs" / "results" / "claims" / "specs", pages / "specs")
    shutil.copy(ROOT / "docs" / "results" / "claims" / "logme-timing.csv", pages / "logme-timing.csv")
    return pages


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The same synthetic reports written twice into two page folders: first by the script (its printout kept),
    then by the package's write_pages with the image claims' inputs too."""
    rng = np.random.default_rng(0)
    base = tmp_path_factory.mktemp("claims")
    reports = base / "reports"
    _source_reports(reports, rng)
    _target_report(reports, rng)
    _truth_reports(reports, rng)
    runs = base / "runs.yaml"
    runs.write_text("source-selection-medium: {command: x, hardware: y, date: '2026-12-02', wall_minutes: 1, "
                    "first_trial_at: '2026-12-02T18:41:47Z'}\n"
                    "target-selection-medium: {command: x, hardware: y, date: '2026-12-02', wall_minutes: 1, "
                    "first_trial_at: '2026-12-02T17:46:14Z'}\n")
    vision_runs = _vision_inputs(base)
    first, second = _pages_folder(base / "first"), _pages_folder(base / "second")
    old, printed = sys.argv, io.StringIO()
    sys.argv = ["claims.py", "--reports", str(reports), "--runs", str(runs), "--pages", str(first),
                "--summary", str(first / "summary.md")]
    try:
        with contextlib.redirect_stdout(printed):
            load_experiment_script("claims").main()
    finally:
        sys.argv = old
    write_pages(reports, second, runs=runs, vision_runs=vision_runs, summary=second / "summary.md")
    return printed.getvalue(), reports, runs, (first, second)


def test_the_script_prints_each_pages_verdict_and_the_table(written):
    printed, _, _, (first, _) = written
    for page in ("claim-a.md", "claim-b.md", "claim-c.md", "claim-d.md"):
        verdict = next(line for line in (first / page).read_text().splitlines() if line.startswith("**Verdict"))
        assert f"{first / page}: {verdict}\n" in printed
    assert printed.endswith((first / "summary.md").read_text() + "\n")


def test_pages_regenerate_byte_for_byte_and_the_image_claims_add_only_their_pages_and_rows(written):
    _, _, _, (first, second) = written
    names = sorted(p.name for p in first.glob("*.md"))
    assert names == ["claim-a.md", "claim-b.md", "claim-c.md", "claim-d.md", "summary.md"]
    assert sorted(p.name for p in second.glob("*.md")) == sorted(
        [*names, "claim-a-vision.md", "claim-b-vision.md", "claim-d-vision.md"])
    for name in [*names[:-1], "plots/sizes.png"]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), f"{name} differs on a rerun"
    before, after = (first / "summary.md").read_text(), (second / "summary.md").read_text()
    assert after.startswith(before) and after.count("\n") == before.count("\n") + 6
    assert [line.split(" | ")[1] for line in after[len(before):].splitlines()] == [
        "`a-vision`", "`a'-vision`", "`b-vision`", "`d-old-vision`", "`d-nce-vision`", "`d-leep-vision`"]


def test_pages_state_rule_digest_units_placebos_stability_and_the_bold_warning(written):
    _, _, _, (first, _) = written
    a = (first / "claim-a.md").read_text()
    # H_alpha follows the truth, H-score is noise: (a) reproduced at the dataset level with 4 datasets, 12 tasks
    assert ("Verdict: **reproduced** (shrinkage_h_score - h_score, mean spearman with "
            "source-selection-medium-nall/test_roc_auc: ") in a
    assert "(4 datasets, 12 tasks, 10,000 resamples)" in a
    assert "**The spec of claim (a) was fixed after the store's first trial" in a
    assert "- placebo random in the metric's place: " in a and "Stability: 'reproduced' in " in a
    assert "the same rule with the old unit (tasks resampled as one pool" in a
    assert "**Reliability: not measurable**" in a
    for page in ("claim-a.md", "claim-b.md", "claim-c.md", "claim-d.md"):
        assert "**Provisional.**" in (first / page).read_text()
    d = (first / "claim-d.md").read_text()
    # raw NCE is -H(Y) here: the old rule passes for NCE and for -H(Y) -- broken -- and the corrected rule
    # (nothing beyond H(Y)) holds for NCE while the other seed's truth, which has information, fails it
    assert re.search(r"\*\*Broken rule: the placebo\(s\) [a-z_, ]*neg_label_entropy pass it", d)
    assert "**The old rule is broken**" in d
    assert "(NCE: reproduced;" in d
    assert "- placebo other_seed_truth in the metric's place: contradicted" in d
    # every encoder keeps its quality on every target here, so "usually good" ranks as well as H_alpha: the
    # leave-one-dataset-out prior passes (b)'s non-inferiority rule, and the page says the rule is broken
    b = (first / "claim-b.md").read_text()
    assert "**Broken rule: the placebo(s) lodo_mean_truth pass it, so it cannot carry the claim.**" in b
    # the registered verdict on the truths leaves out the dataset added after it was read, and a separate line gives
    # the rule with it
    section = a[a.index("rule `a-truth`"):]
    assert "(4 datasets, 11 tasks, 10,000 resamples); rule: interval > +0)" in section
    # the full truth's rules decide it in a section of its own, and the table gets its rows
    full = a[a.index("## On the full multi-task fine-tuning truth, 3 seeds (rule `a-truth-full`)"):]
    assert "This rule was registered (2026-12-07 23:53 UTC) before any trial of the full truth ran" in full
    assert "(4 datasets, 11 tasks, 10,000 resamples); rule: interval > +0)" in full and "Not the registered" not in full
    # the large truth: its own rules, and how far it ranks the encoders as the medium truth does, per dataset
    large = a[a.index("## On the large multi-task fine-tuning truth, 3 seeds (rule `a-truth-large`)"):]
    assert "This rule was registered (2026-12-08 00:49 UTC) before any trial of the large truth ran" in large
    assert ("**Agreement with the multi-task fine-tuning truth** (Spearman of the encoders' seed-mean ROC-AUC under "
            "the two truths, per task): median +1.00 over 12 tasks (range -1.00 to +1.00); per dataset, median ds0 "
            "+1.00, ds1 +1.00, ds2 +1.00, ds3 -1.00.") in large
    assert "Agreement with" not in a[:a.index("rule `a-truth-large`")]  # the medium truth is not compared to itself
    summary = (first / "summary.md").read_text()
    for rule in ("a-truth-large", "b-truth-large", "a-truth-full", "b-truth-full", "d-nce-truth-full",
                 "d-leep-truth-full"):
        assert f"| `{rule}` |" in summary, rule
    assert "rule `d-leep-truth-full`" in (first / "claim-d.md").read_text()
    assert re.search(r"\*\*Not the registered verdict\.\*\* With hiv in \(hiv: added 2026-12-07 23:11 UTC.*\): "
                     r"[a-z]+ \([-+]\d\.\d\d \[.*\] \(5 datasets, 12 tasks, 10,000 resamples\)\); its tasks kept by "
                     r"the same exclusion rule: ogbg-molhiv\.", section)
    summary = (first / "summary.md").read_text()
    assert "| (d) NCE only through H(Y), old rule | `d-old` | **reproduced, but the rule is broken** |" in summary
    assert re.search(r"\*\*broken: [a-z_, ]*neg_label_entropy pass\(es\)\*\*", summary)


def test_a_spec_changed_after_registration_is_said_in_bold(written, tmp_path):
    _, reports, runs, (first, _) = written
    pages = _pages_folder(tmp_path / "pages")
    spec = pages / "specs" / "b-probe.yaml"
    spec.write_text(spec.read_text().replace("margin: -0.1", "margin: -0.2"))
    write_pages(reports, pages, runs=runs)
    text = (pages / "claim-b.md").read_text()
    assert "**The spec of claim (b-probe) changed after it was registered" in text
    assert "**The spec of claim (b-probe) changed" not in (first / "claim-b.md").read_text()


def test_the_new_truths_decide_with_their_exclusion_rule_reliability_and_a_row_each(written):
    _, _, _, (first, _) = written
    a, d = (first / "claim-a.md").read_text(), (first / "claim-d.md").read_text()
    assert "**On the multi-task fine-tuning truth with 3 seeds (rule `a-truth`): reproduced.**" in a
    # the task with 2 test positives is left out, and counted, by the rule fixed in the spec
    assert "Exclusion (fixed in the spec): excluded 1 of 12 groups: 1 with fewer than 5 test positives (ds0:0:" in a
    assert "(4 datasets, 11 tasks, 10,000 resamples)" in a
    assert "**Reliability** (split-half agreement of the encoders' ranking across seeds" in a
    # NCE is -H(Y): nothing beyond H(Y), reproduced; seed 0 judged against seeds 1-2 carries the skill: it fails
    assert "**On the new target truth (rules `d-nce-truth`, `d-leep-truth`): NCE reproduced;" in d
    section = d.split("rule `d-nce-truth`")[1]
    assert "- placebo other_seed_truth in the metric's place: contradicted" in section
    summary = (first / "summary.md").read_text()
    for row in ("| (a) H_alpha beats H-score, fine-tuning truth, 3 seeds | `a-truth` | **reproduced** |",
                "| (d) NCE, corrected, disjoint heads, balanced truth | `d-nce-truth` | **reproduced** |"):
        assert row in summary


def test_a_truth_section_is_appended_to_its_page_and_its_headline_goes_under_the_verdict():
    page = "# Claim\n\n**Verdict: x.**\n\nbody\n\nWhat was run:\n- run\n"
    assert with_section(page, ["## New", "", "text"], "**New: y.**") == (
        "# Claim\n\n**Verdict: x.**\n\n**New: y.**\n\nbody\n\nWhat was run:\n- run\n\n## New\n\ntext\n")


# -- the image claims (--vision-runs) -------------------------------------------------------------------------------
VISION_SIZES = {"50": 50, "100": 100, "300": 300, "600": 600, "all": None}


def _vision_reports(root: Path, rng) -> None:
    """Synthetic vision medium reports: 9 targets of 3 image datasets, 8 encoders (d = 32, 64, 512), 3 seeds; encoder
    quality drawn anew per dataset (so a leave-one-dataset-out prior knows nothing), H_alpha and LogME follow the
    truth (LogME with noise), H-score is noise; one target's seeds disagree. Target selection: 3 families where NCE
    is -H(Y)."""
    datasets = {"cifar10-test": "cifar10-test:k={}", "mnist-test": "mnist-test:k={}", "digits": "digits:k={}"}
    encoders = [f"enc{i}" for i in range(8)]
    dims = dict(zip(encoders, [32, 64, 512, 32, 64, 512, 64, 32]))
    rows_by_size = {s: [] for s in VISION_SIZES}
    trials = []
    for dataset, pattern in datasets.items():
        quality = {e: rng.normal() for e in encoders}
        for t in range(3):
            target = pattern.format(t + 2)
            noisy = dataset == "digits" and t == 2  # seeds that do not agree: excluded
            train = 900 if t == 0 else 300
            for e in encoders:
                seeds = [(rng.normal() if noisy else 0.6 + 0.05 * quality[e]) + rng.normal(0, 0.005) for _ in range(3)]
                truth = float(np.mean(seeds))
                trials += [{"encoder": e, "target": target, "seed": s, "test_accuracy": v} for s, v in enumerate(seeds)]
                for size, n in VISION_SIZES.items():
                    cut = min(n or train, train)
                    rows_by_size[size].append({
                        "target": target, "encoder": e, "shrinkage_h_score": truth,
                        "h_score": rng.normal(), "logme": truth + rng.normal(0, 0.02), "gbc": rng.normal(),
                        "transrate": rng.normal(), "knn_accuracy": rng.normal(), "n": float(cut), "d": float(dims[e]),
                        "test_accuracy": truth, "relative_accuracy": truth - 0.1})
    for size, rows in rows_by_size.items():
        folder = root / f"vision-source-selection-medium-n{size}"
        folder.mkdir(parents=True)
        pd.DataFrame(rows).to_csv(folder / "scores_and_truth.csv", index=False)
    pd.DataFrame(trials).to_csv(root / "vision-source-selection-medium-nall" / "trials_vision_finetune.csv",
                                index=False)
    folder = root / "vision-target-selection-medium"
    folder.mkdir()
    rows, trials = [], []
    for family in ("fam-a", "fam-b", "fam-c"):
        for i in range(12):
            entropy, skill = rng.uniform(0.2, 1.6), rng.normal()
            seeds = [0.9 - entropy / 4 + 0.05 * skill + rng.normal(0, 0.01) for _ in range(3)]
            target = f"cifar10-test:k={i},seed={family}"
            rows.append({"encoder": family, "target": target, "label_entropy": entropy,
                         "test_accuracy": np.mean(seeds), "relative_accuracy": skill, "nce": -entropy,
                         "leep": -entropy + rng.normal(0, 0.01), "nce_normalized": rng.normal(),
                         "leep_normalized": rng.normal(), "shrinkage_h_score": skill, "logme": rng.normal()})
            trials += [{"encoder": family, "target": target, "seed": s, "test_accuracy": v}
                       for s, v in enumerate(seeds)]
    pd.DataFrame(rows).to_csv(folder / "scores_and_truth.csv", index=False)
    pd.DataFrame(trials).to_csv(folder / "trials_vision_finetune.csv", index=False)


def _vision_inputs(base: Path) -> Path:
    """Synthetic vision reports and their runs file, whose store (one trial, written now) started after the image
    specs were registered."""
    from gtransfer.studies.store import TrialStore

    _vision_reports(base / "vision", np.random.default_rng(1))
    with TrialStore(base / "vision" / "results.db") as store:
        store.record("k", "vision_score", {"encoder": "enc0"}, result={"h_score": 1.0}, duration_s=2.0)
    vision_runs = base / "runs-vision.yaml"
    vision_runs.write_text(f"vision-medium: {{command: run-it, hardware: a CPU, date: '2026-12-07', wall_minutes: 9, "
                           f"reports: '{base / 'vision'}', store: '{base / 'vision' / 'results.db'}'}}\n")
    return vision_runs


def test_the_image_pages_state_registration_reliability_units_placebos_stability_and_verdict(written):
    _, _, _, (_, pages) = written
    a, b, d = ((pages / f"claim-{c}-vision.md").read_text() for c in "abd")
    for page, claims in ((a, ("a-vision", "a'-vision")), (b, ("b-vision",)), (d, ("d-old-vision", "d-nce-vision"))):
        assert page.count("Rule pre-registered: spec digest `") == len(claims) + (claims[0] == "d-old-vision")
        assert "**The spec of claim" not in page and "**Provisional.**" not in page
        for claim in claims:
            spec = load_claim_spec(pages / "specs" / (claim.replace("'", "-prime") + ".yaml"))
            assert f"digest `{spec.registration['digest']}`" in page
        assert "- `run-it` on a CPU, 2026-12-07: 9 minutes of wall time." in page
    # the digits target whose seeds disagree is excluded; 8 targets of 3 datasets remain
    assert "excluded 1 of 9 groups: 1 with seed agreement below 0.2 (digits:k=4" in a
    assert "**Reliability** (split-half over the 3 seeds" in a and "digits:k=4 " in a
    assert "Verdict: **reproduced** (shrinkage_h_score - h_score, mean spearman with " \
           "vision-source-selection-medium-nall/test_accuracy: " in a
    assert "(3 datasets, 8 tasks, 10,000 resamples)" in a
    assert "Every placebo fails the rule (random, lodo_mean_truth)" in a
    # (a'): the two cells above d = 512 of the three 900-image targets
    assert "Cells with n above the pool's largest d (512): 6 on 3 targets" in a
    assert "Stability: " in a and "truth-seed 3/3" in a
    assert "Verdict: **reproduced** (shrinkage_h_score - logme" in b and "Every placebo fails the rule" in b
    # NCE is -H(Y): nothing beyond H(Y), reproduced; the control (seed 0 against seeds 1-2) carries skill and fails
    assert "(NCE: reproduced;" in d and "- placebo other_seed_truth in the metric's place: contradicted" in d
    assert "(3 datasets, 3 tasks, 10,000 resamples)" in d
    summary = (pages / "summary.md").read_text()
    assert "| (a) H_alpha beats H-score, images | `a-vision` | **reproduced** | 3 datasets, 8 tasks, 10,000 " \
           "resamples | split-half per target, 3 seeds: " in summary
