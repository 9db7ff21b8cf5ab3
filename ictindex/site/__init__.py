"""A static, self-contained transparency site of one year's rankings.

`build_site(app, year, out, as_of="now")` writes, under `out`:

- `index.html` — the ranking of every tier that has an adopted edition that year, each with a
  bar chart drawn as inline SVG;
- `units/<unit>.html` — per unit, its explanation: total → components → criteria (rule, formula
  with its numbers, peers, missing-data policy) → inputs → the events behind each input (who,
  when, from which document, why it was corrected, whether it still counts);
- `changes.html` — per published tier, what changed between the publication and the as-of
  point, and the events that moved each unit;
- `verify.html` — the checkpoints the pages were computed from, and the exact commands that
  verify them;
- `assets/site.css`, `assets/favicon.svg`.

Pages are `lang="vi"`, UTF-8, readable on a phone and in print, with no script and no request to
any other host: the folder can be opened from disk or copied to any web server.  Every name, note
and reason is HTML-escaped.  The same log, edition and as-of point give byte-identical pages.

`data` gathers what the pages show (plain data), `render` turns it into pages through the Jinja2
templates in `templates/` (autoescape on; the charts are macros of `charts.html`), `build` writes
the files, each whole (`ictindex.atomic`).
"""

from ictindex.site.build import SiteResult, build_site, unit_id_of_slug, unit_slug

__all__ = ["SiteResult", "build_site", "unit_id_of_slug", "unit_slug"]
