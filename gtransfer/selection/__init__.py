"""Choosing encoders for a target: ranking by a metric (:mod:`.ranking`) and the stand-in source
probabilities that NCE and LEEP need for encoders without a source head (:mod:`.source_probs`)."""

from gtransfer.selection.ranking import rank_encoders

__all__ = ["rank_encoders"]
