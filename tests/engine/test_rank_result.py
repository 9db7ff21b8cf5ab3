"""Rank (tie rules), the canonical result, its hash and the verify comparison."""

from __future__ import annotations

from decimal import Decimal as D

import msgspec
import pytest
from engine_testkit import Log, mini_edition, provenance, run
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.rank import assign_ranks
from engine.result import (
    Ranking,
    canonical_bytes,
    compare_rankings,
    decode_ranking,
    first_differing_unit,
    result_hash,
)

FULL = {"pc": "0.8", "bw": "40", "net": True, "head": {"choice": "chairman"}, "lead": "4.5"}


def test_competition_and_dense_ranks():
    items = [("d", D("84.03")), ("a", D("88.93")), ("c", D("84.03")), ("b", D("84.03")), ("e", D(70))]
    assert assign_ranks(items, "competition") == [(1, "a"), (2, "b"), (2, "c"), (2, "d"), (5, "e")]
    assert assign_ranks(items, "dense") == [(1, "a"), (2, "b"), (2, "c"), (2, "d"), (3, "e")]
    with pytest.raises(ValueError):
        assign_ranks(items, "olympic")


@given(st.lists(st.tuples(st.text("abcxyzĐđ", min_size=1, max_size=3), st.integers(0, 5)),
                unique_by=lambda t: t[0], max_size=12),
       st.sampled_from(["competition", "dense"]))
def test_ranks_follow_the_tie_rule(pairs, method):
    items = [(u, D(v)) for u, v in pairs]
    ranked = assign_ranks(list(reversed(items)), method)
    value = dict(items)
    for rank, uid in ranked:
        greater = [v for v in value.values() if v > value[uid]]
        want = 1 + (len(greater) if method == "competition" else len(set(greater)))
        assert rank == want
    # display order: best first, ties by unit_id (code points), never by input order
    assert ranked == sorted(ranked, key=lambda r: (-value[r[1]], r[1]))
    assert assign_ranks(items, method) == ranked


def _two_tied():
    log = Log()
    for uid in ("754", "747", "750"):
        log.register(uid, f"Huyện {uid}")
    log.submit_all(2020, "754", FULL)
    log.submit_all(2020, "747", FULL)
    log.submit_all(2020, "750", {**FULL, "lead": "4.499"})
    return log


def test_compare_published_vs_exact_totals():
    log = _two_tied()
    _, pub = run(log.events, mini_edition(compare="published"))
    _, exact = run(log.events, mini_edition(compare="exact"))
    # 18.299 publishes as 18.30: a three-way tie on the published table
    assert [(r.rank, r.unit_id) for r in pub.rows] == [(1, "747"), (1, "750"), (1, "754")]
    assert [(r.rank, r.unit_id) for r in exact.rows] == [(1, "747"), (1, "754"), (3, "750")]
    _, dense = run(log.events, mini_edition(compare="exact", method="dense"))
    assert [(r.rank, r.unit_id) for r in dense.rows] == [(1, "747"), (1, "754"), (2, "750")]


def test_result_hash_covers_published_content_only():
    log = _two_tied()
    ed = mini_edition()
    _, a = run(log.events, ed, prov=provenance(ed, checkpoint_size=10, checkpoint_root="aa",
                                               as_of="seq 10", engine_version="1"))
    _, b = run(log.events, ed, prov=provenance(ed, checkpoint_size=12, checkpoint_root="bb",
                                               as_of="now", engine_version="2", plugin="x"))
    assert canonical_bytes(a) != canonical_bytes(b)
    assert result_hash(a) == result_hash(b)
    _, c = run(log.events, ed, prov=provenance(ed, content_hash="other"))
    assert result_hash(c) != result_hash(a)
    log.correct(log.events[3].event_id, "0.9")
    _, d = run(log.events, ed)
    assert result_hash(d) != result_hash(a)


def test_canonical_bytes_sorted_keys_decimals_as_strings_and_round_trip():
    log = _two_tied()
    _, r = run(log.events, mini_edition())
    raw = canonical_bytes(r)
    data = msgspec.json.decode(raw)
    assert list(data) == sorted(data)
    assert data["rows"][0]["total"] == "18.30" and data["rows"][0]["components"]["HT"] == "9.80"
    assert [x["total_exact"] for x in data["rows"] if x["unit_id"] == "750"] == ["18.299"]
    back = decode_ranking(raw)
    assert back == r and canonical_bytes(back) == raw and result_hash(back) == result_hash(r)


def test_compare_rankings_names_the_first_unit_that_differs():
    log = _two_tied()
    ed = mini_edition()
    _, recorded = run(log.events, ed)
    assert compare_rankings(recorded, recorded) is None
    log.correct(log.events[-1].event_id, "3")  # 750's lead 4.499 → 3
    _, now = run(log.events, ed)
    m = compare_rankings(recorded, now)
    assert (m.unit_id, m.field, m.recorded, m.rederived) == ("750", "rank", "1", "3")
    assert first_differing_unit(recorded, now) == "750"
    assert "unit 750: rank was 1" in m.message()
    other = msgspec.structs.replace(now, provenance=provenance(ed, content_hash="zz"))
    assert compare_rankings(recorded, other).field == "content_hash"
    fewer = msgspec.structs.replace(recorded, rows=recorded.rows[:2])
    m = compare_rankings(fewer, recorded)
    assert (m.unit_id, m.field) == ("754", "ranked")


def test_trailing_zero_differences_count():
    log = _two_tied()
    _, r = run(log.events, mini_edition())
    row = r.rows[0]
    changed = msgspec.structs.replace(row, total=D("18.3"))
    r2 = msgspec.structs.replace(r, rows=(changed,) + r.rows[1:])
    assert compare_rankings(r, r2).field == "total"
    assert result_hash(r) != result_hash(r2)


def test_ranking_is_frozen():
    log = _two_tied()
    _, r = run(log.events, mini_edition())
    with pytest.raises(AttributeError):
        r.year = 2021  # type: ignore[misc]
    assert isinstance(r, Ranking)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.sampled_from(["1", "2", "2.5", "3"]), min_size=2, max_size=7))
def test_ranks_follow_the_tie_rule_end_to_end(leads):
    log = Log()
    for i, lead in enumerate(leads):
        uid = f"u{i}"
        log.register(uid, f"Xã {i}", parent_id="A" if i % 2 else "B")
        log.submit_all(2020, uid, {**FULL, "lead": lead})
    for group_by in (None, "parent_id"):
        scores, r = run(log.events, mini_edition(group_by=group_by))
        for row in r.rows:
            peers = [x for x in r.rows if x.group == row.group]
            assert row.rank == 1 + sum(1 for x in peers if x.total > row.total)
        keys = [(x.group is not None, x.group or "", x.rank, x.unit_id) for x in r.rows]
        assert keys == sorted(keys)
