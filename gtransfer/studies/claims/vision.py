"""Claims (a), (a'), (b) and (d) on images, from the vision medium preset's reports: the graph rules' code
(:mod:`.source_rules`, :mod:`.target`) run on the image specs ``specs/*-vision.yaml``, registered before the preset's
first trial, which is read from its committed store; the pages ``claim-a-vision.md``, ``claim-b-vision.md`` and
``claim-d-vision.md``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from gtransfer.evaluation import dataset_of, exclude_groups, load_claim_spec, perturbed_setups, reliability_per_group
from gtransfer.studies.claims.common import (
    PAPER,
    exclusion_line,
    paragraphs,
    read_report,
    rule_section,
    run_lines,
    said,
    source_report,
)
from gtransfer.studies.claims.source_rules import Wording, claim_a_page, decide_a_prime, decide_source_rule
from gtransfer.studies.claims.target import decide_target_rules, target_page_body
from gtransfer.studies.designs.vision_medium import SOURCE_FINETUNE, STRATA, TARGET_FINETUNE

#: the vision source-selection studies' score sizes, as the report folders name them
VISION_SIZES = ("50", "100", "300", "600", "all")
VISION_SEEDS = ("accuracy_seed0", "accuracy_seed1", "accuracy_seed2")
IMAGES = Wording(samples="images",
                 task_unit_label="the same rule with the targets resampled as one pool (the task unit)",
                 tie_cause="", contrast="as on graphs; it mixes in H-score's degeneracy at n <= d",
                 plot="sizes-vision.png")


def store_first_trial(path: Path) -> str:
    """The time the store's first trial started (its finish less its duration), as an ISO time in UTC."""
    from datetime import datetime, timezone

    from gtransfer.studies.store import TrialStore

    with TrialStore(path, create=False, read_only=True) as store:
        starts = [r.finished_at - (r.duration_s or 0.0) for r in store.records()]
    if not starts:
        raise SystemExit(f"{path} holds no trial: run experiments/vision_medium.py first")
    return datetime.fromtimestamp(min(starts), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed_columns(reports: Path, study: str, keys: list[str]) -> pd.DataFrame:
    """The fine-tuning truth per seed (``accuracy_seed<k>``), one row per ``keys`` (group and candidate)."""
    trials = pd.read_csv(reports / study / "trials_vision_finetune.csv")
    seeds = trials.pivot_table(index=keys, columns="seed", values="test_accuracy", aggfunc="mean")
    seeds.columns = [f"accuracy_seed{int(c)}" for c in seeds.columns]
    return seeds.reset_index()


def _reliability_text(reliability: pd.DataFrame, what: str) -> str:
    rows = "; ".join(f"{g} {r.r_half:+.2f} (ceiling {r.ceiling:.2f})" for g, r in reliability.iterrows())
    return (f"**Reliability** (split-half over the 3 seeds, every split of the seeds into halves, Spearman over the "
            f"{what}, stepped up by Spearman-Brown; ceiling = its square root): {rows}; median split-half "
            f"{reliability['r_half'].median():+.2f}, median ceiling {reliability['ceiling'].median():.2f}.")


def _finetune_text(params: Mapping) -> str:
    return f"{params['epochs']} epochs, lr {params['lr']:g}, batch {params['batch_size']}"


def _source_pages(reports: Path, specs: Path, first: str | None, plots: Path,
                  what_ran: Sequence[str]) -> tuple[dict[str, str], dict]:
    """(a), (a') and (b) on images: their pages and their rows' (verdict, stability, reliability)."""
    truth = "test_accuracy"
    seeds = _seed_columns(reports, "vision-source-selection-medium-nall", ["target", "encoder"])
    frames, tied = {}, {}
    for size in VISION_SIZES:
        frame, tied[size] = source_report(reports, f"vision-source-selection-medium-n{size}")
        frames[size] = frame.merge(seeds, on=["target", "encoder"], how="left", validate="one_to_one")
    reliability = reliability_per_group(frames["all"], list(VISION_SEEDS), group="target")
    spec_a, spec_ap, spec_b = (load_claim_spec(specs / f"{n}-vision.yaml") for n in ("a", "a-prime", "b"))
    exclusion = exclude_groups({t: {"seed_agreement": float(r.r_half)} for t, r in reliability.iterrows()},
                               spec_a.exclusion_rule())
    assert spec_ap.exclusion == spec_b.exclusion == spec_a.exclusion, "the image source rules share one exclusion"
    frames = {s: f[f["target"].isin(exclusion.kept)].reset_index(drop=True) for s, f in frames.items()}
    whole = frames["all"]
    n_datasets, n_targets = whole["target"].map(dataset_of).nunique(), whole["target"].nunique()
    d_values = sorted(whole["d"].astype(int).unique())
    truth_text = (f"Truth: full fine-tuning ({_finetune_text(SOURCE_FINETUNE)}) of {whole['encoder'].nunique()} "
                  f"encoders (d = {', '.join(map(str, d_values))}) on the whole training part of each "
                  f"target, test accuracy, mean of seeds 0, 1, 2. Units: {n_targets} targets from {n_datasets} image "
                  "datasets (CIFAR-10 and MNIST test splits, scikit-learn's digits), the dataset resampled first. "
                  + _reliability_text(reliability, "encoders of a target"))
    context = [truth_text, exclusion_line(exclusion)]
    setups = perturbed_setups(whole, truth, leave_out=3, candidate_draws=20, truth_seeds=VISION_SEEDS,
                              score_samples={f"n = {s}": frames[s] for s in VISION_SIZES[:-1]})
    a = decide_source_rule(spec_a, whole, truth, setups)
    # (a'): cells with n above the pool's largest d, targets with 2 or more of them
    d_max = int(whole["d"].max())
    cells = pd.concat([frames[s].assign(size=s) for s in VISION_SIZES], ignore_index=True)
    cells = cells[cells["n"] > d_max].assign(d=float(d_max))
    cells["cell"] = cells["target"] + "|n=" + cells["size"]
    distinct_n = cells.groupby("target")["n"].nunique()
    cells = cells[cells["target"].isin(distinct_n[distinct_n >= 2].index)].copy()
    cells["dataset"] = cells["target"].map(dataset_of)
    a_prime = decide_a_prime(spec_ap, cells, truth, truth_seeds=VISION_SEEDS)
    cell_sizes = ", ".join(f"{t} (n = {', '.join(str(int(n)) for n in sorted(part['n'].unique()))})"
                           for t, part in cells.groupby("target"))
    page_a = claim_a_page(
        a, a_prime, frames, truth, sizes=VISION_SIZES, plots=plots, wording=IMAGES,
        intro=["# Claim (a) on images: H-score's weakness is covariance estimation (and (a'): most where n is small "
               "against d)",
               f"{PAPER}: shrinking H-score's covariance (H_alpha, Ledoit-Wolf) gains up to 80% absolute correlation "
               "over H-score, most where the number of samples n is small against the feature dimension d. Decided "
               "here on images, by the graph rules' code (claim-a.md) on the vision medium preset, with rules "
               "registered before its first trial."],
        first_trial_at=first, context=context, tied=tied,
        cells=f"Cells with n above the pool's largest d ({d_max}): {cells['cell'].nunique()} on "
              f"{cells['target'].nunique()} targets: {cell_sizes}.",
        what_ran=what_ran)
    b = decide_source_rule(spec_b, whole, truth, setups)
    page_b = [
        *paragraphs(["# Claim (b) on images: H_alpha is competitive with LogME in source selection",
                     f"{PAPER}: H_alpha's correlation with transfer performance is competitive with LogME's. "
                     "Decided here on images, by the graph rules' code (claim-b.md), against a fine-tuning truth with "
                     "seeds, with a rule registered before the preset's first trial.",
                     f"**Verdict: {said(b.verdict)}.**"]),
        *rule_section(b, first, context, task_unit_label=IMAGES.task_unit_label),
        "The measures of every metric are on [claim-a-vision.md](claim-a-vision.md) (the same truth and scores).", "",
        *what_ran,
    ]
    source_rel = (f"split-half per target, 3 seeds: {reliability['r_half'].min():+.2f} to "
                  f"{reliability['r_half'].max():+.2f} (median {reliability['r_half'].median():+.2f})")
    pages = {"claim-a-vision.md": page_a, "claim-b-vision.md": "\n".join(page_b) + "\n"}
    return pages, {name: (r.verdict, r.stability, source_rel) for name, r in (("a-vision", a), ("a'-vision", a_prime),
                                                                                 ("b-vision", b))}


def _target_page(reports: Path, specs: Path, first: str | None, what_ran: Sequence[str]) -> tuple[str, dict]:
    """(d) on images: its page and its rows' (verdict, stability, reliability)."""
    target = read_report(reports, "vision-target-selection-medium").rename(columns={"encoder": "family"})
    target = target.merge(_seed_columns(reports, "vision-target-selection-medium", ["encoder", "target"])
                          .rename(columns={"encoder": "family"}), on=["family", "target"], how="left",
                          validate="one_to_one")
    target["neg_label_entropy"] = -target["label_entropy"]
    family_dims = ("d = " + ", ".join(str(int(d)) for d in sorted(target["d"].unique()))) if "d" in target else \
        "d not reported"
    counts = target.groupby("family")["target"].nunique()
    per_family = str(counts.min()) if counts.min() == counts.max() else f"{counts.min()} to {counts.max()}"
    rules = decide_target_rules(target, specs, VISION_SEEDS, first, suffix="-vision")
    nce, leep = rules.corrected["nce"], rules.corrected["leep"]
    below = int((target["relative_accuracy"] < 0).sum())
    page = [
        "# Claim (d) on images: NCE and LEEP look good in target selection only through label count and imbalance",
        "",
        f"{PAPER}: in target selection, NCE and LEEP correlate with accuracy because the targets differ in their "
        "number of labels and their imbalance; corrected for both, they do not. Decided here on images, by the graph "
        "rules' code (claim-d.md), with rules registered before the preset's first trial.", "",
        f"**Verdict (corrected rule): {rules.overall}** (NCE: {nce.verdict.verdict}; LEEP: "
        f"{leep.verdict.verdict}).", "",
        f"Targets: {target['target'].nunique()} in {target['family'].nunique()} families, each an encoder "
        f"({family_dims}) with its source head (NCE and LEEP read it) ranking its own targets ({per_family} a "
        "family), in the design's strata: k = "
        f"{', '.join(map(str, STRATA['k']))} classes x imbalance ratio {', '.join(map(str, STRATA['ratio']))}, at most "
        f"{STRATA['max']} images a class. Targets come from test splits, the source models from training splits. A "
        "family is the ranking group and its own unit, so the bootstrap resamples the families: "
        f"{rules.old.interval.units()}. Truth: full fine-tuning ({_finetune_text(TARGET_FINETUNE)}), test accuracy, "
        f"mean of seeds 0, 1, 2; {below} of the targets fine-tune below their majority baseline. "
        + _reliability_text(rules.reliability, "family's targets"), "",
        *target_page_body(rules, first, task_unit_label=IMAGES.task_unit_label, note=[], what_ran=what_ran),
    ]
    target_rel = (f"split-half per family, 3 seeds: {rules.reliability['r_half'].min():+.2f} to "
                  f"{rules.reliability['r_half'].max():+.2f}")
    return "\n".join(page) + "\n", {"d-old-vision": (rules.old, None, target_rel),
                                    "d-nce-vision": (nce.verdict, nce.stability, target_rel),
                                    "d-leep-vision": (leep.verdict, leep.stability, target_rel)}


def vision_pages(reports: Path, specs: Path, run: Mapping, plots: Path) -> tuple[dict[str, str], dict]:
    """Claims (a), (a'), (b) and (d) on images, from the vision medium preset's reports in ``reports`` (one folder
    per study, ``trials_vision_finetune.csv`` holding the seeds): the graph rules' code, run on the image specs
    (``specs/*-vision.yaml``). ``run`` is the preset's entry of ``runs-vision.yaml`` (its ``store`` gives the first
    trial). Returns the pages and what the claims table needs."""
    store = Path(run["store"]) if run.get("store") else None
    first = store_first_trial(store) if store else run.get("first_trial_at")
    what_ran = ["What was run:", *run_lines({"vision-medium": run}, "vision-medium")]
    pages, summary = _source_pages(reports, specs, first, plots, what_ran)
    pages["claim-d-vision.md"], target_summary = _target_page(reports, specs, first, what_ran)
    return pages, {**summary, **target_summary}
