"""`ictindex bench` and `ictindex projections rebuild|drop|check`."""

from __future__ import annotations

import sys

import click

from plugins import hookimpl
from ictindex import output
from ictindex.cli import FORMATS, Context, handle_errors, pass_ctx
from ictindex.errors import UsageError


@click.command()
@click.option("--units", type=click.IntRange(3), default=1000, show_default=True)
@click.option("--indicators", type=click.IntRange(1), default=None,
              help="Submit only the first K indicators of the edition (default: all 42).")
@click.option("--years", type=click.IntRange(1), default=1, show_default=True)
@click.option("--corrections", type=click.FloatRange(0, 0.5), default=0.05, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--repeat", type=click.IntRange(1), default=3, show_default=True)
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--store", default=None, metavar="URL",
              help="Instead: compare a PostgreSQL server (postgresql://...; the bench creates "
                   "and drops scratch databases there) with SQLite: import, cold replay, "
                   "8 concurrent writers.")
@handle_errors
def bench(units: int, indicators: int | None, years: int, corrections: float, seed: int,
          repeat: int, fmt: str, store: str | None) -> None:
    """Build a synthetic log in a temporary folder and time each phase next to its floor."""
    from ictindex import progress

    if store is not None:
        from ictindex.bench.stores import format_store_table, run_store_bench
        from ictindex.bench.bench import to_json

        if not store.startswith(("postgresql://", "postgres://")):
            raise UsageError("--store takes a PostgreSQL URL (postgresql://...)")
        with progress.bar(3, label="bench") as b:
            def step(message: str) -> None:
                b.label(f"bench: {message}")
                b.update(1)

            report = run_store_bench(store, units=units, repeat=repeat, seed=seed,
                                     progress=step)
        click.echo(to_json(report) if fmt == "json" else format_store_table(report))
        return
    from ictindex.bench.bench import format_table, run_bench, to_json

    steps = ["import floor", "cold replay", "projections", "one correction", "explain",
             "verify", "peak memory", "one-year", "robustness of the year",
             "robustness of a province's communes"]
    with progress.bar(len(steps) + years * 4 + 1, label="bench") as b:
        def report_progress(message: str) -> None:
            b.label(f"bench: {message}")
            b.update(1)

        report = run_bench(units=units, indicators=indicators, years=years,
                           corrections=corrections, seed=seed, repeat=repeat,
                           progress=report_progress)
    click.echo(to_json(report) if fmt == "json" else format_table(report))


@click.group()
def projections() -> None:
    """Derived tables (current values, points, totals, ranks) kept beside the log."""


@projections.command("rebuild")
@pass_ctx
@handle_errors
def projections_rebuild(c: Context) -> None:
    """Drop and rebuild the projections from a full replay of every year."""
    counts = c.app.rebuild_projections()
    click.echo(f"projections rebuilt: {counts['years']} year(s), {counts['tiers']} tier(s), "
               f"{counts['units']} ranked unit(s), up to event #{c.app.store.last_seq()}")


@projections.command("drop")
@pass_ctx
@handle_errors
def projections_drop(c: Context) -> None:
    """Drop the projection tables (the log is untouched)."""
    c.app.drop_projections()
    click.echo("projections dropped")


@projections.command("check")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def projections_check(c: Context, fmt: str) -> None:
    """Compare the projections with a full replay (exit status 1 when they differ)."""
    result = c.app.check_projections()
    if fmt == "json":
        click.echo(output.to_json(result))
    else:
        click.echo(describe(result))
    if not result.ok:
        sys.exit(1)


def describe(result) -> str:
    if not result.present:
        return "projections: none (build them with `ictindex projections rebuild`)"
    if result.ok:
        return f"projections: match a full replay ({result.checked} ranked units, up to #{result.last_seq})"
    return "projections: DO NOT match a full replay: " + "; ".join(result.problems)


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (bench, projections):
        cli.add_command(command)
