"""The built-in trial kinds: ``arrays`` (probe, score, metric_timing on saved arrays), ``graph``
(graph_score, graph_probe, graph_finetune) and ``vision`` (vision_score, vision_finetune).

Each module registers its kinds with :func:`gtransfer.studies.registry.register_trial_kind` on import;
the registry imports all three whenever a kind is looked up.
"""
