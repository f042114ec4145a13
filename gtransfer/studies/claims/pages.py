"""Every claims page and the claims table, written from the committed reports: the entry point of
``experiments/claims.py``."""

from __future__ import annotations

from pathlib import Path

import yaml

from gtransfer.studies.claims.source import source_pages
from gtransfer.studies.claims.summary import summary_table
from gtransfer.studies.claims.target import claim_d
from gtransfer.studies.claims.timing import claim_c
from gtransfer.studies.claims.truths import with_truth_sections
from gtransfer.studies.claims.vision import vision_pages


def write_pages(reports: Path, pages: Path, *, runs: Path | None = None, vision_runs: Path | None = None,
                summary: Path | None = None) -> tuple[dict[str, str], str]:
    """Decide the claims from the medium reports in ``reports`` (one folder per study) with the specs in
    ``pages / "specs"`` and write one page per claim into ``pages`` (the plots into ``pages / "plots"``).

    ``runs``: YAML, study -> {command, hardware, date, wall_minutes, notes, first_trial_at}, for the graph pages;
    ``vision_runs``: YAML whose ``vision-medium`` entry names the vision medium reports (``reports``) and the store
    whose first trial the image rules' registrations are checked against (``store``): with it, the image pages and
    their rows are written too; ``summary``: where the claims table of docs/results.md goes, if anywhere.
    Returns the pages written (file name -> text) and the table."""
    run_records = yaml.safe_load(runs.read_text()) if runs else {}
    specs, plots = pages / "specs", pages / "plots"
    plots.mkdir(parents=True, exist_ok=True)
    written, source = source_pages(reports, specs, run_records, plots)
    written["claim-c.md"], c = claim_c(reports, specs, pages, run_records)
    written["claim-d.md"], d = claim_d(reports, specs, run_records)
    written, truths = with_truth_sections(written, reports, specs, run_records)
    vision = None
    if vision_runs:
        run = yaml.safe_load(vision_runs.read_text())["vision-medium"]
        image_pages, vision = vision_pages(Path(run["reports"]), specs, run, plots)
        written.update(image_pages)
    for name, text in written.items():
        (pages / name).write_text(text)
    table = summary_table(source, c, d, truths=truths, vision=vision)
    if summary:
        summary.write_text(table)
    return written, table
