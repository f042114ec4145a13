"""Options of public functions are keyword-only (docs/style.md, "Keyword-only options").

Walks the package with importlib and inspect: every public function (module level, no leading underscore,
defined in gtransfer/) and every public method or constructor of a public class must take its defaulted
parameters after `*`. Inputs without a default stay positional. The exceptions are in ALLOWLIST, each with
its reason. `python tests/test_style_keyword_only.py` prints the offenders and the counts.
"""

from __future__ import annotations

import ast
import functools
import importlib
import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

import gtransfer

PACKAGE = Path(gtransfer.__file__).resolve().parent

#: the optional DGL subpackage cannot be imported without DGL; its syntax trees are checked instead
OPTIONAL = {"gtransfer.models.dgl": "dgl"}

_ARGV = "argv is the input (the command line), None reads sys.argv: the console-script convention main(argv=None)"
_ROOT = "the one argument is the input (a folder) and optional, None reading the environment (docs/style.md)"
_EDGES = ("edge_attr is an input (the edge features), optional, in PyG's conv(x, edge_index, edge_attr) calling "
          "convention, which the encoder's layer stack follows")

#: qualified name -> why a defaulted parameter stays positional-or-keyword there. A dataclass's or NamedTuple's
#: generated __init__ is not checked (its fields are its signature); everything else that is exempt is named here.
ALLOWLIST: dict[str, str] = {
    "gtransfer.cli.app.main": _ARGV,
    "gtransfer.cli.bench.main": _ARGV,
    "gtransfer.cli.experiments.run_script": "argv is the input handed to the script's main(argv=None), as there",
    "gtransfer.data.loading.available_datasets": _ROOT,
    "gtransfer.data.roots.cache_dir": _ROOT,
    "gtransfer.data.roots.data_roots": _ROOT,
    "gtransfer.vision.data.roots.vision_cache_dir": _ROOT,
    "gtransfer.vision.data.roots.vision_data_root": _ROOT,
    "gtransfer.metrics.registry.Scores.__init__": "values is the input (the scores, a dict's contents), optional as "
    "dict()'s",
    "gtransfer.studies.report.tables.ReportConfig.__init__": "section is the input (a spec's report section), "
    "optional: None is the default report",
    "gtransfer.models.convs.GATLayer.forward": _EDGES,
    "gtransfer.models.convs.GCNLayer.forward": _EDGES,
    "gtransfer.models.convs.GINLayer.forward": _EDGES,
    "gtransfer.models.convs.SAGELayer.forward": _EDGES,
}

#: dunder methods checked besides the public ones: a constructor's and a call's options are options too
CHECKED_DUNDERS = {"__init__", "__call__"}


def _is_public(name: str) -> bool:
    return not name.startswith("_") or name in CHECKED_DUNDERS


def _module_names() -> Iterator[str]:
    """Every module of the package, from its files (a package that cannot be imported still lists its modules)."""
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__main__":
            continue  # an entry point runs on import
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if any(part.startswith("_") for part in parts):
            continue  # a private module (metrics/_backend.py) is no public interface
        yield ".".join(parts)


def _optional_missing(module_name: str) -> bool:
    for prefix, requirement in OPTIONAL.items():
        if module_name == prefix or module_name.startswith(prefix + "."):
            try:
                importlib.import_module(requirement)
            except ImportError:
                return True
    return False


def _positional_options(fn: Callable) -> list[str]:
    """The parameters of fn that have a default and can still be passed by position."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD and p.default is not inspect.Parameter.empty
    ]


def _generated(fn: Callable) -> bool:
    """A method that a dataclass or NamedTuple wrote (its code has no file in the package)."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return True
    filename = Path(code.co_filename)
    return not (filename.is_absolute() and filename.resolve().is_relative_to(PACKAGE))


def _function(value: object) -> Callable | None:
    """The plain function behind a module or class attribute (unwrapping staticmethod, classmethod, lru_cache and
    other functools.wraps decorators), or None for anything else."""
    if isinstance(value, (staticmethod, classmethod)):
        value = value.__func__
    if inspect.isclass(value) or not callable(value):
        return None
    target = inspect.unwrap(value)
    return target if inspect.isfunction(target) else None


