"""`export` and `site`: what people read — the decision's annex and a static transparency site."""

from __future__ import annotations

import click

from events.types import TIERS
from plugins import hookimpl
from ictindex.cli import YEAR, Context, handle_errors, pass_ctx
from ictindex.cli.tlog import load_signer

TIER = click.Choice(list(TIERS))


@click.command("export")
@click.option("--year", type=YEAR, required=True)
@click.option("--tier", type=TIER, required=True)
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default=None,
              help="Default: from the --out file's extension.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), required=True,
              help="The file to write (.xlsx or .csv).")
@click.option("--as-of", "as_of", default="now", show_default=True,
              help="now, published, a seq, a date or a UTC time.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="Language of the headers and grading bands, and how the text cells write "
                   "numbers (vi 84,03 and 1.250, en 84.03 and 1,250).")
@click.option("--edition", default=None,
              help="Score with this edition instead of the adopted one (a what-if).")
@click.option("--allow-changed-edition", is_flag=True,
              help="Replay even though the installed edition's content differs from the one adopted.")
@pass_ctx
@handle_errors
def export(c: Context, year: int, tier: str, fmt: str | None, out: str, as_of: str, lang: str,
           edition: str | None, allow_changed_edition: bool) -> None:
    """Write a tier's ranking as the annex of a decision (XLSX or CSV).

    Rank, unit, points per component in the edition's order, total and grading band; numbers
    as numbers with the edition's decimals.  The XLSX's second sheet and properties name the
    edition, its content hash, the log checkpoint and the as-of point.  No cell can run a
    formula: text beginning with = + - @ is written with a leading apostrophe.
    """
    result = c.app.export(year, tier, out, fmt=fmt, as_of=as_of, lang=lang, edition=edition,
                          allow_changed_edition=allow_changed_edition, db_name=c.db)
    r = result.annex.ranking
    p = r.provenance
    click.echo(f"Wrote {result.path} ({result.format.upper()}): {tier} {year}, {len(r.rows)} units"
               + (f" (+{len(r.excluded)} not ranked)" if r.excluded else "")
               + f", {p.edition}, as of {p.as_of}")
    click.echo(f"checkpoint {p.checkpoint_size}:{p.checkpoint_root}")


@click.command("site")
@click.option("--year", type=YEAR, required=True)
@click.option("--out", "out", type=click.Path(file_okay=False, writable=True), required=True,
              help="The folder to write the site into (created if missing).")
@click.option("--as-of", "as_of", default="now", show_default=True,
              help="now, published, a seq, a date or a UTC time.")
@click.option("--robustness-samples", type=click.IntRange(0), default=0, show_default=True,
              help="Also a page of rank intervals under ±20% weight variation, from this many "
                   "samples per tier (see `ictindex robustness`).")
@click.option("--seed", type=int, default=1, show_default=True,
              help="The seed of the robustness samples.")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True,
              help="How the pages write numbers: vi 84,03 and 1.250, en 84.03 and 1,250.")
@click.option("--sign", "sign", default=None, metavar="KEY",
              help="Sign the site's checkpoint with this private key file (as `tiles` does); "
                   "without it the checkpoint is a plain SIZE:ROOT.")
@pass_ctx
@handle_errors
def site(c: Context, year: int, out: str, as_of: str, robustness_samples: int, seed: int,
         lang: str, sign: str | None) -> None:
    """Build a static, self-contained site of a year's rankings.

    Every tier with an adopted edition, with charts; a page per unit with its explanation down
    to the events and their inclusion proofs; what changed since the publication and why; the
    checkpoints and the commands that verify them.  The site carries its own proof under
    log/ (a copy of the log, every event as JSON Lines, the checkpoint, the tlog tiles and the
    stand-alone verify_tlog.py) and proofs/.  No script, no request to any other host: open
    index.html from disk or copy the folder to any web server.
    """
    signer = load_signer(sign) if sign is not None else None
    result = c.app.site(year, out, as_of=as_of, db_name=c.db,
                        robustness_samples=robustness_samples, robustness_seed=seed,
                        lang=lang, signer=signer)
    click.echo(f"Wrote {len(result.pages)} pages to {result.out}: {', '.join(result.tiers)}, "
               f"{result.units} units")
    click.echo(f"checkpoint {result.checkpoint}")
    click.echo(f"open {result.out / 'index.html'}")


@hookimpl
def register_commands(cli: click.Group) -> None:
    for command in (export, site):
        cli.add_command(command)
