"""`rank`, `explain`, `diff` and `publish`: replaying the log through an edition."""

from __future__ import annotations

import datetime as dt

import click

from engine.asof import parse_as_of
from engine.diff import render_diff_text
from engine.explain import render_text
from engine.result import Ranking, result_hash
from engine.score import missing_inputs
from events.note import sign_checkpoint
from events.types import TIERS
from plugins import hookimpl
from ictindex import output, replay
from ictindex.cli.tlog import load_signer
from ictindex.errors import UsageError
from ictindex.cli import FORMATS, FORMATS_CSV, YEAR, Context, actor_option, handle_errors, pass_ctx

TIER = click.Choice(list(TIERS))


def replay_options(f):
    f = click.option("--allow-changed-edition", is_flag=True,
                     help="Replay even though the installed edition's content differs from the "
                          "one adopted (its content hash changed).")(f)
    f = click.option("--edition", default=None,
                     help="Score with this edition instead of the adopted one (a what-if; "
                          "nothing is written).")(f)
    return f


def ranking_rows(ranking: Ranking, codes: list[str] | None = None) -> tuple[list[str], list[tuple]]:
    """Table headers and rows; `codes` gives the edition's component order (else as stored)."""
    if codes is None:
        codes = list(dict.fromkeys(code for r in ranking.rows for code in r.components))
    headers = ["rank", "unit_id", "name", *codes, "total"]
    rows = [(r.rank, r.unit_id, r.name, *(r.components.get(c) for c in codes), r.total)
            for r in ranking.rows]
    return headers, rows


def ranking_json(ranking: Ranking) -> dict:
    p = ranking.provenance
    return {
        "year": ranking.year,
        "tier": ranking.tier,
        "edition": p.edition,
        "edition_hash": p.content_hash,
        "engine_version": p.engine_version,
        "plugin": p.plugin,
        "plugin_version": p.plugin_version,
        "rule_kinds": p.rule_kinds,
        "checkpoint": {"size": p.checkpoint_size, "root": p.checkpoint_root},
        "as_of": p.as_of,
        "scale": ranking.scale,
        "decimals": ranking.decimals,
        "tie_rule": ranking.tie_rule,
        "rows": [{"rank": r.rank, "unit_id": r.unit_id, "name": r.name, "total": r.total,
                  "total_exact": r.total_exact, "band": r.band, "group": r.group,
                  "components": r.components} for r in ranking.rows],
        "excluded": ranking.excluded,
    }


@click.command()
@click.option("--year", type=YEAR, required=True)
@click.option("--tier", type=TIER, required=True)
@click.option("--as-of", "as_of", default="now", show_default=True,
              help="now, published, a seq, a date or a UTC time.")
@replay_options
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@pass_ctx
@handle_errors
def rank(c: Context, year: int, tier: str, as_of: str, edition: str | None,
         allow_changed_edition: bool, fmt: str) -> None:
    """Rank a tier of a year, replayed from the log."""
    done = c.app.rank(year, tier, as_of=as_of, edition=edition,
                      allow_changed_edition=allow_changed_edition)
    r = done.ranking
    missing = missing_inputs(done.scores)
    check = None
    if parse_as_of(as_of).kind == "published" and edition is None:
        # The replay must give what was published; say so loudly when it does not.
        check = c.app.publication_check(year, tier, r)
        if not check["reproduces"]:
            click.echo(f"WARNING: this replay does NOT reproduce publication #{check['seq']} "
                       f"({check['decision']}): its recorded result hash is "
                       f"{check['result_hash']}, the replay gives {check['replayed_hash']}; "
                       "run `ictindex verify`", err=True)
    if fmt == "json":
        data = {**ranking_json(r), "missing_inputs": missing}
        if check is not None:
            data["publication"] = check
        click.echo(output.to_json(data))
        return
    methodology = c.app.registry.methodology(r.provenance.edition)
    headers, rows = ranking_rows(r, [comp.code for comp in methodology.tiers[tier].components])
    if fmt == "csv":
        click.echo(output.to_csv(headers, rows), nl=False)
        if missing:  # on stderr: the CSV itself stays a table
            click.echo(replay.missing_summary(missing), err=True)
        return
    p = r.provenance
    click.echo(f"{tier} {year} — {p.edition} (hash {p.content_hash[:12]}…), as of {p.as_of}, "
               f"checkpoint {p.checkpoint_size}:{(p.checkpoint_root or '')[:16]}…")
    click.echo(output.table(headers, rows, right=[0] + list(range(3, len(headers)))))
    for e in r.excluded:
        click.echo(f"not ranked: {e.unit_id} {e.name}: {e.reason}")
    if missing:
        click.echo(replay.missing_summary(missing) + " (the number of indicators without a "
                   "value; `ictindex explain UNIT` shows the policy applied)")


