"""Transferability studies: sweep specs, the trial store, runners (local, Ray), reports, studies.

``gtransfer.studies.store.TrialStore`` holds finished trials in SQLite;
``gtransfer.studies.spec.load_spec`` reads a YAML study spec and ``expand_trials`` lists its trials;
``gtransfer.studies.registry.register_trial_kind`` registers a trial kind;
``gtransfer.studies.runner.run_sweep`` runs what the store does not hold yet;
``gtransfer.studies.report.write_report`` turns a store into tables and plots.
Submodules are imported on use, so importing this package is cheap.
"""

__all__ = ["keys", "store", "spec", "registry", "execute", "runner", "ray_engine", "trials", "report"]
