"""Trial kinds: plain functions ``fn(params: dict) -> dict`` registered under a name.

A sweep spec names its kind (``kind: probe``) and, for kinds defined outside gtransfer, the modules
that register them (``import: mylab.trials``; trusted code, imported as given). Worker processes import the same modules
before
running a trial, so a kind must be registered at import time of a module, never interactively.

Example::

    from gtransfer.studies.registry import register_trial_kind

    @register_trial_kind("my_kind")
    def my_trial(params: dict) -> dict:
        return {"accuracy": ...}
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

__all__ = ["TrialFunction", "TrialCheck", "register_trial_kind", "get_trial_kind", "trial_kinds", "trial_kind_params",
           "trial_kind_check", "import_trial_modules", "PackRunner", "register_pack_runner", "pack_runner"]

TrialFunction = Callable[[dict], dict]
#: ``check(params)`` raises ValueError for a trial that cannot run (an unknown target, a missing
#: encoder file) without doing its work: a spec is checked with it before its first trial
TrialCheck = Callable[[dict], None]

#: modules holding gtransfer's own trial kinds, imported whenever a kind is looked up
BUILTIN_MODULES = (
    "gtransfer.studies.kinds.arrays", "gtransfer.studies.kinds.graph", "gtransfer.studies.kinds.graph_finetune",
    "gtransfer.studies.kinds.vision", "gtransfer.studies.packing",
)

#: module names that older specs list under ``import:`` and that are built in now (nothing to import)
LEGACY_MODULES = frozenset({"vision.trials"})

_REGISTRY: dict[str, TrialFunction] = {}
_PARAMS: dict[str, tuple[str, ...]] = {}
_CHECKS: dict[str, TrialCheck] = {}


@dataclass(frozen=True)
class PackRunner:
    """How a kind runs several trials as one unit: ``group(params)`` names the pack a trial can join
    (trials with equal groups may share one), ``run(params_list)`` returns one result dict or exception per
    trial, ``max_members(group)`` is the default pack size of a group."""

    group: Callable[[dict], str]
    run: Callable[[list[dict]], list]
    max_members: Callable[[str], int]


_PACK_RUNNERS: dict[str, PackRunner] = {}


def register_pack_runner(kind: str, group: Callable[[dict], str], run: Callable[[list[dict]], list],
                         *,
                         max_members: Callable[[str], int] = lambda group: 8) -> None:
    """Let the sweep run pending trials of ``kind`` in packs (:mod:`gtransfer.studies.packing`)."""
    _PACK_RUNNERS[kind] = PackRunner(group, run, max_members)


def pack_runner(kind: str, *, modules: Iterable[str] = ()) -> PackRunner | None:
    """The pack runner of ``kind``, or None when its trials run one at a time."""
    import_trial_modules(modules)
    return _PACK_RUNNERS.get(kind)


def register_trial_kind(
    name: str, *, params: Iterable[str] | None = None, check: TrialCheck | None = None
) -> Callable[[TrialFunction], TrialFunction]:
    """Decorator registering ``fn`` as the trial kind ``name``.

    Args:
        params: the parameters the kind reads (``encoder``, ``target`` and ``seed`` included when it
            uses them). Declared, a spec's parameter that is not among them is an error before any
            trial runs ("did you mean ..."); ``None`` accepts any parameter.
        check: ``check(params)`` raises ValueError for a trial that cannot run, cheaply (see :data:`TrialCheck`).

    Raises:
        ValueError: ``name`` is empty, or already registered to a different function.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"register_trial_kind: the name must be a non-empty string, got {name!r}")

    def decorator(fn: TrialFunction) -> TrialFunction:
        existing = _REGISTRY.get(name)
        if existing is not None and _qualified(existing) != _qualified(fn):
            raise ValueError(
                f"register_trial_kind: {name!r} is already registered to {_qualified(existing)}"
            )
        _REGISTRY[name] = fn
        if params is not None:
            _PARAMS[name] = tuple(params)
        if check is not None:
            _CHECKS[name] = check
        return fn

    return decorator


def _qualified(fn: Callable) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def import_trial_modules(modules: Iterable[str]) -> None:
    """Import the built-in trial modules and ``modules`` (which register their kinds on import).

    Raises:
        ValueError: a module cannot be imported (the message names it and the import error).
    """
    for module in (*BUILTIN_MODULES, *(m for m in modules if m not in LEGACY_MODULES)):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ValueError(f"cannot import trial module {module!r}: {exc}") from None


def get_trial_kind(name: str, *, modules: Iterable[str] = ()) -> TrialFunction:
    """The function registered as ``name``, after importing ``modules``.

    Raises:
        ValueError: no such kind (the message lists the registered ones).
    """
    import_trial_modules(modules)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown trial kind {name!r}; registered kinds: {', '.join(sorted(_REGISTRY)) or 'none'} "
            "(add the module that registers it under 'import:' in the spec)"
        ) from None


def trial_kinds(*, modules: Iterable[str] = ()) -> list[str]:
    """Names of all registered kinds, after importing ``modules``."""
    import_trial_modules(modules)
    return sorted(_REGISTRY)


def trial_kind_params(name: str, *, modules: Iterable[str] = ()) -> tuple[str, ...] | None:
    """The parameters kind ``name`` declared (``None``: not declared, any is accepted)."""
    get_trial_kind(name, modules=modules)
    return _PARAMS.get(name)


def trial_kind_check(name: str, *, modules: Iterable[str] = ()) -> TrialCheck | None:
    """The pre-run check kind ``name`` registered, if any."""
    get_trial_kind(name, modules=modules)
    return _CHECKS.get(name)
