"""The `ictindex` command: a thin layer over `plugins.app.Ictindex`.

Commands that write check everything first and append one atomic batch; commands that print a
table can print JSON (`--format json`).  Errors go to stderr without a traceback and exit 2.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path

import click
from msgspec import UNSET

from events.inputs import InputErrors
from events.interface import ConcurrencyError, EventNotFound, store_problem
from plugins import output
from plugins.app import Ictindex, default_db_path
from plugins.errors import Refused
from plugins.manager import PluginError

FORMATS = click.Choice(["table", "json"])
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
    "methodologies", "plugins", "projections check",
})


class Context:
    def __init__(self, db: str) -> None:
        self.db = db
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ictindex", message="ictindex %(version)s")
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="The log's SQLite file (default: $ICTINDEX_DB, else ./ictindex.db).")
@click.pass_context
def cli(ctx: click.Context, db: str | None) -> None:
    """Reproducible ICT Index rankings from an append-only, tamper-evident event log."""
    c = Context(db or default_db_path())
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


def _reader_options(delimiter: str, decimal_comma: bool, sheet: str | None = None) -> dict:
    options = {"delimiter": "\t" if delimiter == "tab" else delimiter, "decimal_comma": decimal_comma}
    if sheet is not None:
        options["sheet"] = sheet
    return options


@cli.command()
@pass_ctx
@handle_errors
def init(c: Context) -> None:
    """Create the log (an empty SQLite file) if it does not exist."""
    existed = Path(c.db).exists()
    size = c.app.store.last_seq()
    click.echo(f"{'Opened' if existed else 'Created'} {c.db} ({size} events)")


@cli.group()
def units() -> None:
    """Register the units that are ranked."""


@units.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@actor_option
@input_options
@click.option("--sheet", default=None, help="XLSX: the sheet to read (needed with several).")
@pass_ctx
@handle_errors
def units_import(c: Context, file: str, actor: str | None, delimiter: str, decimal_comma: bool,
                 sheet: str | None) -> None:
    """Register units from a CSV or XLSX file: unit_id, tier, name, parent_id[, from_year].

    Every row is checked first, with the hierarchy (communes under districts, departments
    without a parent, no cycles) against the units already in the log; all errors are listed
    as FILE:ROW:COLUMN: message and nothing is recorded.
    """
    options = {"delimiter": "\t" if delimiter == "tab" else delimiter}
    if sheet is not None:
        options["sheet"] = sheet
    events = c.app.import_units(file, actor=actor, **options)
    click.echo(f"Registered {len(events)} unit(s) from {file}" + _range(events))


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@actor_option
@input_options
@click.option("--sheet", default=None, help="XLSX: the sheet to read (needed with several).")
@after_publication_options
@pass_ctx
@handle_errors
def import_(c: Context, file: str, actor: str | None, delimiter: str, decimal_comma: bool,
            sheet: str | None, reason: str, authority: str) -> None:
    """Record the submissions of a CSV or XLSX file, all or nothing.

    Columns: year, unit_id, indicator, value[, evidence, note].  Every row is checked first;
    errors are listed as FILE:ROW:COLUMN: message and nothing is recorded.
    """
    events = c.app.import_submissions(file, actor=actor, reason=reason, authority=authority,
                                      **_reader_options(delimiter, decimal_comma, sheet))
    click.echo(f"Recorded {len(events)} submission(s) from {file}" + _range(events))


def _range(events) -> str:
    if not events:
        return " (nothing new: all already recorded)"
    return f" (seq {events[0].seq}–{events[-1].seq})" if len(events) > 1 else f" (seq {events[0].seq})"


@cli.command()
@click.option("--year", type=YEAR, required=True)
@click.argument("unit")
@click.argument("indicator")
@click.argument("value")
@click.option("--evidence", default="", help="Document number and date, e.g. '45/BC-UBND 02/03/2021'.")
@click.option("--note", default="")
@click.option("--decimal-comma", is_flag=True, help="VALUE uses a decimal comma.")
@after_publication_options
@actor_option
@pass_ctx
@handle_errors
def submit(c: Context, year: int, unit: str, indicator: str, value: str, evidence: str, note: str,
           decimal_comma: bool, reason: str, authority: str, actor: str | None) -> None:
    """Record one indicator value of UNIT for a year."""
    event = c.app.submit(year, unit, indicator, value, evidence=evidence, note=note, actor=actor,
                         decimal_comma=decimal_comma, reason=reason, authority=authority)
    if event is None:
        click.echo("Already recorded: nothing new.")
    else:
        click.echo(f"Recorded #{event.seq} {event.event_id}")


@cli.command()
@click.argument("event")
@click.argument("value")
@click.option("--reason", required=True, help="Why the value changes.")
@click.option("--authority", default="", help="The decision or letter that accepts it.")
@click.option("--decimal-comma", is_flag=True, help="VALUE uses a decimal comma.")
@actor_option
@pass_ctx
@handle_errors
def correct(c: Context, event: str, value: str, reason: str, authority: str, decimal_comma: bool,
            actor: str | None) -> None:
    """Correct the submission EVENT (a seq or an event id) to VALUE."""
    e = c.app.correct(event, value, reason=reason, authority=authority, actor=actor,
                      decimal_comma=decimal_comma)
    click.echo(f"Recorded correction #{e.seq} {e.event_id} of #{c.app.event(e.payload.corrects).seq}")


@cli.command()
@click.argument("event")
@click.option("--reason", required=True)
@click.option("--authority", default="")
@actor_option
@pass_ctx
@handle_errors
def retract(c: Context, event: str, reason: str, authority: str, actor: str | None) -> None:
    """Withdraw the submission or correction EVENT (a seq or an event id)."""
    e = c.app.retract(event, reason=reason, authority=authority, actor=actor)
    click.echo(f"Recorded retraction #{e.seq} {e.event_id} of #{c.app.event(e.payload.retracts).seq}")


@cli.command()
@click.option("--year", type=YEAR, default=None)
@click.option("--unit", default=None)
@click.option("--indicator", default=None)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def log(c: Context, year: int | None, unit: str | None, indicator: str | None, fmt: str) -> None:
    """List events, oldest first."""
    events = list(c.app.store.read(year=year, unit_id=unit, indicator=indicator))
    if fmt == "json":
        click.echo(output.to_json(events))
        return
    rows = [(e.seq, e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), e.actor,
             type(e.payload).__struct_config__.tag, _summary(e.payload)) for e in events]
    click.echo(output.table(["seq", "recorded (UTC)", "actor", "type", "what"], rows, right=[0]))


def _summary(p) -> str:
    parts = []
    for name in ("year", "tier", "unit_id", "indicator", "name", "edition", "value", "corrects",
                 "retracts", "reason", "evidence", "decision"):
        v = getattr(p, name, None)
        if v not in (None, "") and v is not UNSET:
            text = output.cell(getattr(v, "choice", v))
            parts.append(f"{name}={text if len(text) <= 60 else text[:59] + '…'}")
    return " ".join(parts)


from plugins import cli_log as _cli_log  # noqa: E402  (registers checkpoint/verify/prove)
from plugins import cli_editions as _cli_editions  # noqa: E402
from plugins import cli_replay as _cli_replay  # noqa: E402
from plugins import demo as _demo  # noqa: E402
from plugins import cli_publish as _cli_publish  # noqa: E402  (export, site)
from plugins import cli_bench as _cli_bench  # noqa: E402  (bench, projections)
from plugins import cli_analysis as _cli_analysis  # noqa: E402  (whatif, robustness)
from plugins import cli_tlog as _cli_tlog  # noqa: E402  (key generate, tiles)


def build_cli() -> click.Group:
    """The command group with the commands plugins add through `register_commands`."""
    from plugins.manager import add_plugin_commands

    add_plugin_commands(cli)
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
