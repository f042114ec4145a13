"""Pre-registered claims: a committed spec per claim, its digest, a check that it was fixed before the data, and
a verdict rule that is run on the placebo rankers too.

A claim spec (YAML or JSON, one file per claim) names everything that decides the claim::

    claim: a
    statement: H_alpha ranks encoders better than H-score
    truth: test_roc_auc          # the truth column
    measure: spearman            # a measure of gtransfer.evaluation.MEASURES
    metric: shrinkage_h_score    # the ranker the claim is about
    minus: h_score               # optional: the claim is about metric - minus, per group
    unit: dataset                # what the bootstrap resamples: dataset (then tasks) or task
    balance: task                # how groups are weighted: each task once, or each dataset once
    margin: 0.0
    direction: above             # the claim: the statistic is above (or below) the margin
    exclusion: {min_test_positives: 5, min_seed_agreement: 0.2}
    placebos: [random, lodo_mean_truth, neg_label_entropy]
    n_boot: 10000
    seed: 0
    registration: {digest: <sha256>, at: "2026-12-07T16:30:00Z"}

The **digest** is the SHA-256 of the canonical JSON (:func:`gtransfer.io.canonical.canonical_json`) of every
field but ``registration``. ``registration`` records the digest and the time it was fixed; :func:`check_registration`
compares them with the spec as it is now and with the store's first trial: a spec edited since it was recorded, or
recorded after the first trial, is said so in bold.

The **verdict rule** (:func:`decide_claim`): per group the statistic (the metric's measure, minus ``minus``'s), its
mean with a :func:`~gtransfer.evaluation.bootstrap.hierarchical_bootstrap` interval; *reproduced* when the whole
interval is beyond the margin on the claim's side, *contradicted* when it is wholly on the other side,
*inconclusive* otherwise. The same rule runs with each placebo in the metric's place; a rule that a placebo passes
is **broken**: it cannot tell a ranker that knows nothing of the target from the metric.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gtransfer.evaluation.baselines import dataset_of
from gtransfer.evaluation.bootstrap import Interval, hierarchical_bootstrap
from gtransfer.evaluation.measures import MEASURES
from gtransfer.evaluation.reliability import ExclusionRule
from gtransfer.io.canonical import canonical_json

if TYPE_CHECKING:
    import os

    import pandas as pd

__all__ = [
    "ClaimSpec",
    "load_claim_spec",
    "spec_digest",
    "RegistrationCheck",
    "check_registration",
    "rule_verdict",
    "ClaimVerdict",
    "decide_claim",
]

_REQUIRED = ("claim", "truth", "measure", "metric", "margin", "placebos")


@dataclass(frozen=True)
class ClaimSpec:
    """One claim's pre-registered rule (see the module docstring for the fields)."""

    claim: str
    truth: str
    measure: str
    metric: str
    margin: float
    placebos: tuple[str, ...]
    statement: str = ""
    minus: str | None = None
    unit: str = "dataset"
    balance: str = "task"
    direction: str = "above"
    exclusion: dict[str, Any] = field(default_factory=dict)
    n_boot: int = 10_000
    seed: int = 0
    registration: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        where = f"claim spec {self.claim!r}"
        if self.measure not in MEASURES:
            raise ValueError(f"{where}: measure {self.measure!r} is not one of {sorted(MEASURES)}")
        if self.unit not in ("dataset", "task") or self.balance not in ("dataset", "task"):
            raise ValueError(
                f"{where}: unit and balance must be 'dataset' or 'task', got {self.unit!r}, {self.balance!r}"
            )
        if self.direction not in ("above", "below"):
            raise ValueError(f"{where}: direction must be 'above' or 'below', got {self.direction!r}")
        if not self.placebos:
            raise ValueError(f"{where}: name at least one placebo ranker (random, lodo_mean_truth, ...); "
                             "a rule no placebo was run through is not a rule")
        if self.metric in self.placebos or (self.minus and self.minus in self.placebos):
            raise ValueError(f"{where}: the metric and minus cannot be placebos")
        unknown = set(self.registration) - {"digest", "at"}
        if unknown:
            raise ValueError(f"{where}: registration has unknown keys {sorted(unknown)}; it holds digest and at")
        ExclusionRule.from_dict(self.exclusion)  # checks its keys

    @classmethod
    def from_dict(cls, entry: Mapping[str, Any], *, source: str = "claim spec") -> ClaimSpec:
        """A spec from plain values; missing or unknown keys are an error naming them and ``source``."""
        missing = [k for k in _REQUIRED if k not in entry]
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(entry) - known)
        if missing or unknown:
            raise ValueError(
                f"{source}: missing keys {missing}, unknown keys {unknown}; a claim spec has {sorted(known)}"
            )
        values = dict(entry)
        values["placebos"] = tuple(str(p) for p in values["placebos"])
        values["margin"] = float(values["margin"])
        values["exclusion"] = dict(values.get("exclusion") or {})
        values["registration"] = {k: str(v) for k, v in dict(values.get("registration") or {}).items()}
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Every field as plain values (placebos as a list)."""
        values = asdict(self)
        values["placebos"] = list(self.placebos)
        return values

    def rule(self) -> dict[str, Any]:
        """What the digest covers: every field but ``registration``."""
        values = self.as_dict()
        del values["registration"]
        return values

    def exclusion_rule(self) -> ExclusionRule:
        """The spec's exclusion rule."""
        return ExclusionRule.from_dict(self.exclusion)


