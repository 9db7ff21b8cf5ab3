"""Building the static site: gather the data (`data`), render the pages (`render`, Jinja2
templates), write the files (see the package doc)."""

from __future__ import annotations

import shlex
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

import attrs

from engine.asof import AsOf, parse_as_of
from engine.explain import explain as explain_unit
from events.note import Signer
from ictindex import progress
from ictindex.atomic import write_atomic
from ictindex.errors import UsageError, file_problem
from ictindex.output import LANGS
from ictindex.site.data import SiteData, gather
from ictindex.site.names import unit_id_of_slug, unit_slug
from ictindex.site.proof import prepare, write_log
from ictindex.site.render import Renderer

if TYPE_CHECKING:
    from ictindex.app import Ictindex

__all__ = ["SiteResult", "build_site", "unit_id_of_slug", "unit_slug"]


@attrs.frozen
class SiteResult:
    out: Path
    pages: tuple[str, ...]  # paths relative to `out`, index first
    tiers: tuple[str, ...]
    checkpoint: str  # SIZE:ROOT the pages were computed from (the latest of the tiers')
    units: int


def _read_bytes(*parts: str) -> bytes:
    return resources.files(__package__).joinpath(*parts).read_bytes()


def _db_name(app: "Ictindex") -> str:
    return app.store.name


def _robustness_page(site: SiteData, renderer: Renderer, samples: int, seed: int) -> str:
    from ictindex.analysis import robustness
    from ictindex.robustness_chart import rank_interval_svg
    from ictindex.site.robustness_page import WEIGHTS

    results = [robustness(site.app, site.year, tp.tier, samples=samples, seed=seed,
                          vary=(WEIGHTS,), as_of=site.as_of) for tp in site.tiers]
    as_of = site.as_of
    cli_as_of = str(as_of.seq) if as_of.kind == "seq" else (
        as_of.describe()[5:] if as_of.kind == "time" else as_of.kind)
    return renderer.robustness(results, [rank_interval_svg(r, renderer.lang) for r in results],
                               shlex.quote(cli_as_of), WEIGHTS)


def build_site(app: "Ictindex", year: int, out: str | Path, *, as_of: AsOf | str | None = None,
               db_name: str | None = None, show_progress: bool | None = None,
               robustness_samples: int = 0, robustness_seed: int = 1,
               lang: str = "vi", signer: Signer | None = None) -> SiteResult:
    """Write the site of `year` (as of `as_of`, default now) under the folder `out`, with its
    own proof (`ictindex.site.proof`, the checkpoint signed by `signer` if given); with
    `robustness_samples`, also the robustness page (`ictindex.site.robustness_page`).  The
    pages are Vietnamese; `lang` is how they write numbers ("vi": 84,03 and 1.250, "en": 84.03
    and 1,250)."""
    if lang not in LANGS:
        raise UsageError(f"unknown language {lang!r} (one of: {', '.join(LANGS)})")
    if isinstance(as_of, str):
        as_of = parse_as_of(as_of)
    as_of = as_of or AsOf(kind="now")
    file_name = Path(db_name).name if db_name else _db_name(app)
    site = gather(app, year, as_of, shlex.quote(file_name))
    site.robustness = robustness_samples > 0
    site.proof = proof = prepare(app, year, [tp.publication.decision for tp in site.tiers
                                             if tp.publication is not None], signer, file_name)
    renderer = Renderer(site, lang)
    units = site.units()
    out = Path(out)
    files: dict[str, bytes] = {}
    with progress.bar(len(units) + 3, label="Building site", force=show_progress) as bar:
        files["index.html"] = renderer.index().encode("utf-8")
        bar.update(1)
        files["changes.html"] = renderer.changes().encode("utf-8")
        bar.update(1)
        files["verify.html"] = renderer.verify().encode("utf-8")
        bar.update(1)
        if robustness_samples > 0:
            files["robustness.html"] = _robustness_page(site, renderer, robustness_samples,
                                                        robustness_seed).encode("utf-8")
        for tp, uid in units:
            r = tp.replay
            x = explain_unit(r.scores, uid, ranking=r.ranking, provenance=r.ranking.provenance)
            unit_proof = proof.unit_proof(uid, unit_slug(uid), x)
            files[unit_proof.file] = unit_proof.json_bytes()
            files[site.page_of[uid]] = renderer.unit_page(tp, uid, x, unit_proof).encode("utf-8")
            bar.update(1)
    files["assets/site.css"] = _read_bytes("static", "site.css")
    files["assets/favicon.svg"] = _read_bytes("static", "favicon.svg")
    # Every page before the index, each written whole: a failure part-way leaves the previous
    # index (whose pages are all still there) or the new one with all of its pages.
    for rel in sorted(files, key=lambda rel: rel == "index.html"):
        path = out.joinpath(*PurePosixPath(rel).parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(file_problem(path.parent, err, "create the folder")) from None
        if rel == "index.html":  # the log and its proof before the index too
            write_log(app, out, proof)
        write_atomic(path, files[rel])
    size, rt = site.checkpoint()
    pages = tuple(k for k in files if k.endswith(".html"))
    return SiteResult(out=out, pages=pages, tiers=tuple(t.tier for t in site.tiers),
                      checkpoint=f"{size}:{rt}", units=len(units))
