"""A spec's mistakes found before its first trial runs: unknown kinds, parameters, targets and encoders.

:func:`check_spec` looks at every stage: its kind is registered; each parameter (fixed or on the grid)
is one the kind declared (:func:`gtransfer.studies.registry.register_trial_kind` ``params=``), with a
"did you mean" for a near miss; and the kind's pre-run check (``check=``) passes for every distinct
(encoder, target) of the stage -- for the graph kinds: the target parses with the one target grammar
and its dataset is in the data roots, the encoder string resolves (its file exists; no weights are
loaded; a bad target does not hide a bad encoder); the ``report:`` section has only the fields
``gtransfer report`` reads. All problems are reported at once, one line each.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from gtransfer.studies.execute import working_directory
from gtransfer.studies.registry import get_trial_kind, trial_kind_check, trial_kind_params
from gtransfer.studies.spec import StudySpec

__all__ = ["check_spec"]

_TEMPLATE_FIELD = re.compile(r"{([A-Za-z_][A-Za-z0-9_]*)}")


def check_spec(spec: StudySpec) -> None:
    """Raise one ValueError listing every problem of ``spec`` found without running a trial.

    Relative paths are checked from the spec's folder, where the trials run.

    Raises:
        ValueError: an unknown trial kind, parameter, target, encoder or report field (one line per problem).
    """
    problems: list[str] = []
    seen: set[str] = set()  # a missing encoder file is one problem, not one per stage that reads it
    shared = _shared_parameters(spec)
    for index, stage in enumerate(spec.stages):
        where = f"stage {index} ({stage['kind']})" if len(spec.stages) > 1 else f"kind {stage['kind']}"
        try:
            get_trial_kind(stage["kind"], modules=spec.imports)
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        problems += _parameter_problems(stage, where, spec, shared)
        check = trial_kind_check(stage["kind"], modules=spec.imports)
        if check is not None:
            problems += _check_problems(stage, where, check, spec.base_dir, seen)
    problems += _report_problems(spec)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise ValueError(f"spec {spec.name!r} has {count}; no trial was run:\n" + "\n".join(f"  {p}" for p in problems))


def _shared_parameters(spec: StudySpec) -> set[str]:
    """Top-level params (shared by every stage) that at least one stage's kind reads, and the report's
    ``candidate``/``group`` columns (descriptive params such as ``family``): allowed in every stage."""
    top = {*(spec.raw.get("params") or {}), *(spec.raw.get("grid") or {})}
    read: set[str] = set()
    for stage in spec.stages:
        try:
            declared = trial_kind_params(stage["kind"], modules=spec.imports)
        except ValueError:
            continue
        read |= top if declared is None else set(declared) & top
    report = spec.report or {}
    return read | {str(report.get("candidate", "encoder")), str(report.get("group", "target"))}


def _parameter_problems(stage: dict, where: str, spec: StudySpec, shared: set[str]) -> list[str]:
    declared = trial_kind_params(stage["kind"], modules=spec.imports)
    if declared is None:
        return []
    given = {**stage["params"], **stage["grid"]}
    # a path template may name any parameter ("emb/{layer}/{target}.npy"): those are read, so allowed
    used = {name for value in given.values() if isinstance(value, str) for name in _TEMPLATE_FIELD.findall(value)}
    allowed = set(declared) | used | shared
    problems = []
    for name in given:
        if name in allowed:
            continue
        near = difflib.get_close_matches(name, declared, n=1, cutoff=0.6)
        problems.append(
            f"{where}: unknown parameter {name!r}" + (f" (did you mean {near[0]!r}?)" if near else "")
            + f"; {stage['kind']} reads: {', '.join(sorted(declared))}"
        )
    return problems


def _check_problems(stage: dict, where: str, check: object, base_dir: Path, seen: set[str]) -> list[str]:
    """The kind's check on each distinct (encoder, target) of the stage, with the stage's fixed params; a problem
    already in ``seen`` (found for another encoder, or by an earlier stage) is not listed again."""
    combos = {(encoder, target) for encoder in stage["encoders"] or [None] for target in stage["targets"] or [None]}
    problems: list[str] = []
    with working_directory(base_dir):
        for encoder, target in sorted(combos, key=str):
            params = {**stage["params"], **{k: v[0] for k, v in stage["grid"].items()}}
            if encoder is not None:
                params["encoder"] = encoder
            if target is not None:
                params["target"] = target
            try:
                check(params)  # type: ignore[operator]
            except (ValueError, FileNotFoundError) as exc:
                # a check that found several problems (a bad target and a bad encoder) lists them in ``problems``
                for problem in getattr(exc, "problems", None) or [str(exc)]:
                    if problem not in seen:  # one unknown target is one problem, not one per encoder
                        seen.add(problem)
                        problems.append(f"{where}: {problem}")
    return problems


def _report_problems(spec: StudySpec) -> list[str]:
    """The ``report:`` section checked as ``gtransfer report`` reads it, before the sweep rather than after."""
    if not spec.report:
        return []
    from gtransfer.studies.report.tables import ReportConfig

    try:
        ReportConfig(spec.report)
    except (ValueError, TypeError) as exc:
        return [str(exc)]
    return []
