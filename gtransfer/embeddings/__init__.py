"""Frozen embeddings: from a loader or SMILES (:mod:`.embed`), of a dataset (:mod:`.dataset`), of a
target under an encoder string (:mod:`.targets`), all kept in the one cache (:mod:`.cache`) as entries of one
key schema, computed by one function (:mod:`.entries`)."""

from gtransfer.embeddings.cache import ArrayCache, CacheEntry
from gtransfer.embeddings.dataset import EmbeddingEntry, embed_dataset

__all__ = ["ArrayCache", "CacheEntry", "EmbeddingEntry", "embed_dataset"]
