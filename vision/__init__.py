"""The vision branch of gtransfer: image data, CNN encoders, fine-tuning and embeddings.

It feeds the same metric core (``gtransfer.metrics``) and study engine as the graph side.
"""
