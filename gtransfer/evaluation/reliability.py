r"""How reliable is a truth, and which groups does a rule fixed before the run leave out?

A truth measured with seeds (fine-tuning a candidate with seeds 0, 1, 2) ranks the candidates with noise.
Its **split-half reliability** is the Spearman correlation between the candidates' mean truth over one half
of the seeds and over the other, averaged over splits; the **Spearman-Brown** formula steps it up to the
reliability of the mean over all seeds,

.. math:: \rho_{\text{all}} = \frac{k\, r_{\text{half}}}{1 + (k - 1)\, r_{\text{half}}}, \qquad k = 2,

and by **attenuation** (Spearman 1904) no metric can correlate with the truth better than

.. math:: r_{\max} = \sqrt{\rho_{\text{truth}}\; \rho_{\text{metric}}},

with :math:`\rho_{\text{metric}} = 1` for a deterministic score. A metric's observed correlation
divided by :math:`r_{\max}` is its disattenuated correlation.

:class:`ExclusionRule` is a rule written before the run (minimum test positives, minimum seed agreement);
:func:`exclude_groups` applies it and returns what it left out and why, counted.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = [
    "SplitHalf",
    "split_half_reliability",
    "reliability_per_group",
    "spearman_brown",
    "correlation_ceiling",
    "ExclusionRule",
    "Exclusion",
    "exclude_groups",
]


@dataclass(frozen=True)
class SplitHalf:
    """Split-half agreement of a truth: ``r_half`` (mean Spearman of the halves' means over ``splits`` splits),
    ``reliability`` (Spearman-Brown of it: the reliability of the all-seed mean) and ``ceiling``
    (sqrt(reliability), the most a deterministic metric can correlate with the truth)."""

    r_half: float
    reliability: float
    ceiling: float
    seeds: int
    splits: int


def spearman_brown(r: float, *, k: float = 2.0) -> float:
    """Reliability of a mean of ``k`` parallel measurements whose pairwise reliability is ``r``: k r / (1 + (k - 1) r).

    Examples:
        >>> round(spearman_brown(0.5), 4)
        0.6667
    """
    if not -1.0 <= r <= 1.0:
        raise ValueError(f"spearman_brown: r must be in [-1, 1], got {r}")
    denominator = 1.0 + (k - 1.0) * r
    return float("nan") if denominator == 0 else float(k * r / denominator)


def correlation_ceiling(truth_reliability: float, *, metric_reliability: float = 1.0) -> float:
    """The attenuation bound sqrt(truth_reliability * metric_reliability); 0 for a reliability <= 0."""
    product = truth_reliability * metric_reliability
    return float(math.sqrt(product)) if product > 0 else 0.0


def split_half_reliability(truth: npt.ArrayLike, *, max_splits: int = 200, seed: int = 0) -> SplitHalf:
    """Split-half reliability of a (candidates, seeds) truth: every split of the seeds into two halves (or
    ``max_splits`` random ones when there are more), Spearman of the two halves' mean truth per candidate,
    averaged; then Spearman-Brown (k = 2) and the attenuation ceiling. With an odd number of seeds the halves
    differ by one seed (k = 2 is then an approximation).

    Raises:
        ValueError: fewer than 2 seeds or 3 candidates, or non-finite truth.

    Examples:
        >>> truth = np.array([[0.9, 0.8], [0.7, 0.75], [0.5, 0.4], [0.3, 0.35]])
        >>> split_half_reliability(truth).r_half
        1.0
    """
    from scipy.stats import spearmanr

    t = np.asarray(truth, dtype=np.float64)
    if t.ndim != 2 or t.shape[1] < 2 or t.shape[0] < 3:
        raise ValueError(f"split_half_reliability: truth must be (candidates >= 3, seeds >= 2), got shape {t.shape}")
    if not np.isfinite(t).all():
        raise ValueError("split_half_reliability: truth must be finite (a seed missing for a candidate? drop it first)")
    n_seeds = t.shape[1]
    half = n_seeds // 2
    splits = [s for s in itertools.combinations(range(n_seeds), half) if n_seeds % 2 or 0 in s]
    if len(splits) > max_splits:
        rng = np.random.default_rng(seed)
        splits = [tuple(sorted(rng.choice(n_seeds, half, replace=False))) for _ in range(max_splits)]
    values = []
    for first in splits:
        second = [s for s in range(n_seeds) if s not in first]
        a, b = t[:, list(first)].mean(1), t[:, second].mean(1)
        values.append(0.0 if np.ptp(a) == 0 or np.ptp(b) == 0 else float(spearmanr(a, b).statistic))
    r_half = float(np.mean(values))
    reliability = spearman_brown(r_half)
    return SplitHalf(r_half, reliability, correlation_ceiling(reliability), n_seeds, len(splits))


def reliability_per_group(frame: pd.DataFrame, seed_columns: Sequence[str], *, group: str = "target",
                          max_splits: int = 200) -> pd.DataFrame:
    """:func:`split_half_reliability` of every group of a long table (one row per group and candidate, one truth
    column per seed): a table indexed by group with ``r_half``, ``reliability``, ``ceiling``, ``seeds``, ``splits``.
    A group with a missing seed value or fewer than 3 candidates gets NaN (and its ``seeds`` count), never an error:
    the exclusion rule decides what to do with it."""
    import pandas as pd

    missing = [c for c in [group, *seed_columns] if c not in frame.columns]
    if missing:
        raise ValueError(f"reliability_per_group: columns {missing} are not in the table; it has {list(frame.columns)}")
    if len(seed_columns) < 2:
        raise ValueError(f"reliability_per_group: give 2 or more seed columns, got {list(seed_columns)}")
    rows = {}
    for name, part in frame.groupby(group, sort=True):
        truth = part[list(seed_columns)].to_numpy(np.float64)
        if len(truth) < 3 or not np.isfinite(truth).all():
            rows[name] = {
                "r_half": np.nan,
                "reliability": np.nan,
                "ceiling": np.nan,
                "seeds": len(seed_columns),
                "splits": 0,
            }
            continue
        result = split_half_reliability(truth, max_splits=max_splits)
        rows[name] = {"r_half": result.r_half, "reliability": result.reliability, "ceiling": result.ceiling,
                      "seeds": result.seeds, "splits": result.splits}
    return pd.DataFrame.from_dict(rows, orient="index")


@dataclass(frozen=True)
class ExclusionRule:
    """A rule, fixed before the run, for leaving a group (a target) out because its truth cannot rank:
    fewer than ``min_test_positives`` positives in its test split, or a seed agreement (split-half ``r_half``)
    below ``min_seed_agreement``. A rule on seed agreement excludes a group whose agreement is unknown (one
    seed) unless ``unknown_agreement="keep"``. ``None`` switches a criterion off."""

    min_test_positives: int | None = None
    min_seed_agreement: float | None = None
    unknown_agreement: str = "exclude"

    def __post_init__(self) -> None:
        if self.unknown_agreement not in ("exclude", "keep"):
            raise ValueError(
                f"ExclusionRule: unknown_agreement must be 'exclude' or 'keep', got {self.unknown_agreement!r}"
            )

    def as_dict(self) -> dict[str, Any]:
        """The rule as plain values (a claim spec's ``exclusion`` entry)."""
        return {"min_test_positives": self.min_test_positives, "min_seed_agreement": self.min_seed_agreement,
                "unknown_agreement": self.unknown_agreement}

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any] | None) -> ExclusionRule:
        """The rule of a claim spec's ``exclusion`` entry; unknown keys are an error naming the known ones."""
        entry = dict(entry or {})
        known = {"min_test_positives", "min_seed_agreement", "unknown_agreement"}
        unknown = set(entry) - known
        if unknown:
            raise ValueError(f"exclusion rule: unknown keys {sorted(unknown)}; known: {sorted(known)}")
        return cls(**entry)

    def reasons(self, *, test_positives: float | None = None, seed_agreement: float | None = None) -> list[str]:
        """Why a group with these properties is excluded (empty: kept)."""
        found = []
        if self.min_test_positives is not None:
            if test_positives is None or not np.isfinite(test_positives):
                found.append("test positives unknown")
            elif test_positives < self.min_test_positives:
                found.append(f"fewer than {self.min_test_positives} test positives")
        if self.min_seed_agreement is not None:
            if seed_agreement is None or not np.isfinite(seed_agreement):
                if self.unknown_agreement == "exclude":
                    found.append("seed agreement unknown (fewer than 2 seeds)")
            elif seed_agreement < self.min_seed_agreement:
                found.append(f"seed agreement below {self.min_seed_agreement:g}")
        return found


