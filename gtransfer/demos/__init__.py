"""Demos: ``graph`` (``gtransfer demo``, ``make demo``) and ``digits`` (``gtransfer demo --digits``)."""
