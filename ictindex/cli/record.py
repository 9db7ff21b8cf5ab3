"""Recording: init, units import, import, submit, correct, retract, and the log's listing."""

from __future__ import annotations

from pathlib import Path

import click
from msgspec import UNSET

from events.types import PAYLOAD_TAGS, TIERS
from ictindex import output
from ictindex.cli import (FORMATS_CSV, YEAR, Context, actor_option, after_publication_options, handle_errors,
                          input_options, pass_ctx, reader_options)
from plugins import hookimpl


@click.command()
@click.option("--writer-role", default=None, metavar="NAME",
              help="PostgreSQL: also set up the role NAME (created if missing) that may read "
                   "and append to the log and nothing else (SELECT, INSERT; no UPDATE, "
                   "DELETE or TRUNCATE).")
@pass_ctx
@handle_errors
def init(c: Context, writer_role: str | None) -> None:
    """Create the log (an empty SQLite file, or the schema in a PostgreSQL database) if it
    does not exist."""
    url = "://" in c.db
    existed = not url and Path(c.db).exists()
    size = c.app.store.last_seq()
    name = f"the database {c.app.store.name}" if url else c.db
    click.echo(f"{'Opened' if existed or (url and size) else 'Created'} {name} ({size} events)")
    if writer_role is not None:
        created = c.app.grant_writer(writer_role)
        click.echo(f"Role {writer_role} {'created' if created else 'updated'}: it may read and "
                   "append to the log (SELECT, INSERT), never UPDATE, DELETE or TRUNCATE it")


@click.group()
def units() -> None:
    """Register the units that are ranked, and record how they change."""


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


@click.command("import")
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
    events = c.app.import_file(file, actor=actor, reason=reason, authority=authority,
                               **reader_options(delimiter, decimal_comma, sheet))
    click.echo(f"Recorded {len(events)} submission(s) from {file}" + _range(events))


@click.command()
@click.option("--year", type=YEAR, required=True)
@click.option("--tier", type=click.Choice(list(TIERS)), required=True)
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@pass_ctx
@handle_errors
def template(c: Context, year: int, tier: str, file: str) -> None:
    """Write the sheet the units fill in (FILE.xlsx or FILE.csv): Vietnamese headers, one
    row per unit × indicator of the edition adopted for YEAR and TIER, with the indicator's
    name, unit and allowed values, and an empty value column; `ictindex import` reads it back.
    """
    t = c.app.template(year, tier, file)
    click.echo(f"Wrote {t.path}: {t.rows} rows ({t.units} units × {t.indicators} indicators "
               f"of {t.edition}); fill in the column Giá trị, then `ictindex import {t.path}`")


def _range(events) -> str:
    if not events:
        return " (nothing new: all already recorded)"
    return f" (seq {events[0].seq}–{events[-1].seq})" if len(events) > 1 else f" (seq {events[0].seq})"


@click.command()
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


@click.command()
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


@click.command()
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


@click.command()
@click.option("--year", type=YEAR, default=None)
@click.option("--unit", default=None, help="Only the events of this unit (its id).")
@click.option("--indicator", default=None)
@click.option("--since", default=None, metavar="POINT",
              help="Only the events after this point: a seq, a date or UTC time, or "
                   "published (the latest publication event of --year).")
@click.option("--until", default=None, metavar="POINT",
              help="Only the events up to this as-of point (as --since).")
@click.option("--type", "types", multiple=True, type=click.Choice(sorted(PAYLOAD_TAGS.values())),
              help="Only the events of this type (repeatable).")
@click.option("--limit", type=click.IntRange(0), default=None, help="At most this many events.")
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@pass_ctx
@handle_errors
def log(c: Context, year: int | None, unit: str | None, indicator: str | None, since: str | None,
        until: str | None, types: tuple[str, ...], limit: int | None, fmt: str) -> None:
    """List events, oldest first (--since and --until: after one point, up to another)."""
    events = list(c.app.log(year=year, unit_id=unit, indicator=indicator, since=since,
                            until=until, types=types, limit=limit))
    if fmt == "json":
        click.echo(output.to_json(events))
        return
    rows = [(e.seq, e.recorded_at.strftime("%Y-%m-%d %H:%M:%S"), e.actor,
             type(e.payload).__struct_config__.tag, _summary(e.payload)) for e in events]
    headers = ["seq", "recorded (UTC)", "actor", "type", "what"]
    if fmt == "csv":
        click.echo(output.to_csv(headers, rows), nl=False)
        return
    click.echo(output.table(headers, rows, right=[0]))


def _summary(p) -> str:
    parts = []
    for name in ("year", "tier", "unit_id", "indicator", "name", "edition", "value", "corrects",
                 "retracts", "reason", "evidence", "decision"):
        v = getattr(p, name, None)
        if v not in (None, "") and v is not UNSET:
            text = output.cell(getattr(v, "choice", v))
            parts.append(f"{name}={text if len(text) <= 60 else text[:59] + '…'}")
    return " ".join(parts)


@hookimpl
def register_commands(cli: click.Group) -> None:
    # `units` (with its `import` here) is registered by ictindex.cli.units, with its changes
    for command in (init, import_, template, submit, correct, retract, log):
        cli.add_command(command)
