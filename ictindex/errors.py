"""Errors meant for the person at the keyboard: the CLI prints them without a traceback."""

from __future__ import annotations

from events.refusal import BadArgument, Refused

__all__ = ["BadArgument", "Refused", "UsageError", "file_problem"]


class UsageError(Refused):
    """A request that cannot be carried out as asked (exit status 2)."""


def file_problem(path: object, error: OSError, doing: str) -> str:
    """One line about a file of the user's that could not be read or written."""
    reason = error.strerror or str(error)
    return f"cannot {doing} {path}: {reason}"
