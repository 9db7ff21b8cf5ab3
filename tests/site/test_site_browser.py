"""The site in a real browser: headless Chromium (Debian's), driven by playwright.

No browser is downloaded: playwright launches (the `browser` fixture, conftest.py) the system's Chromium (`/usr/bin/chromium`, or
$ICTINDEX_CHROMIUM).  Without one, or without the playwright package, these tests skip and say
why; `.ci/install-browser` installs both.

Every page of the site is opened from disk: it must load with no console error and no page
error, request nothing but local files (every other request is aborted and fails the test),
run no dialog, and every link must lead to a page of the site and, with a #fragment, to an
element of it.  A unit named `<script>alert(1)</script>` must show as that text.  Screenshots of
the index and of a unit page (and a PDF print of it) are written under the test's tmp_path.
"""

from __future__ import annotations

from collections import deque
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from hostile_site_data import XSS

pytestmark = pytest.mark.browser

_JS_COLLECT = """() => ({
  lang: document.documentElement.lang,
  charset: document.characterSet,
  scripts: document.scripts.length,
  ids: Array.from(document.querySelectorAll('[id]'), e => e.id),
  links: Array.from(document.querySelectorAll('[href], [src]'),
                    e => new URL(e.getAttribute('href') ?? e.getAttribute('src'),
                                 document.baseURI).href),
})"""


class Visit:
    """Opens pages in one browser context and records everything that went wrong."""

    def __init__(self, browser, *, width: int = 1280, height: int = 900) -> None:
        self.context = browser.new_context(viewport={"width": width, "height": height},
                                           service_workers="block")
        self.problems: list[str] = []
        self.requests: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("dialog", self._dialog)
        self.current = ""

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith("file://"):
            route.continue_()
        else:  # nothing may leave the site; abort before it goes anywhere
            self.problems.append(f"request leaving the site: {url} (from {self.current})")
            route.abort()

    def _failed(self, request) -> None:
        url, failure = request.url, request.failure or ""
        if "ERR_ABORTED" in failure and url.startswith("file://") and \
                Path(unquote(urlsplit(url).path)).is_file():
            return  # an existing file whose load the next navigation cancelled (the favicon)
        self.problems.append(f"request failed: {url} ({failure}) on {self.current}")

    def _console(self, msg) -> None:
        if msg.type in ("error", "warning"):
            self.problems.append(f"console {msg.type} on {self.current}: {msg.text}")

    def _dialog(self, dialog) -> None:
        self.problems.append(f"a script ran a dialog on {self.current}: {dialog.message!r}")
        dialog.dismiss()

    def open(self, url: str) -> dict:
        self.current = url
        response = self.page.goto(url, wait_until="load")
        if response is not None and not response.ok:
            self.problems.append(f"{url}: status {response.status}")
        return self.page.evaluate(_JS_COLLECT)

    def close(self) -> None:
        self.context.close()


def crawl(browser, site: Path, *, follow=None) -> tuple[dict[str, dict], list[str], list[str]]:
    """Open every page reachable from index.html (for which `follow(path)` holds, when given);
    return the pages, the problems and every request made."""
    root = site.resolve()
    start = (root / "index.html").as_uri()
    visit = Visit(browser)
    seen: dict[str, dict] = {}
    queue = deque([start])
    problems = []
    try:
        while queue:
            url = queue.popleft()
            if url in seen:
                continue
            info = seen[url] = visit.open(url)
            if info["lang"] != "vi" or info["charset"] != "UTF-8":
                problems.append(f"{url}: lang {info['lang']!r}, charset {info['charset']!r}")
            if info["scripts"]:
                problems.append(f"{url}: {info['scripts']} script element(s)")
            for link in info["links"]:
                parts = urlsplit(link)
                if parts.scheme != "file":
                    problems.append(f"{url}: link {link} leaves the site")
                    continue
                path = Path(unquote(parts.path))
                if root not in path.parents or not path.is_file():
                    problems.append(f"{url}: link {link} does not resolve to a file of the site")
                    continue
                if path.suffix == ".html" and (follow is None or follow(path.relative_to(root))):
                    queue.append(path.as_uri())
        # Fragments point at elements that exist.
        for url, info in seen.items():
            for link in info["links"]:
                parts = urlsplit(link)
                if parts.scheme == "file" and parts.fragment:
                    target = Path(unquote(parts.path)).as_uri()
                    if target in seen and unquote(parts.fragment) not in seen[target]["ids"]:
                        problems.append(f"{url}: link {link}: no element with that id")
        problems.extend(visit.problems)
        return seen, problems, visit.requests
    finally:
        visit.close()


