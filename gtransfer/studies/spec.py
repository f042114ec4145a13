"""Study specs (YAML) and their expansion into trials with stable keys.

A spec is a grid: encoders x targets x seeds x hyperparameters, for one trial kind, or for several
*stages* (for example metric scores and the fine-tuning that validates them) sharing the defaults::

    name: source-selection-small          # required; names the study in the store and reports
    import: [mylab.trials]                # optional: (trusted) modules registering extra trial kinds
    encoders: [gcn_contextpred, gin_zoo_0]
    targets: [bbbp, bace]
    seeds: [0, 1, 2]                      # default [0]
    params: {epochs: 50}                  # fixed parameters of every trial
    stages:
      - kind: score                       # one stage per trial kind; a stage may override
        seeds: [0]                        #   encoders, targets, seeds, params and grid
      - kind: probe
        grid: {l2: [0.1, 1.0]}            # hyperparameters: every combination
    report: {candidate: encoder, group: target, scores: score, truth: probe, truth_metric: test_accuracy}

Without ``stages`` the top level is the one stage (it then needs ``kind``). Every trial's params hold
``encoder`` (when encoders are given), ``target`` (when targets are given), ``seed``, the fixed params
and one value of each grid entry. Relative paths in params are relative to the spec's folder: the
runners execute trials there.

A spec file is read within bounds checked *before* anything is built from it (docs/security.md): at
most :data:`MAX_SPEC_BYTES` bytes, :data:`MAX_ALIASES` YAML aliases, :data:`MAX_DEPTH` levels of
nesting and :data:`MAX_NODES` values once every alias is expanded (a 700-byte "billion laughs" file
names 10^9), and a spec expands to at most :data:`MAX_TRIALS` trials, counted before expanding.
Each bound, when passed, is a one-line ``ValueError`` naming the file, the count and the bound.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gtransfer.io.canonical import canonicalize
from gtransfer.studies.keys import trial_key

__all__ = ["MAX_ALIASES", "MAX_DEPTH", "MAX_NODES", "MAX_SPEC_BYTES", "MAX_TRIALS", "Trial", "StudySpec", "load_spec",
           "parse_spec", "expand_trials"]

#: the largest spec file read (a real spec is a few KB)
MAX_SPEC_BYTES = 1 << 20
#: YAML aliases (``*name``) a spec may use
MAX_ALIASES = 1_000
#: nesting levels of mappings and lists
MAX_DEPTH = 64
#: values (scalars, lists, mappings) a spec holds once every alias is expanded
MAX_NODES = 1_000_000
#: trials one spec may expand to (a store holds them all; ``--max-trials`` limits a run, not a spec)
MAX_TRIALS = 1_000_000

_TOP_KEYS = {
    "name", "import", "kind", "encoders", "targets", "seeds", "params", "grid", "stages", "report", "description",
}
_STAGE_KEYS = {"kind", "encoders", "targets", "seeds", "params", "grid"}
_RESERVED = ("encoder", "target", "seed")


@dataclass(frozen=True)
class Trial:
    """One unit of work: a registered ``kind`` run on ``params``; ``key`` is its stable identity."""

    kind: str
    params: dict
    key: str


@dataclass(frozen=True)
class StudySpec:
    """A parsed spec: its name, the modules to import, the raw mapping, and where it lives."""

    name: str
    imports: tuple[str, ...]
    raw: dict
    base_dir: Path
    stages: tuple[dict, ...]
    report: dict


def load_spec(path: str | Path) -> StudySpec:
    """Read and validate a YAML spec file.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not valid YAML, or not a valid spec (the message names the field).
    """
    import yaml

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"spec file {path} does not exist")
    size = path.stat().st_size
    if size > MAX_SPEC_BYTES:
        raise ValueError(f"spec {path} is {size:,} bytes, more than the {MAX_SPEC_BYTES:,} a spec may have; "
                         "a spec is a few KB: put data in files its params name")
    text = path.read_text()
    try:
        _check_yaml_bounds(text, str(path))
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"spec {path} is not valid YAML: {_yaml_problem(exc)}") from None
    return parse_spec(raw, base_dir=path.resolve().parent, source=str(path))


def _check_yaml_bounds(text: str, source: str) -> None:
    """Walk the YAML events (no objects built, no recursion) and refuse a document past the bounds.

    Each anchored value's expanded size is recorded when it ends, so an alias adds the size it
    stands for: nested aliases multiply (the "billion laughs") and are counted, never expanded.
    """
    import yaml

    aliases = 0
    anchored: dict[str, int] = {}
    stack: list[list] = [[0, None]]  # per open collection: [values inside it so far, its anchor]
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise ValueError(
                    f"spec {source} uses more than {MAX_ALIASES:,} YAML aliases (*name); a spec needs few: "
                    "write the values out"
                )
            stack[-1][0] += anchored.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            stack[-1][0] += 1
            if event.anchor is not None:
                anchored[event.anchor] = 1
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            stack.append([1, event.anchor])
            if len(stack) - 1 > MAX_DEPTH:
                mark = event.start_mark
                raise ValueError(f"spec {source} nests lists and mappings more than {MAX_DEPTH} levels deep "
                                 f"(line {mark.line + 1}); a spec needs a few levels")
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            count, anchor = stack.pop()
            if anchor is not None:
                anchored[anchor] = count
            stack[-1][0] += count
        else:
            continue
        if sum(level[0] for level in stack) > MAX_NODES:
            raise ValueError(f"spec {source} expands to more than {MAX_NODES:,} values once its YAML aliases are "
                             "expanded (a \"billion laughs\" document?); write a spec without nested aliases")


def _yaml_problem(exc: Exception) -> str:
    """The YAML error with its line and column (1-based), as ``line L, column C: problem (context)``."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).strip().splitlines()[0]
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}" + (f" ({context})" if context else "")


