"""`plugins`, `methodologies` and `adopt`: what is installed, and which edition scores a year."""

from __future__ import annotations

import click

from plugins import output
from plugins.cli import FORMATS, YEAR, Context, actor_option, cli, handle_errors, pass_ctx
from plugins.manager import list_methodologies, list_plugins, show_methodology


@cli.command()
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@handle_errors
def plugins(fmt: str) -> None:
    """List the plugins loaded: name, version, hooks and what each registers."""
    rows = list_plugins()
    if fmt == "json":
        click.echo(output.to_json(rows))
        return
    click.echo(output.table(
        ["plugin", "version", "hooks", "registers"],
        [(p["name"], p["version"] or "", ", ".join(p["hooks"]),
          ", ".join(p["editions"] + p["rule_kinds"]) + (" PROBLEM: " + "; ".join(p["problems"]) if p["problems"] else ""))
         for p in rows]))


@cli.group(invoke_without_command=True)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
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
        lines.append((m["id"], m["title"], tiers, m["hash"][:12]))
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


@cli.command()
@click.argument("edition")
@click.option("--year", type=YEAR, required=True)
@click.option("--tier", "tiers", multiple=True,
              help="Tier to adopt it for (repeatable; default: every tier of the edition).")
@actor_option
@pass_ctx
@handle_errors
def adopt(c: Context, edition: str, year: int, tiers: tuple[str, ...], actor: str | None) -> None:
    """Record that YEAR is scored with EDITION (with the edition's content hash)."""
    events = c.app.adopt(edition, year, tiers, actor=actor)
    if not events:
        click.echo(f"{edition} is already adopted for {year}: nothing new.")
    for e in events:
        p = e.payload
        click.echo(f"Recorded #{e.seq}: {p.year} {p.tier} adopts {p.edition} ({p.content_hash[:12]}…)")
