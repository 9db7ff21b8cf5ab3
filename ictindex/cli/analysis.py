"""`whatif` and `robustness`: how a ranking moves under changed or varied methodology choices.
Both only read the log."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from engine.diff import render_diff_text
from engine.robustness import Robustness
from events.types import TIERS
from plugins import hookimpl
from ictindex import output
from ictindex.cli import FORMATS, Context, handle_errors, pass_ctx
from ictindex.cli.replay import ranking_json, replay_options
from ictindex.errors import UsageError
from ictindex.export import write_robustness_xlsx
from ictindex.robustness_chart import rank_interval_svg

TIER = click.Choice(list(TIERS))


def _as_of_option(f):
    return click.option("--as-of", "as_of", default="now", show_default=True,
                        help="now, published, a seq, a date or a UTC time.")(f)


@click.command()
@click.option("--year", type=int, required=True)
@click.option("--tier", type=TIER, required=True)
@click.option("--set", "assignments", multiple=True, metavar="PATH=VALUE",
              help="A change to the edition, e.g. tiers.commune.missing=exclude_unit or "
                   "tiers.commune.criteria.NL1.params.steps='[{at_least = 3, points = 3}]' "
                   "(repeat for several; checked together).")
@_as_of_option
@replay_options
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def whatif(c: Context, year: int, tier: str, assignments: tuple[str, ...], as_of: str,
           edition: str | None, allow_changed_edition: bool, fmt: str) -> None:
    """Replay under the edition changed in place, and show what moves and why.

    The changed edition must pass the checks an installed edition passes; it is named by its
    own content hash.  Nothing is written to the log.
    """
    w = c.app.whatif(year, tier, assignments, edition=edition, as_of=as_of,
                     allow_changed_edition=allow_changed_edition)
    base = w.base.ranking.provenance
    if fmt == "json":
        click.echo(output.to_json({
            "year": year, "tier": tier, "edition": base.edition,
            "edition_hash": base.content_hash, "whatif_hash": w.content_hash,
            "changes": [{"path": a.path, "value": a.text} for a in w.assignments],
            "diff": w.diff, "ranking": ranking_json(w.ranking)}))
        return
    click.echo(f"{tier} {year} — {base.edition} (hash {base.content_hash[:12]}…), as of "
               f"{base.as_of}, checkpoint {base.checkpoint_size}:"
               f"{(base.checkpoint_root or '')[:16]}…")
    for a in w.assignments:
        click.echo(f"  set {a.path} = {a.text}")
    same = w.content_hash == base.content_hash
    click.echo(f"what-if edition: {base.edition} with content hash {w.content_hash[:12]}…"
               + (" (the same content: nothing changed)" if same else "")
               + "; not recorded")
    body = render_diff_text(w.diff).rstrip("\n").splitlines()[1:]
    click.echo("\n".join(body))


def _robustness_table(r: Robustness) -> str:
    p = r.provenance
    width = "fixed" if not r.width else f"±{output.cell((r.width * 100).normalize())}%"
    lines = [
        f"{r.tier} {r.year} — {p.edition} (hash {p.content_hash[:12]}…), as of {p.as_of}, "
        f"checkpoint {p.checkpoint_size}:{(p.checkpoint_root or '')[:16]}…",
        f"{r.samples} samples, seed {r.seed} ({r.generator}): weights {width}; "
        f"{', '.join(r.missing)}; ties {', '.join(r.ties)}",
    ]
    s = r.spearman
    lines.append(f"Spearman with the published ranking: median {output.cell(s.median)}, "
                 f"5% {output.cell(s.p5)}, min {output.cell(s.min)}")
    rows = [(u.rank, u.unit_id, u.name, u.median,
             "" if u.p5 is None else f"{u.p5}–{u.p95}", u.keeps,
             "" if u.ranked_in == r.samples else u.ranked_in) for u in r.units]
    lines.append(output.table(["rank", "unit_id", "name", "median", "5–95%", "keeps", "ranked in"],
                              rows, right=[0, 3, 4, 5, 6]))
    by_id = {u.unit_id: u for u in r.units}
    for title, ids in (("most robust", r.most_robust), ("least robust", r.least_robust)):
        lines.append(f"{title}: " + "; ".join(
            f"{by_id[i].rank} {i} ({by_id[i].keeps}, {by_id[i].p5}–{by_id[i].p95})" for i in ids))
    return "\n".join(lines)


def _write_atomically(path: str, text: str) -> None:
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@click.command()
@click.option("--year", type=int, required=True)
@click.option("--tier", type=TIER, required=True)
@click.option("--samples", type=int, default=1000, show_default=True)
@click.option("--seed", type=int, required=True, help="Same seed, same samples, same output.")
@click.option("--vary", multiple=True, metavar="WHAT=VALUES",
              help="weights=±20% (each component's weight within ±20% of the adopted one, "
                   "renormalised to the scale); missing=zero,exclude_unit (policies drawn "
                   "from); ties=competition,dense/exact (tie rules drawn from).  Repeatable.")
@click.option("--chart", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write the rank-interval chart to this SVG file.")
@click.option("--annex", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write the annex sheet (XLSX): every unit's rank, median, 5–95% and "
                   "share kept, with the seed and alternatives.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the annex sheet.")
@_as_of_option
@replay_options
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@pass_ctx
@handle_errors
def robustness(c: Context, year: int, tier: str, samples: int, seed: int, vary: tuple[str, ...],
               chart: str | None, annex: str | None, lang: str, as_of: str, edition: str | None, allow_changed_edition: bool,
               fmt: str) -> None:
    """How robust each unit's rank is: Monte Carlo over weights, missing-data policy and tie
    rule; every unit's median rank, 5–95% interval and the share of samples that keep its
    rank.  Reproducible from the seed; the draws are in the JSON output."""
    if samples < 1:
        raise UsageError("--samples must be at least 1")
    r = c.app.robustness(year, tier, samples=samples, seed=seed, vary=vary, edition=edition,
                         as_of=as_of, allow_changed_edition=allow_changed_edition)
    if chart is not None:
        _write_atomically(chart, rank_interval_svg(r))
    if annex is not None:
        write_robustness_xlsx(r, annex, lang=lang)
    click.echo(output.to_json(r) if fmt == "json" else _robustness_table(r))
    if chart is not None and fmt != "json":
        click.echo(f"chart: {chart}")
    if annex is not None and fmt != "json":
        click.echo(f"annex: {annex}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (whatif, robustness):
        cli.add_command(command)