def parse_spec(raw: Any, *, base_dir: str | Path = ".", source: str = "spec") -> StudySpec:
    """Validate a spec mapping (as loaded from YAML) and normalise its stages."""
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: a spec must be a mapping, got {type(raw).__name__}")
    unknown = set(raw) - _TOP_KEYS
    if unknown:
        raise ValueError(f"{source}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_TOP_KEYS)}")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"{source}: 'name' is required and must be a non-empty string")
    imports = raw.get("import", [])
    if isinstance(imports, str):
        imports = [imports]
    if not isinstance(imports, list) or not all(isinstance(m, str) for m in imports):
        raise ValueError(f"{source}: 'import' must be a module name or a list of them")
    defaults = {k: raw[k] for k in _STAGE_KEYS if k in raw}
    if "stages" in raw:
        stages_raw = raw["stages"]
        if not isinstance(stages_raw, list) or not stages_raw:
            raise ValueError(f"{source}: 'stages' must be a non-empty list")
    else:
        stages_raw = [{}]
    stages = []
    for i, stage in enumerate(stages_raw):
        where = f"{source}: stage {i}" if "stages" in raw else source
        if not isinstance(stage, dict):
            raise ValueError(f"{where} must be a mapping")
        unknown = set(stage) - _STAGE_KEYS
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {sorted(unknown)}; allowed: {sorted(_STAGE_KEYS)}")
        merged = {**defaults, **stage}
        if "params" in defaults and "params" in stage:
            merged["params"] = {**defaults["params"], **stage["params"]}
        stages.append(_validate_stage(merged, where))
    total = sum(_trial_count(stage) for stage in stages)
    if total > MAX_TRIALS:
        raise ValueError(f"{source}: the spec expands to {total:,} trials (encoders x targets x seeds x grid, summed "
                         f"over stages), more than the {MAX_TRIALS:,} a study may hold; split it into smaller studies")
    report = raw.get("report", {}) or {}
    if not isinstance(report, dict):
        raise ValueError(f"{source}: 'report' must be a mapping")
    return StudySpec(name.strip(), tuple(imports), raw, Path(base_dir), tuple(stages), report)


def _validate_stage(stage: dict, where: str) -> dict:
    kind = stage.get("kind")
    if not isinstance(kind, str) or not kind:
        raise ValueError(f"{where}: 'kind' (the trial kind) is required")
    out: dict[str, Any] = {"kind": kind}
    for field in ("encoders", "targets"):
        values = stage.get(field)
        if values is None:
            out[field] = None
            continue
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: '{field}' must be a non-empty list")
        out[field] = values
    seeds = stage.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = [seeds]
    if (
        not isinstance(seeds, list)
        or not seeds
        or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds)
    ):
        raise ValueError(f"{where}: 'seeds' must be a non-empty list of integers")
    out["seeds"] = seeds
    params = stage.get("params", {}) or {}
    grid = stage.get("grid", {}) or {}
    if not isinstance(params, dict) or not isinstance(grid, dict):
        raise ValueError(f"{where}: 'params' and 'grid' must be mappings")
    for name, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: grid entry {name!r} must be a non-empty list of values")
    for name in (*params, *grid):
        if name in _RESERVED:
            raise ValueError(f"{where}: {name!r} is set by encoders/targets/seeds; do not put it in params or grid")
    both = set(params) & set(grid)
    if both:
        raise ValueError(f"{where}: {sorted(both)} are both fixed params and grid entries")
    out["params"] = canonicalize(params, path=f"{where}: params")
    out["grid"] = {k: canonicalize(v, path=f"{where}: grid.{k}") for k, v in grid.items()}
    return out


def _trial_count(stage: dict) -> int:
    """How many trials a validated stage expands to (before removing duplicates), without expanding it."""
    count = len(stage["seeds"])
    for values in (stage["encoders"], stage["targets"], *stage["grid"].values()):
        count *= len(values) if values is not None else 1
    return count


def expand_trials(spec: StudySpec) -> list[Trial]:
    """All trials of a spec, in a deterministic order, each once.

    Order: stages, then encoders, targets, seeds and the grid (in the spec's order). A trial that
    two stages both produce is kept once, with a warning giving the count.
    """
    trials: list[Trial] = []
    seen: set[str] = set()
    duplicates = 0
    for stage in spec.stages:
        axes: list[tuple[str, list]] = []
        if stage["encoders"] is not None:
            axes.append(("encoder", stage["encoders"]))
        if stage["targets"] is not None:
            axes.append(("target", stage["targets"]))
        axes.append(("seed", stage["seeds"]))
        axes.extend(stage["grid"].items())
        names = [name for name, _ in axes]
        for combo in itertools.product(*(values for _, values in axes)):
            params = {**stage["params"], **dict(zip(names, combo))}
            key = trial_key(stage["kind"], params)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            trials.append(Trial(stage["kind"], canonicalize(params), key))
    if duplicates:
        warnings.warn(
            f"spec {spec.name!r}: {duplicates} duplicate trial(s) expanded more than once, kept once", stacklevel=2
        )
    return trials
