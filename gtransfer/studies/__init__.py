"""The sweep engine: study specs expanded into keyed trials, run resumably into a trial store, reported.

Engine: ``keys`` (stable trial keys), ``spec`` (YAML specs and their trials), ``store.TrialStore``
(SQLite), ``registry.register_trial_kind``, ``execute`` (one trial), ``runner.run_sweep`` (local
engine), ``ray_engine``, ``experiment.run_study`` (spec -> store -> report in one call).
``kinds/``: the built-in trial kinds. ``report/``: tables, plots and the markdown report.
Submodules are imported on use.
"""

__all__ = ["keys", "spec", "store", "registry", "execute", "runner", "ray_engine", "experiment", "kinds", "report"]
