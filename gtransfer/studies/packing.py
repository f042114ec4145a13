"""Pending trials that can share a pack run as one unit of work; the store still gets one row per trial.

A trial kind with a pack runner (:func:`gtransfer.studies.registry.register_pack_runner`; today
``graph_finetune``) names for each trial the pack it can join. :func:`plan_units` groups the pending
trials of a sweep by that name, at most ``max_members`` per pack, and turns each group of two or
more into one ``pack`` trial; every engine runs it like any trial (:func:`execute_trial`), and
:func:`member_outcomes` splits its outcome back into one outcome per member, under the member's
own key and params. A trial's key therefore never depends on how it was packed; a pack that fails
as a whole (its process died, its data did not load) records its error for every member, and the
sweep goes on. A ``pack`` trial is never stored.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import replace

from gtransfer.studies.execute import TrialOutcome, describe_error
from gtransfer.studies.registry import pack_runner, register_trial_kind
from gtransfer.studies.spec import Trial

__all__ = ["PACK_KIND", "plan_units", "unit_members", "repack", "member_outcomes", "run_pack_trial"]

PACK_KIND = "pack"


def plan_units(
    trials: Sequence[Trial], max_members: int | None, *, imports: tuple[str, ...] = (), alone: Collection[str] = ()
) -> list[Trial]:
    """The units to run: packs of trials that share a pack group, other trials as they are.

    Args:
        trials: pending trials, in the order the sweep would run them.
        max_members: most trials per pack (``None``: the kind's own default for the group; ``1``: no packs).
        imports: modules registering the spec's trial kinds.
        alone: keys of trials never to pack (those whose last run died with its process run by themselves).

    A pack takes the place of its first member in the order. A trial whose group cannot be computed
    stays alone (running it reports its error).
    """
    if max_members is not None and max_members < 1:
        raise ValueError(f"the pack size must be >= 1, got {max_members}")
    slots: list[Trial | tuple[str, str]] = []
    groups: dict[tuple[str, str], list[Trial]] = {}
    sizes: dict[tuple[str, str], int] = {}
    for trial in trials:
        runner = pack_runner(trial.kind, modules=imports)
        group = None
        if runner is not None and max_members != 1 and trial.key not in alone:
            try:
                group = (trial.kind, runner.group(trial.params))
            except Exception:  # noqa: BLE001 - the trial reports its own error when it runs
                group = None
        if group is None:
            slots.append(trial)
            continue
        if group not in groups:
            groups[group] = []
            sizes[group] = max_members or runner.max_members(group[1])
        chunk = groups[group]
        if len(chunk) % sizes[group] == 0:
            slots.append((group, len(chunk) // sizes[group]))
        chunk.append(trial)
    units = []
    for slot in slots:
        if isinstance(slot, Trial):
            units.append(slot)
            continue
        group, index = slot
        size = sizes[group]
        members = groups[group][index * size:(index + 1) * size]
        units.append(members[0] if len(members) == 1 else _pack_trial(group[0], members))
    return units


def unit_members(unit: Trial) -> list[Trial]:
    """The trials a unit runs: a pack's members (as trials, under their own keys), else the unit itself."""
    if unit.kind != PACK_KIND:
        return [unit]
    kind = unit.params["kind"]
    return [Trial(kind=kind, params=m["params"], key=m["key"]) for m in unit.params["members"]]


def repack(unit: Trial, members: Sequence[Trial]) -> Trial:
    """``unit`` with only ``members`` left (some may have been claimed by another sweep): itself when
    nothing was removed, the trial when one is left, else a new pack."""
    if len(members) == len(unit_members(unit)):
        return unit
    return members[0] if len(members) == 1 else _pack_trial(members[0].kind, members)


def _pack_trial(kind: str, members: Sequence[Trial]) -> Trial:
    digest = hashlib.sha256("\n".join(t.key for t in members).encode("ascii")).hexdigest()
    params = {"kind": kind, "members": [{"key": t.key, "params": t.params} for t in members]}
    return Trial(kind=PACK_KIND, params=params, key=f"pack-{digest}")


def member_outcomes(unit: Trial, outcome: TrialOutcome) -> list[TrialOutcome]:
    """One outcome per trial of ``unit``: the outcome itself for a plain trial, each member's for a pack.

    Each member is charged an equal share of the pack's time; its ``worker`` says the pack size.
    """
    if unit.kind != PACK_KIND:
        return [outcome]
    members = unit.params["members"]
    share = outcome.duration_s / len(members)
    worker = f"{outcome.worker} (pack of {len(members)})"
    reports = (outcome.result or {}).get("members", [])
    out = []
    for position, member in enumerate(members):
        report = reports[position] if position < len(reports) else {}
        result, error = report.get("result"), report.get("error")
        if outcome.error is not None:
            result, error = None, outcome.error
        elif result is None and error is None:
            error = "RuntimeError: the pack returned no result for this trial"
        out.append(replace(outcome, key=member["key"], kind=unit.params["kind"], params=member["params"], result=result,
                           error=error, duration_s=share, worker=worker))
    return out


@register_trial_kind(PACK_KIND)
def run_pack_trial(params: dict) -> dict:
    """Run a pack's members with their kind's pack runner: ``{"members": [{"result": ...} | {"error": ...}, ...]}``."""
    kind = params["kind"]
    runner = pack_runner(kind)
    if runner is None:
        raise ValueError(f"trial kind {kind!r} has no pack runner")
    outcomes = runner.run([m["params"] for m in params["members"]])
    if len(outcomes) != len(params["members"]):
        raise RuntimeError(
            f"the {kind} pack runner returned {len(outcomes)} outcomes for {len(params['members'])} trials"
        )
    return {
        "members": [{"error": describe_error(o)} if isinstance(o, BaseException) else {"result": o} for o in outcomes]
    }
