"""The `ictindex` command: a thin layer over `ictindex.app.Ictindex`.

This module holds the root group and what every command shares (the context with the open
log, the options, the mapping of errors to messages).  The commands themselves live in one
module per subject (`record`, `log`, `editions`, `replay`, `publish`, `analysis`, `bench`,
`demo`), each a built-in plugin that adds them through `register_commands`; `build_cli()`
collects them with the installed plugins' commands.

Commands that write check everything first and append one atomic batch; commands that print a
table can print JSON (`--format json`).  Errors go to stderr without a traceback and exit 2.
"""

from __future__ import annotations

import functools
import os
import sys

import click

from events.inputs import InputErrors
from events.interface import ConcurrencyError, EventNotFound, store_problem
from ictindex.app import Ictindex, default_db_path
from ictindex.errors import Refused
from plugins.manager import PluginError


class FormatChoice(click.Choice):
    """`--format` of a command that prints text: `table`, `json` and, where the output is one
    table, `csv`.  `text`, the name `explain` once used for `table`, is still read (unlisted)."""

    ALIASES = {"text": "table"}

    def convert(self, value, param, ctx):
        if isinstance(value, str):
            value = self.ALIASES.get(value.strip().lower(), value)
        return super().convert(value, param, ctx)


FORMATS = FormatChoice(["table", "json"])
FORMATS_CSV = FormatChoice(["table", "json", "csv"])
# Years a ranking can be of: also keeps a huge number from reaching SQLite (which overflows).
YEAR = click.IntRange(1, 9999)


def fail(message: str, status: int = 2) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(status)


# What people cause.  Anything else is a bug in the tool and keeps its traceback.
USER_ERRORS = (Refused, PluginError, EventNotFound, ConcurrencyError)


def handle_errors(f):
    """Turn the errors people cause into a message and exit status 2, never a traceback."""

    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except InputErrors as e:
            for error in e.errors:
                click.echo(str(error), err=True)
            click.echo(f"{len(e.errors)} error(s); nothing was recorded.", err=True)
            sys.exit(2)
        except USER_ERRORS as e:
            fail(str(e))
        except Exception as e:  # the store's database refused: locked, disk full, read-only
            message = store_problem(e)
            if message is None:
                raise
            fail(message)

    return wrapper


# Commands that only read the log: they open it read-only (SQLite `mode=ro`), so they never
# create a file, switch it to WAL, add a table or write a derived one.  Any other command
# (plugins' too) opens it for writing.
READ_ONLY_COMMANDS = frozenset({
    "log", "checkpoint", "verify", "prove", "rank", "explain", "diff", "export", "site",
    "methodologies", "plugins", "projections check", "units list", "template",
})


class Context:
    def __init__(self, db: str, *, db_given: bool = False) -> None:
        self.db = db
        self.db_given = db_given  # --db named it (the demo then keeps it), not the default
        self._app: Ictindex | None = None
        self.check_schema = True  # `verify` reports a differing schema instead of refusing it

    @property
    def app(self) -> Ictindex:
        if self._app is None:
            read_only = self.read_only()
            self._app = Ictindex.open(self.db, read_only=read_only,
                                      check_schema=self.check_schema or not read_only)
        return self._app

    @staticmethod
    def read_only() -> bool:
        """Whether the command being run is one of `READ_ONLY_COMMANDS`."""
        ctx = click.get_current_context(silent=True)
        names = []
        while ctx is not None and ctx.parent is not None:
            names.append(ctx.info_name)
            ctx = ctx.parent
        return " ".join(reversed(names)) in READ_ONLY_COMMANDS

    def close(self) -> None:
        if self._app is not None:
            self._app.close()


pass_ctx = click.make_pass_decorator(Context)


DB_HELP = ("The log's SQLite file, or a PostgreSQL database as postgresql://... (default: "
           "$ICTINDEX_DB, else ./ictindex.db); also accepted after the command.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ictindex", message="ictindex %(version)s")
@click.option("--db", type=click.Path(dir_okay=False), default=None, help=DB_HELP)
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Reproducible ICT Index rankings from an append-only, tamper-evident event log."""
    c = Context(db or default_db_path(), db_given=db is not None)
    ctx.obj = c
    ctx.call_on_close(c.close)


def actor_option(f):
    return click.option("--actor", default=None,
                        help="Who records this (default: $ICTINDEX_ACTOR, else the login name).")(f)


def after_publication_options(f):
    f = click.option("--authority", default="",
                     help="The decision or letter that accepts the values (with --reason).")(f)
    f = click.option("--reason", default="",
                     help="Why values come in after the year and tier were published, or "
                          "again after a retraction (required then, as for a correction).")(f)
    return f


def input_options(f):
    f = click.option("--delimiter", type=click.Choice([",", ";", "tab"]), default=",",
                     show_default=True, help="CSV column separator.")(f)
    f = click.option("--decimal-comma", is_flag=True,
                     help="Values use a decimal comma (0,75); needs --delimiter ';' or tab.")(f)
    return f


def reader_options(delimiter: str, decimal_comma: bool, sheet: str | None = None) -> dict:
    options = {"delimiter": "\t" if delimiter == "tab" else delimiter, "decimal_comma": decimal_comma}
    if sheet is not None:
        options["sheet"] = sheet
    return options


def _db_after_command(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value is not None:
        c = ctx.find_object(Context)
        c.db, c.db_given = value, True


def accept_db_after(command: click.Command) -> None:
    """Let `--db` also follow the command's name (`ictindex rank --db X.db ...`), for this
    command and every subcommand of a group: the same option, setting the same context.
    Hidden: `ictindex --help` documents it once, for every command."""
    if not any(p.name == "db" for p in command.params):
        command.params.append(click.Option(["--db"], type=click.Path(dir_okay=False),
                                           default=None, expose_value=False, hidden=True,
                                           callback=_db_after_command, help=DB_HELP))
    for sub in getattr(command, "commands", {}).values():
        accept_db_after(sub)


def build_cli() -> click.Group:
    """The command group with every command: the built-in command modules' and the installed
    plugins', all added through `register_commands`, each taking `--db` after its name too."""
    from plugins.manager import add_plugin_commands

    add_plugin_commands(cli)
    for command in cli.commands.values():
        accept_db_after(command)
    return cli


def main() -> None:
    try:
        build_cli()(prog_name="ictindex")
    except BrokenPipeError:
        # The reader stopped reading (`ictindex log | head -1`): stop quietly, as the Python
        # docs recommend, pointing stdout at devnull so the flush at exit cannot fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
