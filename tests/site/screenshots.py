"""The screenshots of docs/publishing.md: the sample's ranking page and a unit page, on a phone
(390 px wide) and a desktop (1280 px), taken in headless Chromium from a freshly built site.

    .venv/bin/python tests/site/screenshots.py            # writes docs/site-*.png

Needs what the browser tests need (`.ci/install-browser`: Debian's Chromium and the playwright
package).  The sample log and the site are built in a temporary folder, so the pictures always
show what the current code writes; the same code gives the same pages (fonts aside).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
# (file name, page, where to scroll to first: a CSS selector or None for the top, width, height)
SHOTS = (
    ("site-ranking-phone.png", "index.html", "#tier-district", 390, 844),
    ("site-unit-phone.png", "units/26656.html", None, 390, 844),
    ("site-ranking-desktop.png", "index.html", "#tier-district", 1280, 800),
    ("site-unit-desktop.png", "units/26656.html", None, 1280, 800),
)


def chromium() -> str | None:
    """The system's Chromium ($ICTINDEX_CHROMIUM, /usr/bin/chromium or on the PATH), which the
    browser tests (the `browser` fixture of tests/site/conftest.py) launch too; None without."""
    for candidate in (os.environ.get("ICTINDEX_CHROMIUM"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def take(browser, site: Path, out: Path) -> list[Path]:
    """Every screenshot of SHOTS, of the site in `site`, written into `out`."""
    written = []
    for name, rel, anchor, width, height in SHOTS:
        context = browser.new_context(viewport={"width": width, "height": height})
        try:
            page = context.new_page()
            page.goto((site / rel).as_uri(), wait_until="load")
            if anchor:
                page.evaluate("s => document.querySelector(s).scrollIntoView()", anchor)
            path = out / name
            page.screenshot(path=str(path))
            written.append(path)
        finally:
            context.close()
    return written


def main(out: Path = DOCS) -> list[Path]:
    from playwright.sync_api import sync_playwright

    from ictindex.app import Ictindex
    from ictindex.sample import build_sample
    from ictindex.site import build_site

    exe = chromium()
    if exe is None:
        raise SystemExit("no Chromium found: run .ci/install-browser")
    with tempfile.TemporaryDirectory() as tmp:
        db, site = Path(tmp) / "brvt-2020.db", Path(tmp) / "site"
        with Ictindex.open(db) as app:
            build_sample(app)
            build_site(app, 2020, site, show_progress=False)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=exe, headless=True)
            try:
                return take(browser, site, out)
            finally:
                browser.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    for p in main(Path(sys.argv[1]) if len(sys.argv) > 1 else DOCS):
        print(f"{p} ({p.stat().st_size // 1024} KB)")
