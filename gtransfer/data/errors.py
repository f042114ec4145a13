"""Warnings shared by the data loaders (errors are ``ValueError`` / ``FileNotFoundError`` subclasses)."""

from __future__ import annotations

__all__ = ["CorruptCacheWarning", "SkippedMoleculesWarning"]


class SkippedMoleculesWarning(UserWarning):
    """Some SMILES could not be parsed by RDKit and were left out (the message counts them)."""


class CorruptCacheWarning(UserWarning):
    """A processed cache could not be read; it is deleted and rebuilt from the raw files."""
