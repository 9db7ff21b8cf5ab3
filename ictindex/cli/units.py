"""Units that change: `units rename`, `retire`, `merge`, `split` and `units list`.

This plugin registers the `units` group: the group and its `units import` are defined with the
other importers in `ictindex.cli.record`, the commands here are added to it.
Every change is checked first (`ictindex.units`) and recorded as one event, or refused with
`Error: ...` and nothing recorded.
"""

from __future__ import annotations

import click

from events.types import TIERS
from ictindex import output
from ictindex.cli import YEAR, Context, actor_option, handle_errors, pass_ctx
from ictindex.cli.record import units as units_group
from plugins import hookimpl

DATE = click.DateTime(formats=["%Y-%m-%d", "%d/%m/%Y"])
TIER = click.Choice(list(TIERS))


def change_options(f):
    """When a change takes effect, why, and by which decision (all required)."""
    f = click.option("--authority", "--decision", "authority", required=True,
                     help="The decision, e.g. 'Nghị quyết 1656/NQ-UBTVQH15'.")(f)
    f = click.option("--reason", required=True, help="Why the unit changes.")(f)
    f = click.option("--date", "date", type=DATE, required=True,
                     help="The day the change takes effect (YYYY-MM-DD); it counts from that "
                          "day's year on.")(f)
    return actor_option(f)


def _recorded(event) -> None:
    click.echo(f"Recorded #{event.seq} {event.event_id}")


@click.command("rename")
@click.argument("unit")
@click.argument("name")
@change_options
@pass_ctx
@handle_errors
def rename(c: Context, unit: str, name: str, date, reason: str, authority: str,
           actor: str | None) -> None:
    """UNIT (an id or a name) carries NAME from --date on."""
    _recorded(c.app.rename_unit(unit, name, date=date.date(), reason=reason,
                                authority=authority, actor=actor))


@click.command("retire")
@click.argument("unit")
@change_options
@pass_ctx
@handle_errors
def retire(c: Context, unit: str, date, reason: str, authority: str, actor: str | None) -> None:
    """UNIT ceases to exist on --date (abolished); it is ranked up to the year before."""
    _recorded(c.app.retire_unit(unit, date=date.date(), reason=reason, authority=authority,
                                actor=actor))


@click.command("merge")
@click.argument("units", nargs=-1, required=True)
@click.option("--into", "into", required=True,
              help="The unit they make: a new unit id (with --name), or one of UNITS.")
@click.option("--name", default=None, help="The merged unit's name (required for a new unit).")
@click.option("--tier", type=TIER, default=None,
              help="The merged unit's tier: that of the units merged (checked).")
@change_options
@pass_ctx
@handle_errors
def merge(c: Context, units: tuple[str, ...], into: str, name: str | None, tier: str | None,
          date, reason: str, authority: str, actor: str | None) -> None:
    """UNITS (ids or names) merge into --into on --date, by --decision."""
    _recorded(c.app.merge_units(units, into, date=date.date(), reason=reason,
                                authority=authority, name=name, tier=tier, actor=actor))


@click.command("split")
@click.argument("unit")
@click.option("--into", "parts", multiple=True, required=True,
              help="A unit it makes, as ID:Name (repeat for each; UNIT's own id keeps it going).")
@change_options
@pass_ctx
@handle_errors
def split(c: Context, unit: str, parts: tuple[str, ...], date, reason: str, authority: str,
          actor: str | None) -> None:
    """UNIT splits into the --into units on --date."""
    _recorded(c.app.split_unit(unit, parts, date=date.date(), reason=reason,
                               authority=authority, actor=actor))


@click.command("list")
@click.option("--year", type=YEAR, default=None,
              help="The units of that year, as they were (else every unit, as it is now).")
@click.option("--tier", type=TIER, default=None)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table",
              show_default=True)
@pass_ctx
@handle_errors
def list_(c: Context, year: int | None, tier: str | None, fmt: str) -> None:
    """The units, by id: tier, name, parent, first and last year, what they merged into."""
    rows = c.app.list_units(year=year, tier=tier)
    headers = ["unit_id", "tier", "name", "parent_id", "from_year", "last_year", "merged_into"]
    table = [(r.unit_id, r.tier, r.name, r.parent_id, r.from_year, r.last_year, r.merged_into)
             for r in rows]
    if fmt == "json":
        click.echo(output.to_json([dict(zip(headers, row)) for row in table]))
    elif fmt == "csv":
        click.echo(output.to_csv(headers, table), nl=False)
    else:
        click.echo(output.table(headers, table))


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (rename, retire, merge, split, list_):
        units_group.add_command(command)
    cli.add_command(units_group)
