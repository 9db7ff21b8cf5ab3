"""The base of every error its user causes, for the layers below `ictindex/` to raise.

A command line prints a `Refused` as one line and exits with status 2; anything else that
escapes is a bug in the tool and keeps its traceback.  `ictindex.errors.UsageError` is one.
"""

from __future__ import annotations

__all__ = ["BadArgument", "Refused"]


class Refused(Exception):
    """A request refused because of what was asked or given, not because of a bug."""


class BadArgument(Refused, ValueError):
    """An argument that cannot be read or is out of range (still a ValueError for callers)."""
