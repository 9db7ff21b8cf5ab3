"""Errors meant for the person at the keyboard: the CLI prints them without a traceback."""


class UsageError(Exception):
    """A request that cannot be carried out as asked (exit status 2)."""
