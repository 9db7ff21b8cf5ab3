"""The static site, read as files: complete, self-contained, escaped, reproducible, verifiable.

The same properties are checked again in a real browser (test_site_browser.py); these run
everywhere, without Chromium.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from hostile_site_data import HOSTILE_AUTHORITY, HOSTILE_REASON, HOSTILE_UNITS, XSS

from ictindex.app import Ictindex
from ictindex.site import build_site, unit_slug

REPO = Path(__file__).resolve().parents[2]


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, url)
        self.tags: list[str] = []
        self.lang = None
        self.charset = False
        self.viewport = False
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if "id" in a:
            self.ids.add(a["id"])
        for name in ("href", "src", "action", "poster", "data", "xlink:href", "formaction"):
            if a.get(name) is not None:
                self.refs.append((tag, name, a[name]))
        if tag == "html":
            self.lang = a.get("lang")
        if tag == "meta" and (a.get("charset") or "").lower() == "utf-8":
            self.charset = True
        if tag == "meta" and a.get("name") == "viewport":
            self.viewport = True

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def check_site(site: Path) -> list[str]:
    """Every problem: external or broken references, missing anchors, scripts, metadata."""
    parsed = {p.resolve(): parse(p) for p in pages(site)}
    problems = []
    for path, page in parsed.items():
        rel = path.relative_to(site.resolve())
        if page.lang != "vi":
            problems.append(f"{rel}: lang={page.lang!r}")
        if not page.charset or not page.viewport:
            problems.append(f"{rel}: no UTF-8 charset or viewport meta")
        if "script" in page.tags or "iframe" in page.tags:
            problems.append(f"{rel}: has a script or iframe element")
        for tag, attr, url in page.refs:
            parts = urlsplit(url)
            if parts.scheme or parts.netloc or url.startswith("//"):
                problems.append(f"{rel}: {tag} {attr}={url!r} leaves the site")
                continue
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.is_file():
                problems.append(f"{rel}: {tag} {attr}={url!r} does not resolve")
                continue
            if site.resolve() not in target.parents:
                problems.append(f"{rel}: {url!r} points outside the site")
            if parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{rel}: {url!r}: no element with that id")
    for css in site.rglob("*.css"):
        for url in re.findall(r"url\(([^)]*)\)", css.read_text(encoding="utf-8")):
            problems.append(f"{css.name}: url({url}) (a stylesheet must not fetch anything)")
        if "@import" in css.read_text(encoding="utf-8"):
            problems.append(f"{css.name}: @import")
    return problems


def test_sample_site_has_every_page_and_every_link_resolves(sample_site, sample_db):
    with Ictindex.open(sample_db) as app:
        ys = app.state().year_state(2020)
        ranked = [u.unit_id for t in ("department", "district", "commune") for u in ys.tier_units(t)]
    assert len(ranked) == 109
    for uid in ranked:
        assert (sample_site / "units" / f"{unit_slug(uid)}.html").is_file(), uid
    for name in ("index.html", "changes.html", "verify.html", "assets/site.css", "assets/favicon.svg"):
        assert (sample_site / name).is_file()
    assert check_site(sample_site) == []
    index = (sample_site / "index.html").read_text(encoding="utf-8")
    for tier in ("department", "district", "commune"):
        assert f'id="tier-{tier}"' in index
    assert index.count("<svg") == 3  # a chart per tier, inline
    # Every unit of the index links to its page; the published figures show.
    for uid in ranked:
        assert f'href="units/{unit_slug(uid)}.html"' in index
    assert "94,79" in index and "84,03" in index and "63,81" in index  # Vietnamese decimals


def test_check_site_catches_what_it_must(tmp_path):
    """The checker itself: an external image, a broken link, a missing anchor, a script."""
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width"></head><body>'
        '<img src="https://example.invalid/x.png"><a href="nope.html">x</a>'
        '<a href="#missing">y</a><script>1</script></body></html>', encoding="utf-8")
    problems = check_site(tmp_path)
    assert len(problems) == 4, problems


def test_unit_page_explains_down_to_the_events(sample_site):
    page = (sample_site / "units" / "26656.html").read_text(encoding="utf-8")
    # total, rank and band after the correction, and the notice that it changed
    assert "77,13" in page and "hạng 47 → 45" in page and "76,00 → 77,13" in page
    assert 'href="../changes.html#u-26656"' in page
    # component → criterion → formula → inputs → the events, with evidence and the correction
    assert 'id="c-DV"' in page and 'id="k-DV2"' in page
    assert "12.727 ÷ 12.921 × 6" in page
    assert "#3240</strong> nộp số liệu" in page and "đã được đính chính" in page
    assert "#4175</strong> đính chính" in page and "Công văn số 1234/STTTT-CNTT" in page
    assert "Báo cáo số 67/BC-26656 ngày 22/01/2021" in page
    page = (sample_site / "units" / "753.html").read_text(encoding="utf-8")
    assert "84,03" in page and "UBND huyện Đất Đỏ" in page


def test_changes_page_names_the_correction_and_why(sample_site):
    page = (sample_site / "changes.html").read_text(encoding="utf-8")
    assert 'id="u-26656"' in page and "47 → 45" in page and "76,00 → 77,13" in page
    assert "#4175</strong> đính chính" in page
    assert "Hồ sơ tiếp nhận qua Cổng dịch vụ công quốc gia" in page
    assert "Công văn số 1234/STTTT-CNTT ngày 15/06/2021" in page
    assert "số liệu của chính đơn vị thay đổi" in page  # 26656: its own inputs
    assert 'id="u-26533"' in page and "các đơn vị khác thay đổi điểm" in page  # moved by others
    assert "1018/QĐ-UBND" in page


def test_verify_page_gives_the_exact_command_and_it_verifies(sample_site, sample_db, run):
    with Ictindex.open(sample_db) as app:
        cp = app.store.checkpoint()
        published = app.state().year_state(2020).latest_publication("commune")
    page = (sample_site / "verify.html").read_text(encoding="utf-8")
    command = f"ictindex --db brvt-2020.db verify --checkpoint {cp.size}:{cp.root}"
    assert f'<pre class="cmd">{command}</pre>' in page
    pub_command = (f"ictindex --db brvt-2020.db verify --checkpoint "
                   f"{published.checkpoint_size}:{published.checkpoint_root}")
    assert pub_command in page and published.result_hash in page
    # The unit page's inclusion proof of one of its own submissions.
    unit_page = (sample_site / "units" / "26656.html").read_text(encoding="utf-8")
    prove = re.search(r"ictindex --db brvt-2020\.db prove \d+ --checkpoint "
                      rf"{published.checkpoint_size}:{published.checkpoint_root}", unit_page)
    assert prove is not None
    # The commands as printed work on the log.
    for cmd in (command, pub_command, prove.group(0)):
        args = shlex.split(cmd)[3:]  # drop `ictindex --db brvt-2020.db`
        result = run(sample_db, *args)
        assert result.exit_code == 0, result.output
        assert "DOES NOT" not in result.stdout and "NOT VERIFIED" not in result.stdout


def test_names_notes_and_reasons_are_escaped(hostile_site):
    assert check_site(hostile_site) == []
    everything = "".join(p.read_text(encoding="utf-8") for p in pages(hostile_site))
    for raw in (XSS, "<img src=x", "<svg onload", "<b>đậm</b>", "<i>Côn Đảo</i>",
                "</p><script>", "<a href=\"http://example.invalid/\"", "<b>ubnd</b>",
                "<script>x</script>"):
        assert raw not in everything, raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in everything
    d2 = (hostile_site / "units" / "D2.html").read_text(encoding="utf-8")
    text = "".join(parse(hostile_site / "units" / "D2.html").text)
    assert XSS in text  # shown as text
    assert "&lt;/p&gt;&lt;script&gt;alert(4)&lt;/script&gt;" in d2  # the correction's reason
    assert HOSTILE_REASON in text and HOSTILE_AUTHORITY in text
    # An id that is not a safe file name still gets a page, linked from the index.
    slug = unit_slug("X&1")
    assert re.fullmatch(r"[A-Za-z0-9_-]+", slug)
    assert f'href="units/{slug}.html"' in (hostile_site / "index.html").read_text(encoding="utf-8")
    names = {n for _, _, n, _ in HOSTILE_UNITS}
    index_text = "".join(parse(hostile_site / "index.html").text)
    for n in names:
        assert n in index_text


def test_same_log_same_bytes(hostile_db, hostile_site, tmp_path):
    again = tmp_path / "again"
    with Ictindex.open(hostile_db) as app:
        build_site(app, 2020, again, show_progress=False)
    first = {p.relative_to(hostile_site): p.read_bytes() for p in hostile_site.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second


def test_as_of_published_shows_the_published_figures(sample_db, tmp_path, run):
    out = tmp_path / "pub"
    result = run(sample_db, "site", "--year", 2020, "--out", out, "--as-of", "published")
    assert result.exit_code == 0, result.output
    assert "Wrote 112 pages" in result.stdout and "department, district, commune" in result.stdout
    page = (out / "units" / "26656.html").read_text(encoding="utf-8")
    assert "76,00" in page and "77,13" not in page and "Đã thay đổi sau khi công bố" not in page
    assert "Trang này hiển thị đúng kết quả đã công bố." in (out / "changes.html").read_text("utf-8")
    # --lang en writes the numbers with a decimal point; the words stay Vietnamese
    result = run(sample_db, "site", "--year", 2020, "--out", tmp_path / "en", "--as-of", "published",
                 "--lang", "en")
    assert result.exit_code == 0, result.output
    page = (tmp_path / "en" / "units" / "26656.html").read_text(encoding="utf-8")
    assert "76.00" in page and "77.13" not in page and "Đã thay đổi sau khi công bố" not in page
    assert "76,00" not in page and "Tổng điểm" in page


def test_site_of_a_year_with_nothing_adopted_is_an_error(sample_db, tmp_path, run):
    result = run(sample_db, "site", "--year", 2019, "--out", tmp_path / "none")
    assert result.exit_code == 2
    assert "2019 has no tier with an adopted edition" in result.stderr
    assert not (tmp_path / "none").exists()


def test_only_adopted_tiers_and_unpublished_tiers_say_so(hostile_site):
    index = (hostile_site / "index.html").read_text(encoding="utf-8")
    assert "Bảng xếp hạng này chưa được công bố." in index  # district and commune
    changes = (hostile_site / "changes.html").read_text(encoding="utf-8")
    assert 'id="u-D2"' in changes and "9,24 → 11,24" in changes


def test_templates_and_css_are_package_data():
    """A wheel must ship the site's templates and stylesheet (pyproject's package-data)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    data = config["tool"]["setuptools"]["package-data"]
    site_dir = REPO / "ictindex" / "site"
    files = [p for p in site_dir.rglob("*") if p.is_file() and p.suffix not in (".py", ".pyc")]
    assert files
    for f in files:
        ok = False
        for package, patterns in data.items():
            if package in ("*", "ictindex.site"):
                ok = ok or any(f in set(site_dir.glob(pattern)) for pattern in patterns)
        assert ok, (f"{f.relative_to(REPO)} is not covered by [tool.setuptools.package-data] in "
                    "pyproject.toml: add \"ictindex.site\" = [\"templates/*.html\", "
                    "\"static/*.css\", \"static/*.svg\"]")