def _functions_of(module: ModuleType) -> Iterator[tuple[str, Callable]]:
    """(qualified name, function) of the module's public functions and its public classes' methods."""
    for name, value in vars(module).items():
        if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value):
            for attr, member in vars(value).items():
                method = _function(member) if _is_public(attr) else None
                if method is not None and not _generated(method):
                    yield f"{module.__name__}.{value.__qualname__}.{attr}", method
        elif (fn := _function(value)) is not None:
            yield f"{module.__name__}.{name}", fn


def _syntax_functions(path: Path, module_name: str) -> Iterator[tuple[str, list[str]]]:
    """The same walk on a module's syntax tree, for a module that cannot be imported here."""
    tree = ast.parse(path.read_text(), str(path))

    def options(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
        args = node.args.posonlyargs + node.args.args
        defaulted = args[len(args) - len(node.args.defaults) :]
        return [a.arg for a in defaulted if a not in node.args.posonlyargs]

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and not node.name.startswith("_"):
            yield f"{module_name}.{node.name}", options(node)
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_public(item.name):
                    yield f"{module_name}.{node.name}.{item.name}", options(item)


@functools.cache
def public_functions() -> dict[str, list[str]]:
    """Every public function and method of the package -> its defaulted positional-or-keyword parameters."""
    found: dict[str, list[str]] = {}
    for module_name in _module_names():
        if _optional_missing(module_name):
            relative = Path(*module_name.split(".")[1:])
            path = PACKAGE / relative / "__init__.py"
            if not path.exists():
                path = (PACKAGE / relative).with_suffix(".py")
            found.update(_syntax_functions(path, module_name))
            continue
        module = importlib.import_module(module_name)
        for qualname, fn in _functions_of(module):
            found[qualname] = _positional_options(fn)
    return found


def offenders(found: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    found = public_functions() if found is None else found
    return {name: params for name, params in found.items() if params and name not in ALLOWLIST}


def test_public_options_are_keyword_only():
    bad = offenders()
    lines = "\n".join(f"  {name}: {', '.join(params)}" for name, params in sorted(bad.items()))
    assert not bad, (
        f"{len(bad)} public functions take options by position:\n{lines}\n"
        "Put the defaulted options after `*` (docs/style.md, 'Keyword-only options'), or, where a protocol "
        "calls the function positionally, add it to ALLOWLIST in tests/test_style_keyword_only.py with the reason."
    )


def test_allowlist_names_existing_functions_that_need_it():
    found = public_functions()
    stale = {name for name in ALLOWLIST if not found.get(name)}
    assert not stale, f"ALLOWLIST entries that no longer exist or no longer take a positional option: {sorted(stale)}"


def test_the_walk_reaches_functions_methods_constructors_and_the_optional_dgl_package():
    found = public_functions()
    assert found["gtransfer.metrics.registry.score_all"] == []  # a module-level function
    assert found["gtransfer.studies.store.TrialStore.record"] == []  # a method
    assert found["gtransfer.models.encoder.GNNEncoder.__init__"] == []  # a constructor
    assert found["gtransfer.models.dgl.encoder.DGLEncoder.embed"] == []  # imported, or read from its syntax tree
    assert found["gtransfer.models.convs.GINLayer.forward"] == ["edge_attr"]  # on the allowlist
    assert "gtransfer.training.packed.engine.PackMember.__init__" not in found  # a dataclass's generated __init__
    assert not any(".metrics._" in name for name in found)  # a private module


def test_the_check_sees_a_positional_option(tmp_path):
    def plain(data, option=1):
        return data, option

    def keyword(data, *, option=1):
        return data, option

    assert _positional_options(plain) == ["option"]
    assert _positional_options(keyword) == []
    source = tmp_path / "m.py"
    source.write_text("def f(a, b=1, *, c=2):\n    pass\nclass C:\n    def m(self, x, y=None):\n        pass\n")
    assert dict(_syntax_functions(source, "m")) == {"m.f": ["b"], "m.C.m": ["y"]}


if __name__ == "__main__":
    everything = public_functions()
    bad = offenders(everything)
    for name, params in sorted(bad.items()):
        print(f"{name}: {', '.join(params)}")
    with_options = sum(1 for params in everything.values() if params)
    print(
        f"{len(everything)} public functions and methods; {with_options} take a defaulted option by position, "
        f"{len(bad)} of them not on the allowlist ({len(ALLOWLIST)} entries)"
    )
