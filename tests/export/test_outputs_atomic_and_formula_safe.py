"""Issue 14, items 10 and 11: every file the tool writes is whole or absent, and formula-safe.

A failure part-way through a write is made two ways: the kernel's own file size limit
(RLIMIT_FSIZE, what a full disk looks like to a writer) in a subprocess, and a file object
that writes half of what it is given and then raises ENOSPC (for the site's many files).
"""

from __future__ import annotations

import csv
import errno
import io
import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from ictindex.export import FORMULA_CHARS
from ictindex.output import to_csv

ROOT = Path(__file__).resolve().parents[2]

_LIMITED = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
limit = int(sys.argv.pop(1))
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from ictindex.cli import main
main()
"""


def test_an_annex_cut_by_a_full_disk_leaves_the_previous_one_intact(sample_db, run, tmp_path):
    db = tmp_path / "log.db"
    shutil.copy(sample_db, db)
    out = tmp_path / "annex" / "phu-luc.xlsx"
    out.parent.mkdir()
    assert run(db, "export", "--year", 2020, "--tier", "commune", "--out", out).exit_code == 0
    previous = out.read_bytes()
    assert len(previous) > 60_000
    # Enough for SQLite's shared-memory file (32 KiB), not for the new annex.
    proc = subprocess.run(
        [sys.executable, "-c", _LIMITED, "50000", "--db", str(db), "export", "--year", "2020",
         "--tier", "commune", "--lang", "en", "--out", str(out)],
        capture_output=True, text=True, cwd=ROOT, env=dict(os.environ, ICTINDEX_ACTOR="tester"))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.splitlines() == [
        f"Error: cannot write {out}: File too large; {out} was left as it was"]
    assert out.read_bytes() == previous
    assert sorted(p.name for p in out.parent.iterdir()) == ["phu-luc.xlsx"]


class _HalfThenFull:
    """A file that takes half of the first write, then fails as a full disk does."""

    def __init__(self, f) -> None:
        self.f = f

    def write(self, data) -> int:
        self.f.write(bytes(data)[: len(data) // 2])
        self.f.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()


def _disk_full_after(monkeypatch, files: int) -> None:
    """The disk fills up in the middle of the `files`+1-th file opened for writing."""
    real = io.open
    opened = iter(range(10**9))

    def fake_open(file, mode="r", *args, **kwargs):
        f = real(file, mode, *args, **kwargs)
        if "w" in mode and next(opened) >= files:
            return _HalfThenFull(f)
        return f

    monkeypatch.setattr(io, "open", fake_open)


def _links_resolve(folder: Path) -> list[str]:
    index = (folder / "index.html").read_text(encoding="utf-8")
    hrefs = re.findall(r'href="([^"#]+)', index)
    return [h for h in hrefs if not h.startswith(("http", "mailto")) and not (folder / h).is_file()]


@pytest.mark.parametrize("previous", [False, True], ids=["fresh-folder", "over-a-previous-site"])
def test_a_site_cut_by_a_full_disk_never_has_an_index_linking_missing_pages(
        previous, sample_db, run, tmp_path, monkeypatch):
    db = tmp_path / "log.db"
    shutil.copy(sample_db, db)
    out = tmp_path / "site"
    if previous:
        assert run(db, "site", "--year", 2020, "--out", out, "--as-of", "published").exit_code == 0
        before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    _disk_full_after(monkeypatch, 10)
    result = run(db, "site", "--year", 2020, "--out", out)
    monkeypatch.undo()
    assert result.exit_code == 2, result.output
    assert "No space left on device" in result.stderr and "Traceback" not in result.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if p.name.startswith(".")], "a temporary file was left behind"
    for p in files:
        if p.suffix == ".html":
            assert p.read_text(encoding="utf-8").rstrip().endswith("</html>"), f"{p} is cut"
    if previous:
        assert (out / "index.html").read_bytes() == before[out / "index.html"]
        assert _links_resolve(out) == []
    else:
        assert not (out / "index.html").exists()


def test_site_writes_every_page_before_the_index(sample_db, run, tmp_path, monkeypatch):
    db = tmp_path / "log.db"
    shutil.copy(sample_db, db)
    order: list[str] = []
    real = os.replace

    def replace(src, dst, *args, **kwargs):
        order.append(Path(dst).name)
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    assert run(db, "site", "--year", 2020, "--out", tmp_path / "site").exit_code == 0
    assert order[-1] == "index.html" and order.count("index.html") == 1 and len(order) > 100


# -- formula safety ----------------------------------------------------------------------------


def test_rank_csv_is_formula_safe(hostile_db, run):
    """rank --format csv neutralises names and ids exactly as the annex does; numbers stay."""
    result = run(hostile_db, "rank", "--year", 2020, "--tier", "department", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    names = {row[2] for row in rows[1:]}
    assert "'=HYPERLINK(\"http://example.invalid/\",\"bấm vào đây\")" in names
    assert {"'+1+1", "'-2+3", "'@SUM(A1:A9)", "'=1+1"} <= names
    assert {"'-H6", "'=H7"} <= {row[1] for row in rows[1:]}
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_CHARS):
                Decimal(cell)  # only a number may start with - or +


def test_csv_text_with_tab_and_carriage_return_is_neutralised_and_numbers_are_not():
    text = to_csv(["rank", "=name", "total"],
                  [(1, "\t=cmd()", Decimal("-1.50")), (2, "\r+1", Decimal("3")), (3, None, -4)])
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [["rank", "'=name", "total"], ["1", "'\t=cmd()", "-1.50"],
                    ["2", "'\r+1", "3"], ["3", "", "-4"]]
