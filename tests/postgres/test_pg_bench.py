"""`ictindex bench --store`: runs on a real server, reports the three measures, leaves no
scratch database behind."""

from __future__ import annotations

from ictindex.bench.stores import format_store_table, run_store_bench


def test_the_store_bench_runs_and_cleans_up(pg_cluster):
    report = run_store_bench(pg_cluster.url(), units=12, repeat=1, batches=2, batch=3)
    ratios = {p["phase"]: p for p in report["phases"] if "ratio" in p}
    assert sorted(ratios) == ["cold_replay", "import", "writers_8_vs_1"]
    assert all(p["sqlite"] > 0 and p["postgresql"] > 0 for p in ratios.values())
    assert ratios["import"]["events"] > 0
    values = {p["phase"]: p["value"] for p in report["phases"] if "value" in p}
    assert values["prove_sqlite"] > 0 and values["prove_postgresql"] > 0
    table = format_store_table(report)
    assert table.splitlines()[1].split() == ["measure", "sqlite", "postgresql", "ratio", "target"]
    with pg_cluster.admin() as conn:
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE "
                            "'ictindex\\_bench\\_%'").fetchone()[0] == 0


def test_store_must_be_a_postgres_url(run, tmp_path):
    r = run(tmp_path / "x.db", "bench", "--store", str(tmp_path / "other.db"))
    assert r.exit_code == 2 and "--store takes a PostgreSQL URL" in r.stderr
