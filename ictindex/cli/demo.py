"""`ictindex demo`: every job of the tool, on the Bà Rịa–Vũng Tàu 2020 sample."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from engine.explain import render_text
from engine.diff import render_diff_text
from engine.result import Ranking
from plugins import hookimpl
from ictindex import output
from ictindex.app import Ictindex
from ictindex.cli import handle_errors
from ictindex.sample import CORRECTION, DECISION, PUBLISHED, YEAR, build_sample

TIER_TITLES = {
    "department": "Sở, ban, ngành (departments), of 100 points",
    "district": "UBND cấp huyện (districts), of 100 points",
    "commune": "UBND cấp xã (communes), of 90 points",
}


def _heading(text: str) -> None:
    click.echo("")
    click.secho(text, bold=True)
    click.echo("=" * len(text))


def _name(units: dict, row) -> str:
    """Communes carry their district, as the published table writes them."""
    parent = units.get(row.parent_id) if row.parent_id else None
    if parent is None:
        return row.name
    short = parent.name.removeprefix("UBND ")
    for kind in ("thành phố ", "thị xã ", "huyện "):
        short = short.removeprefix(kind)
    return f"{row.name} ({short})"


def _top_and_bottom(units: dict, ranking: Ranking, n: int = 5) -> str:
    rows = list(ranking.rows)
    shown = rows if len(rows) <= 2 * n else rows[:n] + [None] + rows[-n:]
    table = []
    for r in shown:
        if r is None:
            table.append(("…", "", f"({len(rows) - 2 * n} more)", "", ""))
        else:
            table.append((r.rank, r.unit_id, _name(units, r), r.total, r.band or ""))
    return output.table(["rank", "unit", "name", "points", "band"], table, right=[0, 3])


@click.command()
@click.pass_context
@handle_errors
def demo(ctx: click.Context) -> None:
    """Build the BR-VT 2020 sample log and show every job of the tool on it.

    Uses the file given with --db (which must be empty or new), else a temporary one.
    """
    db = ctx.obj.db if ctx.obj.db_given else None
    with tempfile.TemporaryDirectory() as tmp:
        # a database URL (postgresql://...) is not a path: Path() would fold its "//"
        path = (db if "://" in db else Path(db)) if db else Path(tmp) / "brvt-2020.db"
        with Ictindex.open(path) as app:
            run_demo(app, path, kept=bool(db))


def run_demo(app: Ictindex, path: Path, *, kept: bool = True) -> None:
    info = build_sample(app)
    click.echo(f"Sample log: {path} — {app.store.last_seq()} events: 109 units of Bà Rịa–Vũng Tàu, "
               f"the adoption of local-ict@2020, every unit's indicator values (illustrative), "
               f"the publication ({DECISION}) and one correction after it.")

    units = app.state().year_state(YEAR).units
    _heading(f"1. The published rankings of {YEAR}, replayed from the log (as of the publication)")
    for tier in ("department", "district", "commune"):
        ranking = app.rank(YEAR, tier, as_of="published").ranking
        first_id, first, last_id, last = PUBLISHED[tier]
        click.echo(f"\n{TIER_TITLES[tier]} — {len(ranking.rows)} units")
        click.echo(_top_and_bottom(units, ranking))
        ok = ranking.rows[0].unit_id == first_id and str(ranking.rows[0].total) == first \
            and ranking.rows[-1].unit_id == last_id and str(ranking.rows[-1].total) == last
        click.echo(f"published by {DECISION}: first {_name(units, ranking.rows[0])} {first}, "
                   f"last {_name(units, ranking.rows[-1])} {last} — "
                   f"{'reproduced exactly' if ok else 'NOT REPRODUCED'}")

    _heading("2. How was Đất Đỏ's 84.03 derived?  (ictindex explain 753 --year 2020 --as-of published)")
    text = render_text(app.explain("753", YEAR, as_of="published"))
    lines = text.rstrip("\n").splitlines()
    cut = next((i for i, line in enumerate(lines) if line.startswith("  UD ")), len(lines))
    click.echo("\n".join(lines[:cut]))
    if cut < len(lines):
        click.echo(f"  … {len(lines) - cut} more lines: the other seven components, down to every event")

    _heading("3. After the publication: a commune's correction  (ictindex diff --from published)")
    correction = app.event(info["correction"])
    click.echo(f"#{correction.seq} by {correction.actor} on {correction.recorded_at:%Y-%m-%d}: "
               f"{CORRECTION['indicator']} of {CORRECTION['unit_id']} corrected "
               f"(#{info['corrected_submission']}) → {output.cell(correction.payload.value)}")
    click.echo(f"  reason: {correction.payload.reason}")
    click.echo(f"  authority: {correction.payload.authority}")
    d = app.diff(YEAR, "commune", old="published", new="now")
    click.echo(render_diff_text(d).rstrip("\n"))

    _heading("4. Verify: every hash recomputed, every publication re-derived  (ictindex verify)")
    # the checkpoint the decision names: the log right after its (last) publication event
    published_cp = app.decision_checkpoint(DECISION, YEAR)
    verification = app.verify(published_cp)
    click.echo(str(verification.log))
    for p in verification.publications:
        click.echo(f"publication #{p.seq} ({p.decision}, {p.year} {p.tier}): "
                   f"{'reproduces its result hash ' + p.result_hash[:16] + '…' if p.ok else 'DOES NOT reproduce: ' + p.reason}")
    click.echo(f"\nCheckpoint to publish now: {app.store.checkpoint()}")
    where = f"--db {path}" if kept else "--db brvt-2020.db"
    click.echo(f"Anyone holding the published checkpoint {published_cp.size}:{published_cp.root[:16]}… "
               "can check that the log still extends it:\n"
               f"  ictindex {where} verify --checkpoint {published_cp}")
    if not kept:
        click.echo("(This log was temporary: `ictindex --db brvt-2020.db demo` keeps it to explore.)")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (demo,):
        cli.add_command(command)
