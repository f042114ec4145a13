r"""Stability of an evaluation's conclusions under perturbed setups (Agostinelli, Uijlings, Mensink, Ferrari,
"How stable are transferability metrics evaluations?", ECCV 2022).

A verdict ("H_alpha beats H-score") and an ordering of the metrics are recomputed on setups that a
reasonable experimenter could equally have chosen: the candidate pool without k candidates
(leave-k-candidates-out), the groups without one dataset (leave-one-dataset-out), another seed of the truth,
scores from another sample size. :func:`verdict_stability` reports

- the **verdict stability**: the share of perturbed setups whose verdict equals the unperturbed one;
- **Kendall's W** of the metric orderings over the setups (with the unperturbed one): for m orderings of k
  metrics with rank sums :math:`R_j`, :math:`W = 12 S / (m^2 (k^3 - k) - m \sum T)`,
  :math:`S = \sum_j (R_j - \bar R)^2`, :math:`T = \sum (t^3 - t)` over each ordering's ties; 1 when every setup
  orders the metrics alike, 0 when they share nothing;
- the **mean pairwise Kendall tau** of the orderings (each setup's against every other's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from gtransfer.evaluation.baselines import dataset_of

if TYPE_CHECKING:
    import numpy.typing as npt
    import pandas as pd

__all__ = ["Setup", "Decision", "Stability", "perturbed_setups", "verdict_stability", "kendalls_w", "mean_pairwise_tau"]


@dataclass(frozen=True)
class Setup:
    """One evaluation setup: its ``name``, the ``kind`` of perturbation (``base``, ``leave-k-candidates-out``,
    ``leave-one-dataset-out``, ``truth-seed``, ``score-sample``), the long table and the truth column to judge on."""

    name: str
    kind: str
    frame: pd.DataFrame
    truth: str


@dataclass(frozen=True)
class Decision:
    """What an evaluation concludes on one setup: a verdict and each metric's value (which orders the metrics)."""

    verdict: str
    values: Mapping[str, float]


@dataclass(frozen=True)
class Stability:
    """Verdict and ordering stability over ``setups`` perturbed setups (see the module docstring)."""

    verdict: str
    same_verdict: int
    setups: int
    by_kind: dict[str, tuple[int, int]]
    kendalls_w: float
    mean_pairwise_tau: float
    verdicts: dict[str, str] = field(default_factory=dict)

    @property
    def share(self) -> float:
        """The share of perturbed setups that give the unperturbed verdict."""
        return self.same_verdict / self.setups if self.setups else float("nan")

    def __str__(self) -> str:
        kinds = "; ".join(f"{kind} {same}/{n}" for kind, (same, n) in self.by_kind.items())
        return (
            f"'{self.verdict}' in {self.same_verdict} of {self.setups} perturbed setups ({self.share:.0%}: {kinds}); "
            f"metric orderings: Kendall's W {self.kendalls_w:.2f}, mean pairwise tau {self.mean_pairwise_tau:+.2f}"
        )


def kendalls_w(values: npt.ArrayLike) -> float:
    """Kendall's coefficient of concordance W of m orderings (rows) of k items (columns), ties corrected.

    ``values`` are scores (higher = ranked first) or ranks; each row is ranked on its own. W relates to the mean
    pairwise Spearman rho of the rows by rho_bar = (m W - 1) / (m - 1) (without ties).

    Examples:
        >>> kendalls_w([[1, 2, 3], [1, 2, 3]])
        1.0
    """
    from scipy.stats import rankdata

    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] < 2 or v.shape[1] < 2:
        raise ValueError(f"kendalls_w: need (orderings >= 2, items >= 2) values, got shape {v.shape}")
    if not np.isfinite(v).all():
        raise ValueError("kendalls_w: values must be finite")
    m, k = v.shape
    ranks = rankdata(v, axis=1)
    sums = ranks.sum(axis=0)
    s = float(((sums - sums.mean()) ** 2).sum())
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts ** 3 - counts).sum())
    denominator = m * m * (k ** 3 - k) - m * ties
    return float("nan") if denominator == 0 else 12.0 * s / denominator


def mean_pairwise_tau(values: npt.ArrayLike) -> float:
    """Mean Kendall tau-b over every pair of rows (orderings) of ``values``; pairs with a constant row count as 0."""
    from scipy.stats import kendalltau

    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 2 or v.shape[0] < 2:
        raise ValueError(f"mean_pairwise_tau: need (orderings >= 2, items) values, got shape {v.shape}")
    taus = []
    for i in range(v.shape[0]):
        for j in range(i + 1, v.shape[0]):
            tau = kendalltau(v[i], v[j]).statistic if np.ptp(v[i]) and np.ptp(v[j]) else 0.0
            taus.append(float(tau))
    return float(np.mean(taus))


