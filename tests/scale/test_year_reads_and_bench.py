"""Reading one year of a multi-year log, the synthetic generator, and `ictindex bench`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine.result import result_hash
from events.store import EventStore
from ictindex.app import Ictindex
from ictindex.cli import build_cli
from ictindex.replay import replay


def test_read_years_is_the_filtered_log(small_log):
    with EventStore(small_log) as store:
        full = list(store.read())
        for years in ([2020], [2021], [2020, 2021], [], [1999]):
            want = [e.seq for e in full
                    if getattr(e.payload, "year", None) is None or e.payload.year in years]
            assert [e.seq for e in store.read_years(years)] == want
            cut = full[len(full) // 2].seq
            assert [e.seq for e in store.read_years(years, as_of_seq=cut)] == \
                [s for s in want if s <= cut]


def test_replaying_one_year_reads_only_it_and_gives_the_same_result(small_log):
    with Ictindex.open(small_log) as app:
        full = app.state()
        for year in (2020, 2021):
            for tier in ("department", "district", "commune"):
                a = replay(app, year, tier)  # reads that year only
                b = replay(app, year, tier, state=full)
                assert a.seq == b.seq == app.store.last_seq()
                assert result_hash(a.ranking) == result_hash(b.ranking)
                assert a.ranking.provenance == b.ranking.provenance
        assert app.state(year=2021).year_state(2020).cells == {}


def test_the_generator_is_reproducible(tmp_path):
    from ictindex.bench.synthetic import Spec, build_log

    values = []
    for name in ("a.db", "b.db"):
        with Ictindex.open(tmp_path / name) as app:
            counts = build_log(app, Spec(units=12, seed=3, corrections=0.1, retractions=0.02))
            st = app.state().year_state(2020)
            values.append((counts, {u: st.values(u) for u in st.cells}))
    assert values[0] == values[1]
    assert values[0][0]["corrections"] > 0 and values[0][0]["retractions"] > 0


def test_bench_runs_to_the_end(monkeypatch):
    monkeypatch.setenv("ICTINDEX_PROGRESS", "0")
    result = CliRunner().invoke(build_cli(), ["bench", "--units", "500", "--repeat", "1",
                                              "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    phases = {p["phase"]: p for p in report["phases"]}
    assert set(phases) >= {"import", "cold_replay", "rank_from_projections", "correction",
                           "explain", "verify", "memory"}
    for p in phases.values():
        assert p["ratio"] is not None and p["ratio"] > 0
    # the report plots (docs/performance.md): one point per report in the units panel
    import xml.etree.ElementTree as ET

    from ictindex.bench.bench_plot import scaling_svg

    bigger = json.loads(result.output)
    bigger["params"]["units"] = 1000
    svg = ET.fromstring(scaling_svg([report, bigger]))
    lines = [e for e in svg.iter() if e.tag.endswith("polyline")]
    # replay floor, cold replay, verify, correction: against units (2 reports), then against
    # years (the report at the fewest units: 1)
    assert [len(e.get("points").split()) for e in lines] == [2] * 4 + [1] * 4


def test_bench_pairs_each_phase_with_its_floor(monkeypatch):
    """A slow spell that hits one pair scales both sides of its ratio; the order alternates."""
    from ictindex.bench import bench

    clock = [0.0]
    calls: list[str] = []
    slow = {2}  # the machine is three times slower during the third pair

    def work(name: str, cost: float):
        def run():
            calls.append(name)
            clock[0] += cost * (3 if (len(calls) - 1) // 2 in slow else 1)
            return name
        return run

    monkeypatch.setattr(bench.time, "perf_counter", lambda: clock[0])
    phase_s, floor_s, ratio, out = bench.paired(work("phase", 2.0), work("floor", 1.0), 4)
    assert ratio == 2.0 and out == "phase"
    assert (phase_s, floor_s) == (2.0, 1.0)  # medians of [2, 2, 6, 2] and [1, 1, 3, 1]
    assert calls == ["floor", "phase", "phase", "floor", "floor", "phase", "phase", "floor"]
