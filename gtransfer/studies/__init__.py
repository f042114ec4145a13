"""Transferability studies: sweep specs, the trial store, runners (local, Ray), reports, studies.

Engine: ``keys`` (stable trial keys), ``store.TrialStore`` (SQLite), ``spec`` (YAML specs and their
trials), ``registry.register_trial_kind``, ``execute`` (one trial), ``runner.run_sweep`` (local
engine), ``ray_engine``. Reports: ``tables``, ``plots``, ``report.write_report``.
Trial kinds: ``trials`` (probe, score, metric_timing on saved arrays) and ``graph_trials``
(graph_score, graph_probe, graph_finetune), with ``graph_targets``, ``encoders``, ``embeddings``,
``source_probs``. Fronts: ``ranking`` (``gtransfer rank``), ``fronts``, ``demo``, ``zoo``,
``experiment`` (the ``experiments/`` scripts). Submodules are imported on use.
"""

__all__ = [
    "keys", "store", "spec", "registry", "execute", "runner", "ray_engine", "tables", "plots", "report",
    "trials", "graph_trials", "graph_targets", "encoders", "embeddings", "source_probs", "arrays",
    "ranking", "fronts", "demo", "zoo", "experiment",
]