def load_claim_spec(path: str | os.PathLike) -> ClaimSpec:
    """Read a claim spec from a ``.yaml``/``.yml`` or ``.json`` file."""
    path = Path(path)
    text = path.read_text()
    if path.suffix in (".yaml", ".yml"):
        import yaml

        entry = yaml.safe_load(text)
    elif path.suffix == ".json":
        entry = json.loads(text)
    else:
        raise ValueError(f"load_claim_spec: {path} is neither .yaml/.yml nor .json")
    if not isinstance(entry, Mapping):
        raise ValueError(f"load_claim_spec: {path} does not hold a mapping of the claim's fields")
    return ClaimSpec.from_dict(entry, source=str(path))


def spec_digest(spec: ClaimSpec) -> str:
    """SHA-256 (hex) of the canonical JSON of the spec's rule (every field but ``registration``)."""
    return hashlib.sha256(canonical_json(spec.rule()).encode("ascii")).hexdigest()


def _as_time(value: str | datetime | float, what: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)):
        moment = datetime.fromtimestamp(float(value), tz=timezone.utc)
    else:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as error:
            raise ValueError(f"{what}: {value!r} is not an ISO 8601 time (2026-12-07T16:30:00Z)") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class RegistrationCheck:
    """The spec's digest now, what was recorded, and the store's first trial; ``status`` is ``pre-registered``,
    ``unregistered``, ``edited since registration`` or ``registered after the first trial``."""

    claim: str
    digest: str
    recorded_digest: str | None
    recorded_at: datetime | None
    first_trial_at: datetime | None
    status: str

    @property
    def ok(self) -> bool:
        """True only for a spec recorded before the first trial and unchanged since."""
        return self.status == "pre-registered"

    def line(self) -> str:
        """One markdown line for a claims page; bold when the spec is not pre-registered."""
        short = self.digest[:12]
        first = self.first_trial_at.strftime("%Y-%m-%d %H:%M UTC") if self.first_trial_at else "unknown"
        at = self.recorded_at.strftime("%Y-%m-%d %H:%M UTC") if self.recorded_at else "never"
        if self.ok:
            return (
                f"Rule pre-registered: spec digest `{short}`, recorded {at}, before the store's first trial ({first})."
            )
        if self.status == "edited since registration":
            return (
                f"**The spec of claim ({self.claim}) changed after it was registered: its digest is now `{short}`, "
                f"the one recorded {at} was `{(self.recorded_digest or '')[:12]}`; the store's first trial was "
                f"{first}.**"
            )
        if self.status == "registered after the first trial":
            return (f"**The spec of claim ({self.claim}) was fixed after the store's first trial: digest `{short}` "
                    f"recorded {at}, first trial {first}. The rule was written with the data in hand.**")
        return (
            f"**The spec of claim ({self.claim}) was never registered (digest `{short}`); "
            f"the store's first trial was {first}.**"
        )


def check_registration(spec: ClaimSpec, first_trial_at: str | datetime | float | None) -> RegistrationCheck:
    """Compare the spec's digest now with the one it records and the time it records with the store's first trial.

    Examples:
        >>> spec = ClaimSpec("x", "acc", "spearman", "logme", 0.0, ("random",))
        >>> registered = ClaimSpec.from_dict({**spec.as_dict(), "registration": {"digest": spec_digest(spec),
        ...                                                                    "at": "2026-12-01T00:00:00Z"}})
        >>> check_registration(registered, "2026-12-02T00:00:00Z").ok
        True
    """
    digest = spec_digest(spec)
    recorded = spec.registration.get("digest")
    at = (
        _as_time(spec.registration["at"], f"claim spec {spec.claim!r} registration.at")
        if "at" in spec.registration
        else None
    )
    first = _as_time(first_trial_at, "first_trial_at") if first_trial_at is not None else None
    if not recorded or at is None:
        status = "unregistered"
    elif recorded != digest:
        status = "edited since registration"
    elif first is None or at > first:
        status = "registered after the first trial"
    else:
        status = "pre-registered"
    return RegistrationCheck(spec.claim, digest, recorded, at, first, status)


