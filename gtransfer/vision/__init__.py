"""The vision branch of gtransfer: image data, CNN encoders, a source zoo, image targets and embeddings.

It feeds the same metric core (:mod:`gtransfer.metrics`), fine-tuning loop
(:mod:`gtransfer.training.finetune`), embedding cache, splits, data roots and sweep engine as the
graph side; its trial kinds are :mod:`gtransfer.studies.kinds.vision`.
"""
