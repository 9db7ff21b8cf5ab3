"""`plugins`, `methodologies` and `adopt`: what is installed, and which edition scores a year."""

from __future__ import annotations

import textwrap

import click

from plugins import hookimpl
from ictindex import output
from ictindex.cli import FORMATS, FORMATS_CSV, YEAR, Context, actor_option, handle_errors, pass_ctx
from plugins.manager import ENV_VAR, get_registry, list_methodologies, list_plugin_status, show_methodology


@click.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@handle_errors
def plugins(fmt: str) -> None:
    """List the plugins: name, distribution and version, status, hooks and what each registers.

    A broken plugin is listed with its problem (it is left out: its editions are unavailable);
    an installed plugin that ICTINDEX_LOAD_PLUGINS keeps out is listed as filtered."""
    registry = get_registry()
    rows = list_plugin_status(registry)
    if fmt == "json":
        click.echo(output.to_json(rows))
        return
    click.echo(output.table(
        ["plugin", "distribution", "version", "status", "hooks", "registers"],
        [(p["name"], p["distribution"] or "", p["version"] or "", _status(p), ", ".join(p["hooks"]),
          ", ".join(p["editions"] + p["rule_kinds"]))
         for p in rows]))
    for p in rows:
        for problem in p["problems"]:
            click.echo(f"\n{p['name']} ({p['distribution'] or 'no distribution'}) is left out:")
            click.echo(textwrap.indent(problem, "  "))
    listed = {problem for p in rows for problem in p["problems"]}
    for problem in registry.problems:
        if problem not in listed:
            click.echo(f"\n{problem}")


def _status(row: dict) -> str:
    if row["status"] == "filtered":
        return f"filtered out by {ENV_VAR}"
    return "built-in" if row["builtin"] and row["status"] == "loaded" else row["status"]


@click.group(invoke_without_command=True)
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@click.pass_context
@handle_errors
def methodologies(ctx: click.Context, fmt: str) -> None:
    """List the installed methodology editions (`methodologies show EDITION` for one)."""
    if ctx.invoked_subcommand is not None:
        return
    rows = list_methodologies()
    if fmt == "json":
        click.echo(output.to_json(rows))
        return
    lines = []
    for m in rows:
        tiers = "; ".join(f"{name} {t['scale']} ({len(t['components'])} components)"
                          for name, t in m["tiers"].items())
        lines.append((m["id"], m["title"], tiers, m["hash"] if fmt == "csv" else m["hash"][:12]))
    if fmt == "csv":
        click.echo(output.to_csv(["edition", "title", "tiers", "hash"], lines), nl=False)
        return
    click.echo(output.table(["edition", "title", "tiers", "hash"], lines))


@methodologies.command("show")
@click.argument("edition")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@handle_errors
def methodologies_show(edition: str, fmt: str) -> None:
    """The full criteria table of EDITION."""
    m = show_methodology(edition)
    if fmt == "json":
        click.echo(output.to_json(m))
        return
    basis = m["legal_basis"]
    click.echo(f"{m['id']}: {m['title']}")
    click.echo(f"legal basis: {basis.get('kind')} {basis.get('reference')} {basis.get('date') or ''}".rstrip())
    if basis.get("note"):
        click.echo(f"  {basis['note']}")
    click.echo(f"content hash: {m['hash']}")
    click.echo(f"rounding: {m['rounding']['decimals']} decimals, {m['rounding']['mode']}, "
               f"on {m['rounding']['applies_to']}; ties: {m['ties']['method']}")
    for name, tier in m["tiers"].items():
        click.echo(f"\n[{name}] scale {tier['scale']} ({tier['aggregate']}), missing data: {tier['missing']}")
        rows = []
        for comp in tier["components"]:
            rows.append((comp["code"], comp["name_vi"], "", "", comp["max"]))
            for cr in comp["criteria"]:
                rows.append(("  " + cr["code"], "  " + cr["name_vi"], cr["rule"],
                             ", ".join(cr["indicators"]), cr["max"]))
        click.echo(output.table(["code", "name", "rule", "indicators", "max"], rows, right=[4]))
    click.echo("\nindicators")
    click.echo(output.table(["code", "name", "type", "unit", "range", "allowed values"],
                            [(i["code"], i["name_vi"], i["type"], i["unit"], i["range"],
                              i["allowed"]) for i in m["indicators"]]))


@click.command()
@click.argument("edition")
@click.option("--year", type=YEAR, required=True)
@click.option("--tier", "tiers", multiple=True,
              help="Tier to adopt it for (repeatable; default: every tier of the edition).")
@click.option("--reason", default="",
              help="Why a tier that already has an edition changes it (required then).")
@click.option("--authority", default="",
              help="The decision that changes the edition (required with a re-adoption).")
@click.option("--dry-run", is_flag=True,
              help="Only print what the re-adoption would change; record nothing.")
@actor_option
@pass_ctx
@handle_errors
def adopt(c: Context, edition: str, year: int, tiers: tuple[str, ...], reason: str,
          authority: str, dry_run: bool, actor: str | None) -> None:
    """Record that YEAR is scored with EDITION (with the edition's content hash).

    Changing the edition of a tier that already has one prints the diff it causes first.
    """
    from engine.diff import render_diff_text

    state = c.app.state()
    planned = c.app.adoption_payloads(state, edition, year, tiers, reason=reason,
                                      authority=authority, dry_run=dry_run)
    ys = state.year_state(year)
    for p in planned:
        if ys.adoption(p.tier) is not None:
            d = c.app.readoption_diff(year, p.tier, edition, state=state)
            click.echo(render_diff_text(d).rstrip("\n"))
    if dry_run:
        if not planned:
            click.echo(f"{edition} is already adopted for {year}: nothing would change.")
        for p in planned:
            click.echo(f"Would record: {p.year} {p.tier} adopts {p.edition} "
                       f"({p.content_hash[:12]}…); nothing was recorded (--dry-run)")
        return
    events = c.app.adopt(edition, year, tiers, actor=actor, reason=reason, authority=authority)
    if not events:
        click.echo(f"{edition} is already adopted for {year}: nothing new.")
    for e in events:
        p = e.payload
        click.echo(f"Recorded #{e.seq}: {p.year} {p.tier} adopts {p.edition} ({p.content_hash[:12]}…)")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (plugins, methodologies, adopt):
        cli.add_command(command)
