"""Benchmarks that print ratios against a baseline timed in the same run (``python -m gtransfer.bench``).

* ``metrics`` / ``suite``: each metric's time as a ratio to one bare Gram product (:mod:`.metrics`);
* ``claims-timing``: H_alpha against the project's LogME and LogME as published, d = 256..2048 (:mod:`.logme_timing`);
* ``corpus``: featurisation throughput of the pretraining corpus for 1, 2, ... workers (:mod:`.corpus`);
* ``training``: fine-tuning epochs per second, the one-model loop against packed training (:mod:`.training`).
"""