@dataclass(frozen=True)
class Exclusion:
    """What a rule kept and left out: ``excluded`` maps a group to its reasons; ``counts`` a reason to its groups."""

    kept: tuple[str, ...]
    excluded: dict[str, tuple[str, ...]]
    counts: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """``excluded 3 of 44 groups: 2 with fewer than 5 test positives, 1 with seed agreement below 0.3``."""
        total = len(self.kept) + len(self.excluded)
        if not self.excluded:
            return f"excluded 0 of {total} groups"
        parts = ", ".join(
            f"{n} with {reason}" for reason, n in sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return f"excluded {len(self.excluded)} of {total} groups: {parts}"


def exclude_groups(groups: Mapping[str, Mapping[str, float | None]], rule: ExclusionRule) -> Exclusion:
    """Apply ``rule`` to each group's properties (``{"test_positives": 3, "seed_agreement": 0.2}``).

    Examples:
        >>> rule = ExclusionRule(min_test_positives=5)
        >>> exclude_groups({"tox21:0": {"test_positives": 2}, "bbbp": {"test_positives": 40}}, rule).summary()
        'excluded 1 of 2 groups: 1 with fewer than 5 test positives'
    """
    kept: list[str] = []
    excluded: dict[str, tuple[str, ...]] = {}
    counts: dict[str, int] = {}
    for name, properties in groups.items():
        unknown = set(properties) - {"test_positives", "seed_agreement"}
        if unknown:
            raise ValueError(f"exclude_groups: group {name!r} has unknown properties {sorted(unknown)}; "
                             "give test_positives and/or seed_agreement")
        reasons = rule.reasons(**properties)
        if reasons:
            excluded[str(name)] = tuple(reasons)
            for reason in reasons:
                counts[reason] = counts.get(reason, 0) + 1
        else:
            kept.append(str(name))
    return Exclusion(tuple(kept), excluded, counts)
