"""`ictindex copy`: copy a log from one store to another, verifying as it goes."""

from __future__ import annotations

import click

from plugins import hookimpl
from ictindex.app import Ictindex
from ictindex.cli import handle_errors


@click.command("copy")
@click.option("--from", "source", required=True, metavar="LOG",
              help="The log to copy, named as --db names one (a SQLite file); opened "
                   "read-only and verified first.")
@click.option("--to", "target", required=True, metavar="LOG",
              help="Where to copy it: a new or empty log, or an earlier, interrupted copy of "
                   "the same log (the copy resumes where it ends).")
@handle_errors
def copy(source: str, target: str) -> None:
    """Copy a log into another store: the same bytes, hashes and checkpoint.

    --db is not used: the two logs are named by --from and --to.  The source is verified
    before anything is written, every event again as it is copied, and the copy's checkpoint
    must end up the source's.  Run it again after an interruption: it goes on from where the
    target ends.
    """
    result = Ictindex.copy(source, target)
    click.echo(f"copied {result.copied} events: checkpoint {result.checkpoint}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(copy)
