"""A failure as one text, the way it is stored (the trial store, a result file) and shown (a table, a log)."""

from __future__ import annotations

__all__ = ["describe_error"]


def describe_error(exc: BaseException) -> str:
    """A failure as it is stored and shown: ``Type: message``, the whole message (its later lines -- paths
    tried, valid names, the fix -- are what a user needs); just ``Type`` when there is no message.

    Examples:
        >>> describe_error(ValueError("bad target 'x'"))
        "ValueError: bad target 'x'"
        >>> describe_error(KeyboardInterrupt())
        'KeyboardInterrupt'
    """
    message = str(exc).strip()
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
