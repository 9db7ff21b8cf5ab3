"""The site on a phone (390 px wide) and a desktop (1280 px), in headless Chromium.

Every kind of page (every page at the top of the site — ranking, changes, verify, robustness,
and any other — and unit pages, whose explanation tree is the deepest) must not scroll sideways,
and every value of the ranking tables and every label and value of the bar charts must be
visible: a box of non-zero size inside the screen's width (not cut off, not hidden in a box
that scrolls).  The screenshots of docs/publishing.md are checked to be what
tests/site/screenshots.py takes.  Skips, saying why, without Chromium (`.ci/install-browser`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from screenshots import SHOTS, take
from test_site_browser import Visit

from ictindex.app import Ictindex
from ictindex.site import build_site

pytestmark = pytest.mark.browser

WIDTHS = ((390, 844), (1280, 900))
# Unit pages: one of each tier, one moved by a correction (its notice and changed events).
UNITS = ("units/SCT.html", "units/753.html", "units/26656.html")

_JS_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"

# Every element that must be readable: the ranking tables' cells (the grade's badge inside its
# cell) and the bar charts' labels and values; what of each is hidden or out of the screen.
_JS_HIDDEN = """(sel) => {
  const width = document.documentElement.clientWidth;
  const out = [];
  const elements = document.querySelectorAll(sel);
  for (const e of elements) {
    const r = e.getBoundingClientRect();
    const text = (e.textContent || '').trim();
    if (!text) continue;
    if (r.width <= 0 || r.height <= 0 || r.left < -0.5 || r.right > width + 0.5) {
      out.push(`${text} at ${Math.round(r.left)}..${Math.round(r.right)} of ${width}`);
    }
  }
  return {checked: elements.length, hidden: out};
}"""
CHARTS = "figure.chart svg a text"  # the bar charts' labels and values (each row is a link)
RANKING = "table td, table td .band, " + CHARTS  # the ranking page: its tables and charts


@pytest.fixture(scope="module")
def robust_site(sample_db, tmp_path_factory) -> Path:
    """The sample's site with its robustness page (every page kind there is)."""
    out = tmp_path_factory.mktemp("phone-site") / "site"
    with Ictindex.open(sample_db) as app:
        build_site(app, 2020, out, show_progress=False, robustness_samples=20, robustness_seed=3)
    return out


def page_kinds(site: Path) -> list[str]:
    pages = sorted(p.name for p in site.glob("*.html"))
    others = sorted(str(p.relative_to(site)) for p in site.glob("*/*.html")
                    if p.parent.name != "units")
    return pages + others + [u for u in UNITS if (site / u).is_file()]


@pytest.mark.parametrize("width,height", WIDTHS, ids=[f"{w}px" for w, _ in WIDTHS])
def test_no_page_scrolls_sideways_and_every_value_is_visible(browser, robust_site,
                                                             width, height):
    kinds = page_kinds(robust_site)
    assert {"index.html", "changes.html", "verify.html", "robustness.html"} <= set(kinds)
    visit = Visit(browser, width=width, height=height)
    problems, checked = [], {}
    try:
        for rel in kinds:
            visit.open((robust_site / rel).as_uri())
            overflow = visit.page.evaluate(_JS_OVERFLOW)
            if overflow > 0:
                problems.append(f"{rel} scrolls sideways by {overflow}px at {width}px")
            seen = visit.page.evaluate(_JS_HIDDEN, RANKING if rel == "index.html" else CHARTS)
            checked[rel] = seen["checked"]
            problems.extend(f"{rel} at {width}px: {h}" for h in seen["hidden"])
        problems.extend(visit.problems)
    finally:
        visit.close()
    assert problems == []
    # the ranking's three tables and charts, and each unit page's chart, were looked at
    assert checked["index.html"] > 109 * 10 and all(checked[u] >= 14 for u in UNITS)


def test_the_visibility_check_catches_a_table_that_scrolls_and_a_cut_chart(browser, tmp_path):
    """The check above can fail: a wide table in a scrolling box, a chart wider than the screen."""
    cells = "".join(f'<td class="num">{i},25</td>' for i in range(30))
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>'
        f'<div style="overflow-x:auto"><table><tr>{cells}</tr></table></div>'
        '<figure class="chart" style="overflow-x:auto"><svg width="900" height="40">'
        '<a href="#"><text x="800" y="20">84,03</text></a></svg></figure>'
        '<p style="width:600px">wide</p></body></html>', encoding="utf-8")
    visit = Visit(browser, width=390, height=844)
    try:
        visit.open((tmp_path / "index.html").as_uri())
        assert visit.page.evaluate(_JS_OVERFLOW) > 0
        hidden = visit.page.evaluate(_JS_HIDDEN, RANKING)["hidden"]
    finally:
        visit.close()
    assert any(h.startswith("29,25 ") for h in hidden)
    assert any(h.startswith("84,03 ") for h in hidden)


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_the_screenshots_in_the_docs_are_what_the_script_takes(browser, sample_site,
                                                               tmp_path):
    docs = Path(__file__).resolve().parents[2] / "docs"
    text = (docs / "publishing.md").read_text(encoding="utf-8")
    for path in take(browser, sample_site, tmp_path):
        name = path.name
        width, height = next((w, h) for n, _, _, w, h in SHOTS if n == name)
        assert _png_size(path) == (width, height)
        assert path.stat().st_size > 20_000, f"{name} looks blank"
        committed = docs / name
        assert committed.is_file(), f"docs/{name} is missing: run tests/site/screenshots.py"
        assert _png_size(committed) == (width, height)
        assert committed.stat().st_size < 200_000, f"docs/{name} is too big"
        assert f"({name})" in text, f"docs/publishing.md does not show {name}"
