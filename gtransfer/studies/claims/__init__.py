"""The paper's claims decided on the evaluation layer from the committed reports (``experiments/claims.py`` is its
command-line front end).

- :mod:`.statistics`: the claim statistics beyond :mod:`gtransfer.evaluation` (re-exported here).
"""

from __future__ import annotations

from gtransfer.studies.claims.statistics import (
    TimingClaim,
    geometric_mean_interval,
    load_timing_claim,
    mean_interval,
    partial_spearman,
    per_group_slope,
    ties_as_constant,
)

__all__ = [
    "mean_interval",
    "geometric_mean_interval",
    "ties_as_constant",
    "partial_spearman",
    "per_group_slope",
    "TimingClaim",
    "load_timing_claim",
]
