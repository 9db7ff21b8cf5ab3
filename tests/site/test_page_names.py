"""Issue 14, item 12: a unit's page name is its own, on every file system.

Injectivity is proved by reading every name back (`unit_id_of_slug`), also after the name's
letter case has been folded either way, as a case-insensitive file system does.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from hypothesis import example, given, settings, strategies as st

from ictindex.app import Ictindex
from ictindex.site import build_site, unit_id_of_slug, unit_slug
from ictindex.site.names import SLUG_MAX

SAMPLE_UNITS = Path(__file__).resolve().parents[2] / "ictindex" / "sample" / "units.csv"
DEVICES = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$",
           *(f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789")}

ids = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="aAbB_- .~x1%CONUL", max_size=8),
    st.sampled_from(sorted(DEVICES)).map(lambda d: d.lower() if len(d) % 2 else d),
    st.text(min_size=100, max_size=300),
)


def _safe(name: str) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name
    assert len(name) <= SLUG_MAX
    assert name.upper() not in DEVICES


@settings(max_examples=400, deadline=None)
@given(ids)
@example("x y")
@example("CON")
@example("con")
@example("Com1")
@example("ab.")
@example("")
def test_a_page_name_is_safe_and_reads_back_to_its_id_whatever_the_case(unit_id):
    name = unit_slug(unit_id)
    _safe(name)
    back = unit_id_of_slug(name)
    if back is None:  # a name cut to SLUG_MAX ends in 128 bits of the id's SHA-256
        assert "__" in name and (len(unit_id) > 10 or unit_id == "")
        return
    assert back == unit_id
    assert unit_id_of_slug(name.lower()) == unit_id
    assert unit_id_of_slug(name.upper()) == unit_id


@settings(max_examples=300, deadline=None)
@given(ids, ids)
@example("x y", unit_slug("x y"))
@example("AB", "ab")
@example("x y", "x-y")
@example("CON", "CO_78-_")
def test_two_ids_never_share_a_page_even_where_case_is_ignored(a, b):
    if a != b:
        assert unit_slug(a).lower() != unit_slug(b).lower()


def test_a_page_name_is_never_itself_a_different_id_s_page_name():
    """The collision of the issue: `x y` was named like the valid id `x-y-<hash>`."""
    for unit_id in ["x y", "Đà Nẵng", "a/b", "CON"]:
        assert unit_slug(unit_slug(unit_id)) != unit_slug(unit_id)


def test_the_sample_keeps_its_page_names():
    with SAMPLE_UNITS.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            assert unit_slug(row["unit_id"]) == row["unit_id"]


def test_a_site_gives_each_unit_its_own_page(tmp_path):
    ids = ["AB", "ab", "x y", "CON", "con", "X-Y"]
    units = tmp_path / "units.csv"
    units.write_text("unit_id,tier,name,parent_id\n" + "".join(
        f"{uid},department,Sở {i},\n" for i, uid in enumerate(ids)), encoding="utf-8")
    with Ictindex.open(tmp_path / "log.db") as app:
        app.import_units(units, actor="tester")
        app.adopt("local-ict@2020", 2020, ["department"], actor="tester")
        for i, uid in enumerate(ids):
            app.submit(2020, uid, "staff_computer_pct", str(40 + i), actor="tester")
        result = build_site(app, 2020, tmp_path / "site", show_progress=False)
    pages = sorted(p for p in result.pages if p.startswith("units/"))
    assert len(pages) == len(ids)
    assert len({p.lower() for p in pages}) == len(ids)
    for i, uid in enumerate(ids):
        page = (tmp_path / "site" / "units" / f"{unit_slug(uid)}.html").read_text(encoding="utf-8")
        assert f"Sở {i}" in page
