"""The BR-VT 2020 sample reproduces the six published figures, and its correction moves a commune."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.result import result_hash
from ictindex import replay
from ictindex.app import Ictindex
from ictindex.sample import CORRECTION, PUBLISHED, SUBMISSIONS_CSV, UNITS_CSV, YEAR, build_sample
from ictindex.sample.generate import submissions_csv

EXPECTED_COUNTS = {"department": 19, "district": 8, "commune": 82}


@pytest.fixture(scope="module", params=["sqlite", "memory"])
def app(request, sample_db):
    """The sample on each store: the replay needs nothing of a store beyond `EventLog`."""
    if request.param == "memory":
        with Ictindex.open("memory:") as app:
            build_sample(app)
            yield app
        return
    with Ictindex.open(sample_db) as app:
        yield app


@pytest.mark.parametrize("tier", ["department", "district", "commune"])
def test_published_ranking_reproduces_the_published_figures(app, tier):
    ranking = replay.replay(app, YEAR, tier, as_of="published").ranking
    first_id, first, last_id, last = PUBLISHED[tier]
    rows = ranking.rows
    assert len(rows) == EXPECTED_COUNTS[tier]
    assert (rows[0].rank, rows[0].unit_id, rows[0].total) == (1, first_id, Decimal(first))
    assert (rows[-1].rank, rows[-1].unit_id, rows[-1].total) == (len(rows), last_id, Decimal(last))
    assert str(rows[0].total) == first and str(rows[-1].total) == last
    # Everyone else lies strictly between, so first and last are not shared.
    assert all(Decimal(last) < r.total < Decimal(first) for r in rows[1:-1])


def test_the_correction_moves_the_commune_up_and_the_diff_names_it(app):
    correction = app.event(max(e.seq for e in app.store.read(unit_id=CORRECTION["unit_id"])))
    assert correction.payload.reason == CORRECTION["reason"]
    before = replay.replay(app, YEAR, "commune", as_of="published").ranking.row(CORRECTION["unit_id"])
    after = replay.replay(app, YEAR, "commune", as_of="now").ranking.row(CORRECTION["unit_id"])
    assert after.total > before.total and after.rank < before.rank

    d = replay.diff(app, YEAR, "commune", old="published", new="now")
    moved = {c.unit_id: c for c in d.changes}
    change = moved[CORRECTION["unit_id"]]
    assert (change.old_rank, change.new_rank) == (before.rank, after.rank)
    assert [e.seq for e in change.events] == [correction.seq]
    # Units it overtook moved down a rank because of it, with no event of their own.
    assert all(not c.events for uid, c in moved.items() if uid != CORRECTION["unit_id"])


def test_publications_still_verify_after_the_correction(app):
    checks = replay.check_publications(app)
    assert [c.tier for c in checks] == ["department", "district", "commune"]
    assert all(c.ok for c in checks), [c.reason for c in checks]
    published = app.state().year_state(YEAR).latest_publication("commune")
    now = replay.replay(app, YEAR, "commune", as_of="now").ranking
    assert result_hash(now) != published.result_hash


def test_shipped_values_are_what_the_generator_makes(app):
    """The illustrative values are derived, not typed: regenerating gives the same bytes."""
    import csv

    with open(UNITS_CSV, encoding="utf-8") as f:
        units = list(csv.DictReader(f))
    assert submissions_csv(units, app.registry) == SUBMISSIONS_CSV.read_text(encoding="utf-8")


def test_demo_prints_the_six_figures(run, tmp_path):
    result = run(tmp_path / "demo.db", "demo")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name, points in [("Sở Công Thương", "94.79"), ("Sở Ngoại vụ", "70.17"),
                         ("UBND huyện Long Điền", "88.93"), ("UBND huyện Đất Đỏ", "84.03"),
                         ("UBND xã Phước Hưng (Long Điền)", "88.98"),
                         ("UBND xã Cù Bị (Châu Đức)", "63.81")]:
        assert f"{name} {points}" in out
    assert out.count("reproduced exactly") == 3
    assert "NOT" not in out
    assert "Total: 84.03" in out  # Đất Đỏ's explanation
    assert CORRECTION["authority"] in out
    assert out.count("reproduces its result hash") == 3
