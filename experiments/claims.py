"""Decide the paper's claims on the evaluation layer from the committed reports; write one page per claim.

Claims of Ibrahim, Ponomareva and Mazumder (ECML-PKDD 2022), decided on graphs:

(a)  H-score's weakness is covariance estimation: H_alpha ranks encoders better than H-score;
(a') ... most where n is small against d;
(b)  H_alpha is competitive with LogME in source selection;
(c)  H_alpha is 3-10x faster than LogME;
(d)  in target selection NCE and LEEP look good because targets differ in label count and imbalance.

Each rule is a committed spec (``<pages>/specs/*.yaml``: truth, measure, unit, margin, exclusion, placebos) whose
digest the page prints, checked against the store's first trial (``first_trial_at`` in ``--runs``). Every rule
runs on its placebos, intervals come from the hierarchical bootstrap (datasets, then tasks), every metric is shown
with Pearson, Spearman, Kendall, weighted Kendall and top-1 relative accuracy and its gain over the best
target-agnostic baseline, and every verdict with its stability (gtransfer.evaluation, docs/evaluation.md).
The logic is the package :mod:`gtransfer.studies.claims` (a module per claim: ``source``, ``timing``, ``target``,
``truths``, ``vision``, ``summary``); this script parses the options and calls its ``pages.write_pages``.

    python experiments/claims.py --reports docs/results --runs docs/results/claims/runs.yaml --pages docs/results/claims

The same claims on images ((a), (a'), (b), (d); (c) is timing, not image-specific) come from the vision medium
preset's reports (``experiments/vision_medium.py``), listed apart from the graph inputs in ``--vision-runs``
(``docs/results/claims/runs-vision.yaml``), decided by the same functions with the specs ``specs/*-vision.yaml``
(registered before the preset's first trial, which is read from its committed store) and written as
``claim-a-vision.md``, ``claim-b-vision.md``, ``claim-d-vision.md`` and their rows after the graph rows of the table:

    python experiments/claims.py --runs docs/results/claims/runs.yaml \
        --vision-runs docs/results/claims/runs-vision.yaml --summary FILE
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gtransfer.studies.claims.pages import write_pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=Path, default=Path("docs/results"),
                        help="folder holding the medium reports, one folder per study (default docs/results)")
    parser.add_argument("--runs", type=Path, help="YAML: study -> {command, hardware, date, wall_minutes, notes, "
                                                  "first_trial_at}")
    parser.add_argument("--pages", type=Path, default=Path("docs/results/claims"),
                        help="where the pages go; it holds specs/ and logme-timing.csv")
    parser.add_argument("--summary", type=Path, help="also write the claims table of docs/results.md here")
    parser.add_argument("--vision-runs", type=Path,
                        help="YAML of the image claims' inputs, kept apart from --runs: vision-medium -> {command, "
                             "hardware, date, wall_minutes, notes, reports (the folder of the vision medium reports), "
                             "store (whose first trial the registrations are checked against)}; with it, the image "
                             "pages (claim-*-vision.md) and their rows of the table are written too")
    args = parser.parse_args()
    pages, table = write_pages(args.reports, args.pages, runs=args.runs, vision_runs=args.vision_runs,
                               summary=args.summary)
    for name, text in pages.items():
        print(f"{args.pages / name}: {next(line for line in text.splitlines() if line.startswith('**Verdict'))}")
    print(table)


if __name__ == "__main__":
    main()
