"""The claim statistics behind the claims pages (:mod:`gtransfer.studies.claims`), on the evaluation layer
(:mod:`gtransfer.evaluation`).

One implementation of each idea: intervals are :class:`gtransfer.evaluation.Interval` from
:func:`~gtransfer.evaluation.hierarchical_bootstrap` (datasets, then tasks), verdicts come from
:func:`~gtransfer.evaluation.rule_verdict` / :func:`~gtransfer.evaluation.decide_claim`, measures from
:func:`~gtransfer.evaluation.per_group_measure`. What is here is what the claims need beyond them:

- :func:`ties_as_constant`: a metric numerically constant over a group's candidates (H-score saturating at C - 1
  when n <= d) ranks nothing; its rounding noise is set to one value so that its correlation counts as 0;
- :func:`partial_spearman`: Spearman's rho of two columns given a third (claim (d): NCE given H(Y));
- :func:`per_group_slope`: the within-group least-squares slope of a per-cell statistic against a covariate
  (claim (a'): H_alpha's gain over H-score against log(n/d));
- :class:`TimingClaim`: a pre-registered rule about a time ratio (claim (c)), digested and checked like a
  :class:`~gtransfer.evaluation.ClaimSpec` (its ``rule()`` feeds :func:`~gtransfer.evaluation.spec_digest`);
- :func:`geometric_mean_interval`: a speed-up's geometric mean, the hierarchical bootstrap of its logs;
- :func:`mean_interval`: the thin adapter the study reports' averages call (tasks resampled as one pool).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from gtransfer.evaluation import Interval, hierarchical_bootstrap, numerically_constant

if TYPE_CHECKING:
    import os

    import numpy.typing as npt

__all__ = [
    "mean_interval",
    "geometric_mean_interval",
    "ties_as_constant",
    "partial_spearman",
    "per_group_slope",
    "TimingClaim",
    "load_timing_claim",
]


def mean_interval(values: npt.ArrayLike, *, n_boot: int = 10_000, seed: int = 0, level: float = 0.95) -> Interval:
    """Mean of the finite ``values`` with its t-calibrated interval, resampling them as one pool of tasks
    (:func:`~gtransfer.evaluation.hierarchical_bootstrap` with ``unit="task"``). For a report's averages over
    groups; claims resample datasets first.

    Raises:
        ValueError: no finite value.

    Examples:
        >>> mean_interval([0.1, 0.2, float("nan"), 0.3], n_boot=500).format()
        '+0.20 [-0.04, +0.44] (3 tasks, 500 resamples)'
    """
    v = np.asarray(values, dtype=np.float64).ravel()
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise ValueError("mean_interval: no finite value to average")
    return hierarchical_bootstrap(v, unit="task", balance="task", n_boot=n_boot, seed=seed, level=level)


def geometric_mean_interval(ratios: npt.ArrayLike, *, datasets: Sequence[object] | None = None, unit: str = "task",
                            n_boot: int = 10_000, seed: int = 0) -> Interval:
    """Geometric mean of positive ``ratios`` (a speed-up) and its interval: the hierarchical bootstrap of the logs,
    exponentiated. ``ratios`` may be (units,) or (units, repeats) (NaN where a unit has fewer repeats).

    Examples:
        >>> round(geometric_mean_interval([2.0, 8.0], n_boot=200).estimate, 6)
        4.0
    """
    r = np.asarray(ratios, dtype=np.float64)
    finite = r[np.isfinite(r)]
    if finite.size == 0 or np.any(finite <= 0):
        raise ValueError(f"geometric_mean_interval: ratios must be positive and finite, got {finite[:5]}")
    logs = hierarchical_bootstrap(np.log(r), datasets=datasets, unit=unit, balance="task", n_boot=n_boot, seed=seed)
    return Interval(math.exp(logs.estimate), math.exp(logs.low), math.exp(logs.high), logs.counts, logs.resamples,
                    logs.level, logs.method)


def ties_as_constant(frame: pd.DataFrame, columns: Sequence[str], *,
                     group: str = "target") -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """A copy of ``frame`` where each column of ``columns`` that is numerically constant (to a relative 1e-5)
    within a group is set to 0 there, so that its correlation is undefined and counts as 0 (no ranking); and,
    per column, the groups where that happened (counted on the pages)."""
    out = frame.copy()
    tied: dict[str, list[str]] = {}
    for column in columns:
        tied[column] = []
        for name, part in out.groupby(group, sort=True):
            if numerically_constant(part[column].to_numpy(np.float64)):
                out.loc[part.index, column] = 0.0
                tied[column].append(str(name))
    return out, tied


def partial_spearman(x: npt.ArrayLike, y: npt.ArrayLike, z: npt.ArrayLike) -> float:
    r"""Spearman's rho of ``x`` and ``y`` given ``z``:

    .. math:: \rho_{xy\cdot z} = \frac{\rho_{xy} - \rho_{xz}\rho_{yz}}{\sqrt{(1 - \rho_{xz}^2)(1 - \rho_{yz}^2)}}

    with every rho Spearman's. 0 where it is undefined (``x`` or ``y`` a monotone function of ``z``, or constant):
    a ranking that carries nothing beyond ``z``.

    Examples:
        >>> round(partial_spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5], [1, 2, 3, 4, 5]), 6)
        0.0
    """
    from scipy.stats import spearmanr

    data = np.column_stack([np.asarray(a, dtype=np.float64) for a in (x, y, z)])
    if data.shape[0] < 3 or not np.isfinite(data).all():
        raise ValueError(f"partial_spearman: need 3 or more finite rows, got {data.shape[0]}")
    if (np.ptp(data, axis=0) == 0).any():
        return 0.0
    rho = spearmanr(data).statistic
    xy, xz, yz = rho[0, 1], rho[0, 2], rho[1, 2]
    denominator = (1.0 - xz * xz) * (1.0 - yz * yz)
    if denominator <= 1e-12:
        return 0.0
    return float((xy - xz * yz) / math.sqrt(denominator))


def per_group_slope(values: pd.Series, covariate: pd.Series, groups: pd.Series) -> pd.Series:
    """Per group, the least-squares slope of ``values`` against ``covariate`` over the group's cells (rows).
    Groups with fewer than 2 distinct covariate values are an error naming them (a slope needs two cells)."""
    table = pd.DataFrame({"v": values.to_numpy(np.float64), "x": covariate.to_numpy(np.float64),
                          "g": groups.astype(str).to_numpy()})
    slopes = {}
    for name, part in table.groupby("g", sort=True):
        x, v = part["x"].to_numpy(), part["v"].to_numpy()
        if np.ptp(x) == 0:
            raise ValueError(f"per_group_slope: group {name!r} has one covariate value ({x[0]:g}); a slope needs 2")
        slopes[name] = float(np.polyfit(x, v, 1)[0])
    return pd.Series(slopes, dtype=np.float64)


@dataclass(frozen=True)
class TimingClaim:
    """A pre-registered rule about a speed-up (claim (c)): the geometric mean of ``minus``'s time over
    ``metric``'s, its hierarchical-bootstrap interval over ``unit``, *reproduced* above ``margin`` (a ratio).
    ``placebos`` are ratios whose truth is 1 (the same metric timed twice); they must fail. Its digest and
    registration check are :func:`~gtransfer.evaluation.spec_digest` / :func:`~gtransfer.evaluation.check_registration`
    (which read ``claim``, ``registration`` and :meth:`rule`)."""

    claim: str
    statement: str
    truth: str
    metric: str
    minus: str
    margin: float
    placebos: tuple[str, ...]
    unit: str = "task"
    direction: str = "above"
    n_boot: int = 10_000
    seed: int = 0
    registration: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.margin <= 0:
            raise ValueError(f"timing claim {self.claim!r}: margin is a ratio and must be > 0, got {self.margin}")
        if not self.placebos:
            raise ValueError(f"timing claim {self.claim!r}: name at least one placebo ratio")
        if self.unit not in ("dataset", "task") or self.direction not in ("above", "below"):
            raise ValueError(f"timing claim {self.claim!r}: unit must be dataset/task and direction above/below")

    def rule(self) -> dict[str, Any]:
        """What the digest covers: every field but ``registration``."""
        values = asdict(self)
        values["placebos"] = list(self.placebos)
        del values["registration"]
        return values


def load_timing_claim(path: str | os.PathLike) -> TimingClaim:
    """A :class:`TimingClaim` from a YAML file; missing or unknown keys are an error naming them and the file."""
    import yaml

    entry = yaml.safe_load(Path(path).read_text())
    if not isinstance(entry, Mapping):
        raise ValueError(f"load_timing_claim: {path} does not hold a mapping")
    known = set(TimingClaim.__dataclass_fields__)
    required = {"claim", "statement", "truth", "metric", "minus", "margin", "placebos"}
    missing, unknown = sorted(required - set(entry)), sorted(set(entry) - known)
    if missing or unknown:
        raise ValueError(f"{path}: missing keys {missing}, unknown keys {unknown}; a timing claim has {sorted(known)}")
    values = dict(entry)
    values["placebos"] = tuple(str(p) for p in values["placebos"])
    values["margin"] = float(values["margin"])
    values["registration"] = {k: str(v) for k, v in dict(values.get("registration") or {}).items()}
    return TimingClaim(**values)
