"""Errors meant for the person at the keyboard: the CLI prints them without a traceback."""

from __future__ import annotations

import sqlite3

from events.refusal import BadArgument, Refused

__all__ = ["BadArgument", "Refused", "UsageError", "file_problem", "sqlite_problem"]


class UsageError(Refused):
    """A request that cannot be carried out as asked (exit status 2)."""


def file_problem(path: object, error: OSError, doing: str) -> str:
    """One line about a file of the user's that could not be read or written."""
    reason = error.strerror or str(error)
    return f"cannot {doing} {path}: {reason}"


def sqlite_problem(error: sqlite3.OperationalError) -> str | None:
    """The message for a refusal SQLite reports about the log's file; None for anything else.

    SQLite rolls a failed write transaction back, so a batch that met one of these is not in
    the log: "nothing was recorded" is true of every command that stops here.
    """
    text = str(error).lower()
    if "database is locked" in text or "database table is locked" in text:
        return ("the log is locked: another process (another ictindex command, or a program "
                "holding the file open for writing) is writing to it; nothing was recorded. "
                "Run the command again when it has finished")
    if "database or disk is full" in text:
        return "the disk holding the log is full: nothing was recorded. Free some space and run it again"
    if "disk i/o error" in text:
        return ("the log's file could not be written (disk I/O error: full, removed or read-only?): "
                "nothing was recorded")
    if "attempt to write a readonly database" in text:
        return "the log's file is read-only for this user: nothing was recorded"
    return None
