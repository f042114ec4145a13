"""Choosing encoders for a target: ranking by a metric (:mod:`.ranking`) and the source probabilities
NCE and LEEP read -- an encoder's source head, or the k-means stand-in for encoders without one
(:mod:`.source_probs`)."""

from gtransfer.selection.ranking import rank_encoders

__all__ = ["rank_encoders"]
