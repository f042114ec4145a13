"""The study designs: which trials each experiment runs, per preset (``small``, ``medium``, ``full``).

Graph and vision designs side by side, one module per experiment. A design only builds spec dicts (and,
where the specs name encoders trained first, the function that trains them); the sweep engine runs them
and the reports read them. The scripts under ``experiments/`` are command-line front ends: they parse
their arguments and make one call into this package.

- :mod:`.source_selection`: graph source selection on MoleculeNet (``SizedDesign`` presets medium, full);
- :mod:`.target_selection`: graph target selection with head sources (raw and corrected NCE/LEEP);
- :mod:`.graph_source_zoo`: NCE and LEEP from source heads against the k-means stand-in;
- :mod:`.metric_timing`: the cost of H_alpha, H-score and LogME as n and d grow;
- :mod:`.vision`: the vision studies (source, target and class-pair target selection);
- :mod:`.finetune_against_random`: a checkpoint fine-tuned against random twins, paired by seed (resumable).
"""