#: how close (absolute) an interval's bound may come to the margin and still touch it: a difference of two equal
#: correlations computed along different float paths is +-1e-17, and its sign must not decide a verdict
EDGE_TOLERANCE = 1e-12


def rule_verdict(interval: Interval, margin: float, *, direction: str = "above") -> str:
    """``reproduced`` (the whole interval beyond ``margin`` on the claim's side), ``contradicted`` (wholly on the
    other side) or ``inconclusive``. A bound within :data:`EDGE_TOLERANCE` of the margin touches it (inconclusive):
    with few resampling units a bound is often one unit's value, which can be a rounding error around 0."""
    if direction not in ("above", "below"):
        raise ValueError(f"rule_verdict: direction must be 'above' or 'below', got {direction!r}")
    low, high = (interval.low, interval.high) if direction == "above" else (-interval.high, -interval.low)
    edge = margin if direction == "above" else -margin
    if low > edge + EDGE_TOLERANCE:
        return "reproduced"
    if high < edge - EDGE_TOLERANCE:
        return "contradicted"
    return "inconclusive"


@dataclass(frozen=True)
class ClaimVerdict:
    """A claim decided by its spec: the verdict and interval, each placebo's, and whether the rule is broken."""

    spec: ClaimSpec
    verdict: str
    interval: Interval
    placebos: dict[str, tuple[str, Interval]]
    groups: int

    @property
    def broken_by(self) -> list[str]:
        """The placebos that pass the rule."""
        return [name for name, (verdict, _) in self.placebos.items() if verdict == "reproduced"]

    @property
    def broken(self) -> bool:
        """True when a placebo passes the rule: the rule cannot tell a target-agnostic ranker from the metric."""
        return bool(self.broken_by)

    def lines(self) -> list[str]:
        """Markdown lines for a claims page: the verdict, the placebos' outcome, and a bold line if broken."""
        what = f"{self.spec.metric} - {self.spec.minus}" if self.spec.minus else self.spec.metric
        side = ">" if self.spec.direction == "above" else "<"
        lines = [
            f"Verdict: **{self.verdict}** ({what}, mean {self.spec.measure} with {self.spec.truth}: {self.interval}; "
            f"rule: interval {side} {self.spec.margin:+g})"
        ]
        for name, (verdict, interval) in self.placebos.items():
            lines.append(f"- placebo {name} in the metric's place: {verdict} ({interval})")
        if self.broken:
            lines.append(
                f"**Broken rule: the placebo(s) {', '.join(self.broken_by)} pass it, so it cannot carry the claim.**"
            )
        return lines


def decide_claim(spec: ClaimSpec, per_group: Mapping[str, pd.Series], *,
                 datasets: Mapping[str, str] | None = None) -> ClaimVerdict:
    """Run the spec's rule on ``per_group[spec.metric]`` (minus ``per_group[spec.minus]``) and on every placebo in
    the metric's place. ``per_group`` maps a ranker to its per-group measure (already past the exclusion rule);
    ``datasets`` maps a group to its dataset (default: :func:`~gtransfer.evaluation.baselines.dataset_of`).

    Raises:
        ValueError: a ranker the spec names has no values, or the rankers cover different groups.
    """
    names = [spec.metric, *([spec.minus] if spec.minus else []), *spec.placebos]
    absent = [n for n in names if n not in per_group]
    if absent:
        raise ValueError(f"decide_claim ({spec.claim}): no per-group values for {absent}; given: {sorted(per_group)}")
    groups = sorted(per_group[spec.metric].index)
    for n in names:
        if sorted(per_group[n].index) != groups:
            raise ValueError(f"decide_claim ({spec.claim}): {n!r} covers other groups than {spec.metric!r}; "
                             "apply the exclusion rule to every ranker alike")
    labels = [(datasets or {}).get(g, dataset_of(g)) for g in groups]
    base = per_group[spec.minus].reindex(groups).to_numpy() if spec.minus else 0.0

    def run(ranker: str) -> tuple[str, Interval]:
        values = per_group[ranker].reindex(groups).to_numpy() - base
        interval = hierarchical_bootstrap(values, datasets=labels, unit=spec.unit, balance=spec.balance,
                                          n_boot=spec.n_boot, seed=spec.seed)
        return rule_verdict(interval, spec.margin, direction=spec.direction), interval

    verdict, interval = run(spec.metric)
    placebos = {p: run(p) for p in spec.placebos}
    return ClaimVerdict(spec, verdict, interval, placebos, len(groups))
