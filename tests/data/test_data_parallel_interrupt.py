"""Featurisation pool workers ignore Ctrl-C: the parent handles it (and terminates them), so a Ctrl-C
on `gtransfer corpus --workers N` prints no worker tracebacks."""

from __future__ import annotations

import signal

from gtransfer.data.parallel import ignore_interrupt, mp_context


def _ignores_sigint(_: int) -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


def test_pool_workers_started_with_the_initializer_ignore_sigint():
    with mp_context().Pool(1, initializer=ignore_interrupt) as pool:
        assert pool.map(_ignores_sigint, [0]) == [True]
    with mp_context().Pool(1) as pool:  # the check can fail: a plain worker keeps Python's handler
        assert pool.map(_ignores_sigint, [0]) == [False]