def perturbed_setups(frame: pd.DataFrame, truth: str, *, group: str = "target", candidate: str = "encoder",
                     dataset: str | None = None, leave_out: int = 1, candidate_draws: int = 20,
                     truth_seeds: Sequence[str] = (), score_samples: Mapping[str, pd.DataFrame] | None = None,
                     seed: int = 0) -> list[Setup]:
    """The unperturbed setup first, then the perturbed ones:

    - ``leave-k-candidates-out``: ``candidate_draws`` random pools without ``leave_out`` candidates (every one of
      them when there are at most ``candidate_draws`` such pools);
    - ``leave-one-dataset-out``: the groups of each dataset left out in turn (when there are 2 or more datasets);
    - ``truth-seed``: each column of ``truth_seeds`` (one seed's truth) in place of ``truth``;
    - ``score-sample``: each table of ``score_samples`` (the same groups scored from another sample size).
    """
    import itertools
    import math

    columns = [truth, group, candidate, *truth_seeds] + ([dataset] if dataset else [])
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"perturbed_setups: columns {missing} are not in the table; it has {list(frame.columns)}")
    setups = [Setup("base", "base", frame, truth)]
    candidates = sorted(map(str, frame[candidate].unique()))
    if not 0 < leave_out < len(candidates) - 1:
        raise ValueError(
            f"perturbed_setups: leave_out must leave at least 2 of {len(candidates)} candidates, got {leave_out}"
        )
    # count the pools before listing them: C(138, 10) pools would not fit in memory
    if math.comb(len(candidates), leave_out) <= candidate_draws:
        pools = list(itertools.combinations(candidates, leave_out))
    else:
        rng = np.random.default_rng(seed)
        pools = [tuple(rng.choice(candidates, leave_out, replace=False)) for _ in range(candidate_draws)]
    for out in pools:
        kept = frame[~frame[candidate].astype(str).isin(out)]
        setups.append(Setup(f"without {', '.join(out)}", "leave-k-candidates-out", kept, truth))
    datasets = frame[dataset].astype(str) if dataset else frame[group].map(dataset_of)
    if datasets.nunique() >= 2:
        for name in sorted(datasets.unique()):
            setups.append(Setup(f"without {name}", "leave-one-dataset-out", frame[datasets != name], truth))
    for column in truth_seeds:
        setups.append(Setup(f"truth {column}", "truth-seed", frame, column))
    for name, table in (score_samples or {}).items():
        setups.append(Setup(f"scores {name}", "score-sample", table, truth))
    return setups


def verdict_stability(setups: Sequence[Setup], decide: Callable[[pd.DataFrame, str], Decision]) -> Stability:
    """Run ``decide(frame, truth)`` on every setup; compare each perturbed verdict with the base one (the first
    setup, kind ``base``), and the metric orderings of all setups (Kendall's W, mean pairwise tau)."""
    if not setups or setups[0].kind != "base":
        raise ValueError("stability: the first setup must be the unperturbed one (kind 'base'); use perturbed_setups")
    if len(setups) < 2:
        raise ValueError("stability: no perturbed setup to compare with")
    decisions = [(s, decide(s.frame, s.truth)) for s in setups]
    base = decisions[0][1]
    metrics = sorted(base.values)
    by_kind: dict[str, tuple[int, int]] = {}
    same = 0
    verdicts = {}
    for s, d in decisions[1:]:
        agrees = d.verdict == base.verdict
        same += agrees
        hits, n = by_kind.get(s.kind, (0, 0))
        by_kind[s.kind] = (hits + agrees, n + 1)
        verdicts[s.name] = d.verdict
    if len(metrics) >= 2:
        table = np.array([[d.values[m] for m in metrics] for _, d in decisions], dtype=np.float64)
        table = np.where(np.isfinite(table), table, -np.inf)  # an undefined value ranks last
        table = np.where(np.isinf(table), np.nanmin(np.where(np.isinf(table), np.nan, table)) - 1.0, table)
        w, tau = kendalls_w(table), mean_pairwise_tau(table)
    else:
        w, tau = float("nan"), float("nan")
    return Stability(base.verdict, same, len(decisions) - 1, by_kind, w, tau, verdicts)