def test_every_page_loads_cleanly_locally_and_every_link_resolves(browser, hostile_site):
    seen, problems, requests = crawl(browser, hostile_site)
    assert problems == []
    assert len(seen) == 3 + 7  # index, changes, verify and every unit's page
    assert all(r.startswith("file://") for r in requests)
    assert any(r.endswith("/assets/site.css") for r in requests)


# Opening all 112 pages of the sample site costs 15-40 s on two cores; the links of every one
# of them are checked as files by test_site_static.py.  In the browser: the three site pages,
# the first and last unit of each tier, the units the correction moved, and a parent district.
SAMPLE_UNITS = {"SCT", "SNGV", "752", "753", "26677", "26599", "26656", "26533", "26701", "751"}


def test_sample_site_pages_load_cleanly_locally_and_their_links_resolve(browser, sample_site):
    seen, problems, requests = crawl(
        browser, sample_site,
        follow=lambda rel: rel.parts[0] != "units" or rel.stem in SAMPLE_UNITS)
    assert problems == []
    assert len(seen) == 3 + len(SAMPLE_UNITS)
    assert all(r.startswith("file://") for r in requests)


def test_the_crawler_sees_external_requests_console_errors_and_broken_links(browser, tmp_path):
    """The checks above can fail: a page that breaks each rule is caught (nothing leaves)."""
    (tmp_path / "index.html").write_text(
        '<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="https://example.invalid/x.css"></head><body>'
        '<a href="missing.html">x</a><a href="#nowhere">y</a>'
        '<script>console.error("boom")</script></body></html>', encoding="utf-8")
    _, problems, _ = crawl(browser, tmp_path)
    text = "\n".join(problems)
    assert "request leaving the site: https://example.invalid/x.css" in text
    assert "console error" in text and "boom" in text
    assert "missing.html does not resolve" in text
    assert "#nowhere: no element with that id" in text
    assert "1 script element(s)" in text


def test_a_unit_named_script_shows_as_text_and_runs_nothing(browser, hostile_site):
    """(The crawl above would also have caught a dialog on any page of this site.)"""
    visit = Visit(browser)
    try:
        visit.open((hostile_site / "units" / "D2.html").as_uri())
        h1 = visit.page.locator("h1").inner_text()
        assert h1.startswith(XSS)
        assert XSS in visit.page.title()
        visit.open((hostile_site / "index.html").as_uri())
        link = visit.page.get_by_role("link", name=XSS, exact=True).first
        assert link.inner_text() == XSS
        link.click()
        assert visit.page.url.endswith("/units/D2.html")
        visit.open((hostile_site / "changes.html").as_uri())
        assert "</p><script>alert(4)</script> số liệu sai" in visit.page.locator("#u-D2").inner_text()
        assert visit.page.evaluate("() => document.scripts.length") == 0
        assert visit.problems == []  # no dialog ran, no console error, nothing left the site
    finally:
        visit.close()


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def test_screenshots_on_desktop_and_phone_and_a_print(browser, sample_site, tmp_path):
    shots = {}
    for width, height, suffix in ((1280, 900, ""), (390, 844, "-phone")):
        visit = Visit(browser, width=width, height=height)
        try:
            for name, rel in (("index", "index.html"), ("unit-26656", "units/26656.html")):
                visit.open((sample_site / rel).as_uri())
                path = tmp_path / f"{name}{suffix}.png"
                visit.page.screenshot(path=str(path))
                shots[path.name] = path
                # Readable on a phone: the page itself never scrolls sideways (wide tables
                # and charts scroll inside their own boxes).
                overflow = visit.page.evaluate(
                    "() => document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, f"{rel} is {overflow}px wider than a {width}px screen"
            if not suffix:
                visit.page.emulate_media(media="print")
                nav = visit.page.evaluate(
                    "() => getComputedStyle(document.querySelector('header nav')).display")
                assert nav == "none"  # the print stylesheet applies
                visit.page.pdf(path=str(tmp_path / "unit-26656.pdf"), format="A4")
            assert visit.problems == []
        finally:
            visit.close()
    for name, path in shots.items():
        w, h = _png_size(path)
        assert (w, h) == ((1280, 900) if "phone" not in name else (390, 844)), name
        assert path.stat().st_size > 20_000, f"{name} looks blank"
    assert (tmp_path / "unit-26656.pdf").read_bytes()[:5] == b"%PDF-"
    print("\nscreenshots:", *sorted(str(p) for p in shots.values()), sep="\n  ")
