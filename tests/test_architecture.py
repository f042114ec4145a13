"""The layout's rules, checked on the source: no import circle, no upward import, no private name
imported across packages (docs/ARCHITECTURE.md states them)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gtransfer"

#: the layers, lowest first; a unit may import units of lower layers only (and itself)
LAYERS = [
    {"io"},
    {"metrics", "evaluation"},
    {"data"},
    {"models"},
    {"training"},
    {"pretrain", "embeddings"},
    {"selection", "vision"},
    {"studies"},
    {"demos", "bench"},
    {"cli"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(imported module, imported names, line) of every import in the file, nested ones included."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((target, [alias.name for alias in node.names], node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for target, names, _ in _imports(path):
            if not target.startswith("gtransfer"):
                continue
            for candidate in [f"{target}.{n}" for n in names] + [target]:
                if candidate in modules and candidate != name:
                    graph[name].add(candidate)
                    break
    return graph


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_every_unit_has_a_layer():
    units = {_unit(_module_name(p)) for p in PACKAGE.rglob("*.py")} - {""}
    assert units == set(RANK), f"units without a layer: {units - set(RANK)}; layers naming no unit: {set(RANK) - units}"


def test_no_import_circle():
    graph = _graph()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_imports_only_point_down_the_layers():
    """``__main__`` modules are entry points (``python -m ...``): they sit above every layer."""
    upward = []
    for name, targets in _graph().items():
        if name.endswith(".__main__"):
            continue
        for target in targets:
            a, b = _unit(name), _unit(target)
            if a and b and a != b and RANK[b] >= RANK[a]:
                upward.append(f"{name} imports {target} ({a} is layer {RANK[a]}, {b} layer {RANK[b]})")
    assert not upward, "\n".join(upward)


def test_no_private_name_is_imported_across_packages():
    """A private module (``metrics._backend``) or name (``_ALIASES``) is used only inside its own package."""
    offences = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for target, names, line in _imports(path):
            if not target.startswith("gtransfer"):
                continue
            parts = target.split(".")
            private_at = next(
                (i for i, part in enumerate(parts) if part.startswith("_") and not part.startswith("__")), None
            )
            private_names = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private_at is not None:
                home = ".".join(parts[:private_at])
            elif private_names:
                home = target.rpartition(".")[0] if target not in (package, module) else target
            else:
                continue
            if not (package == home or package.startswith(home + ".")):
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} {private_names or ''}")
    assert not offences, "\n".join(offences)


#: what cli/, demos/ and the experiment scripts may import from ``studies/``: the engine's public entry points
#: (module -> names; ``None``: any name). Everything else there -- trial kinds, the registry, execution,
#: packing -- is the engine's inside; a front end that wants a score or a fine-tune calls ``selection/``.
STUDIES_ENTRY_POINTS: dict[str, set[str] | None] = {
    "gtransfer.studies.runner": {"run_sweep", "SweepInterrupted"},
    "gtransfer.studies.spec": {"load_spec"},
    "gtransfer.studies.store": {"TrialStore"},
    "gtransfer.studies.report": {"write_report", "study_scores", "trials_frame"},
    "gtransfer.studies.experiment": {"run_study", "run_experiment"},
    "gtransfer.studies.claims": None,  # the claim statistics behind the claims pages and the report
    "gtransfer.studies.claims.pages": {"write_pages"},  # the claims pages, behind experiments/claims.py
    "gtransfer.studies.designs.truths": {"run_truths"},  # the truth presets behind experiments/truths.py
}
#: and the study designs, which the experiment scripts front: any module of this package, any name
STUDIES_DESIGNS = "gtransfer.studies.designs"
EXPERIMENTS = PACKAGE.parent / "experiments"


def _front_end_files() -> list[Path]:
    return sorted([*(PACKAGE / "cli").rglob("*.py"), *(PACKAGE / "demos").rglob("*.py"), *EXPERIMENTS.glob("*.py")])


def _script_imports(path: Path) -> list[tuple[str, list[str], int]]:
    """``_imports`` for the package's files; absolute imports only for the scripts outside it."""
    if PACKAGE in path.parents:
        return _imports(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, [], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.append((node.module or "", [alias.name for alias in node.names], node.lineno))
    return found


def test_no_trial_kind_is_imported_outside_studies():
    """Trial kinds are adapters from a spec's params to ``selection/``; nobody else calls them."""
    offences = []
    for path in [*PACKAGE.rglob("*.py"), *EXPERIMENTS.glob("*.py")]:
        if PACKAGE / "studies" in path.parents:
            continue
        for target, names, line in _script_imports(path):
            hits = [target] if target.startswith("gtransfer.studies.kinds") else [
                f"{target}.{n}" for n in names if f"{target}.{n}".startswith("gtransfer.studies.kinds")]
            offences += [f"{path.relative_to(PACKAGE.parent)}:{line} imports {hit}" for hit in hits]
    assert not offences, "\n".join(offences)


def test_front_ends_use_only_the_studies_entry_points():
    """cli/, demos/ and experiments/*.py import from ``studies/`` only ``STUDIES_ENTRY_POINTS`` and the designs."""
    offences = []
    for path in _front_end_files():
        for target, names, line in _script_imports(path):
            if target != "gtransfer.studies" and not target.startswith("gtransfer.studies."):
                continue
            if target == STUDIES_DESIGNS or target.startswith(STUDIES_DESIGNS + "."):
                continue
            allowed = STUDIES_ENTRY_POINTS.get(target, set())
            bad = [] if allowed is None else [n for n in names if n not in allowed] or ([] if names else [target])
            if target not in STUDIES_ENTRY_POINTS or bad:
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target} {bad or ''}")
    assert not offences, "\n".join(offences)
