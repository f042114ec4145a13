"""The paper's claims decided on the evaluation layer from the committed reports, one page per claim
(``experiments/claims.py`` is the command-line front end of :func:`.pages.write_pages`).

- :mod:`.statistics`: the claim statistics beyond :mod:`gtransfer.evaluation` (re-exported here; the report's
  averages use :func:`mean_interval`);
- :mod:`.common`: what every page shows (a rule with its digest and registration check, its placebos, the task
  unit, the verdict's stability, what was run) and the reports' tables; :mod:`.measures`: the measure table;
- :mod:`.source_rules`: the source rules (a), (a'), (b) and claim (a)'s page, alike on graphs and images;
- :mod:`.source`, :mod:`.timing`, :mod:`.target`: the graph pages of (a) and (b), (c), (d) (and the (d) rules the
  image page shares); :mod:`.truths`: the sections of the truths of issue 25; :mod:`.vision`: the image pages;
- :mod:`.summary`: the claims table of docs/results.md; :mod:`.pages`: :func:`~.pages.write_pages`, all of them.

The package imports only the statistics: the pages' modules (the image pages read the vision design, which
imports torch) load when asked for.
"""

from __future__ import annotations

from gtransfer.studies.claims import statistics
from gtransfer.studies.claims.statistics import *  # noqa: F403 -- exactly statistics.__all__, re-exported

__all__ = list(statistics.__all__)