@click.command()
@click.argument("unit")
@click.option("--year", type=YEAR, required=True)
@click.option("--as-of", "as_of", default="now", show_default=True)
@replay_options
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def explain(c: Context, unit: str, year: int, as_of: str, edition: str | None,
            allow_changed_edition: bool, fmt: str) -> None:
    """How UNIT's score was derived: components, criteria, inputs and the events behind them."""
    x = c.app.explain(unit, year, as_of=as_of, edition=edition,
                      allow_changed_edition=allow_changed_edition)
    click.echo(output.to_json(x) if fmt == "json" else render_text(x).rstrip("\n"))


@click.command()
@click.option("--year", type=YEAR, required=True)
@click.option("--tier", type=TIER, required=True)
@click.option("--from", "old", required=True, help="The earlier as-of point (e.g. published).")
@click.option("--to", "new", default="now", show_default=True)
@replay_options
@click.option("--format", "fmt", type=FORMATS_CSV, default="table", show_default=True)
@pass_ctx
@handle_errors
def diff(c: Context, year: int, tier: str, old: str, new: str, edition: str | None,
         allow_changed_edition: bool, fmt: str) -> None:
    """Units whose points or rank changed between two as-of points, and the events why."""
    d = c.app.diff(year, tier, old=old, new=new, edition=edition,
                   allow_changed_edition=allow_changed_edition)
    if fmt == "csv":
        click.echo(output.to_csv(*diff_rows(d)), nl=False)
        return
    click.echo(output.to_json(d) if fmt == "json" else render_diff_text(d).rstrip("\n"))


def diff_rows(d) -> tuple[list[str], list[tuple]]:
    """One row per unit whose points or rank changed: what `diff --format csv` prints."""
    headers = ["unit_id", "name", "group", "old_rank", "new_rank", "old_total", "new_total",
               "delta", "causes", "events"]
    rows = [(c.unit_id, c.name, c.group or "", c.old_rank, c.new_rank, c.old_total, c.new_total,
             c.delta, " ".join(c.causes), " ".join(str(e.seq) for e in c.events))
            for c in d.changes]
    return headers, rows


@click.command()
@click.option("--year", type=YEAR, required=True)
@click.option("--tier", "tiers", type=TIER, multiple=True,
              help="A tier to publish; repeat it for several (one event, one checkpoint). "
                   "Default: every tier with an adopted edition that year.")
@click.option("--decision", required=True, help="The decision that publishes the ranking.")
@click.option("--date", "date_text", default=None, help="The decision's date (YYYY-MM-DD).")
@click.option("--supersede", is_flag=True,
              help="Replace what the same decision published before (needs --reason).")
@click.option("--reason", default="", help="Why the decision's published result changes.")
@click.option("--allow-missing", is_flag=True,
              help="Publish although some units have missing inputs (the edition's "
                   "missing-data policy stands in for them).")
@click.option("--sign", "sign", default=None, metavar="KEY",
              help="Also print the decision's checkpoint signed with this private key file.")
@actor_option
@pass_ctx
@handle_errors
def publish(c: Context, year: int, tiers: tuple[str, ...], decision: str, date_text: str | None,
            supersede: bool, reason: str, allow_missing: bool, actor: str | None,
            sign: str | None) -> None:
    """Record the publication of the current ranking, with its result hash.

    Several tiers of one decision are recorded as one event.  Prints the decision's
    checkpoint (SIZE:ROOT, the log right after the publication) for the decision to name.
    Refused while some unit of a tier has missing inputs, unless --allow-missing."""
    signer = load_signer(sign) if sign is not None else None  # before anything is recorded
    try:
        date = dt.date.fromisoformat(date_text) if date_text else None
    except ValueError:
        raise UsageError(f"--date {date_text!r} is not a date (YYYY-MM-DD)") from None
    done = c.app.publish(year, list(tiers) or None, decision=decision, date=date, actor=actor,
                         supersede=supersede, reason=reason, allow_missing=allow_missing)
    event = done.event
    p = event.payload
    names = ", ".join(done.rankings)
    if not done.recorded:
        click.echo(f"Already published: decision {p.decision} published this {names} {year} "
                   f"result as #{event.seq}; nothing new.")
    else:
        units = ", ".join(f"{len(r.rows)}" for r in done.rankings.values())
        click.echo(f"Recorded publication #{event.seq}: {names} {year} under {p.edition}, "
                   f"{units} units, decision {p.decision}")
        if p.supersedes:
            click.echo(f"supersedes #{c.app.event(p.supersedes).seq}: {p.reason}")
    cp = done.checkpoint
    click.echo(f"checkpoint {cp}")
    for tier, ranking in done.rankings.items():
        digest = result_hash(ranking)
        click.echo(f"result hash {digest}" if len(done.rankings) == 1
                   else f"result hash {tier} {digest}")
    if signer is not None:
        click.echo(sign_checkpoint(signer, cp), nl=False)
    if allow_missing:
        for tier in done.rankings:
            at = c.app.replay(year, tier, as_of=f"{p.checkpoint_size}")
            missing = missing_inputs(at.scores)
            if missing:
                click.echo(replay.missing_summary(missing)
                           + " (the number of indicators without a value): published with the "
                             "missing-data policy applied")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (rank, explain, diff, publish):
        cli.add_command(command)
