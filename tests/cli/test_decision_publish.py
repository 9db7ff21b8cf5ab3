"""One decision, one checkpoint: `publish --decision D` with several tiers records one event,
each tier keeps its own result hash (checked by `verify`), and the decision prints the checkpoint
right after its last publication event."""

from __future__ import annotations

import sqlite3

from engine.result import result_hash
from events.note import Verifier, open_checkpoint
from events.types import PublishedTier, RankingPublished
from ictindex.app import Ictindex
from ictindex.sample import DECISION, YEAR

SAMPLE_DECISION_CHECKPOINT = "4174:e0b3a31218f85b1fab5736f0fc41a61a9b39e6709daf68649816c20618240506"


def _events(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def test_the_sample_decision_names_the_checkpoint_after_its_last_event(sample_db):
    """1018/QĐ-UBND was recorded as three events (#4172-#4174): its checkpoint is 4174's."""
    with Ictindex.open(sample_db) as app:
        assert str(app.decision_checkpoint(DECISION)) == SAMPLE_DECISION_CHECKPOINT
        assert str(app.decision_checkpoint(DECISION, YEAR)) == SAMPLE_DECISION_CHECKPOINT
        assert str(app.store.checkpoint()).startswith("4175:fb0765d09643715a")


def test_several_tiers_are_one_event_and_one_checkpoint(sample_copy, run):
    before = _events(sample_copy)
    result = run(sample_copy, "publish", "--year", 2020, "--decision", "2000/QĐ-UBND",
                 "--tier", "commune", "--tier", "department")
    assert result.exit_code == 0, result.output
    assert _events(sample_copy) == before + 1  # one event for both tiers
    with Ictindex.open(sample_copy) as app:
        cp = app.store.checkpoint(before + 1)
        ys = app.state().year_state(2020)
        [event] = list(app.store.read(before + 1))
        # each tier sees its own publication, at the same seq and checkpoint
        dept, commune = ys.latest_publication("department"), ys.latest_publication("commune")
        assert ys.publications("department")[-1].seq == ys.publications("commune")[-1].seq == before + 1
        assert (dept.tier, commune.tier) == ("department", "commune")
        assert dept.checkpoint_size == commune.checkpoint_size == before
        assert dept.result_hash != commune.result_hash
        assert ys.latest_publication("district").decision == DECISION  # not in this decision
        assert [t.tier for t in event.payload.also] == ["commune"]
        # `--as-of published` of either tier replays the same checkpoint
        assert app.rank(2020, "commune", as_of="published").ranking.provenance.checkpoint_size == before
        checks = [c for c in app.verify().publications if c.seq == before + 1]
        assert [(c.tier, c.ok) for c in checks] == [("department", True), ("commune", True)]
        assert app.decision_checkpoint("2000/QĐ-UBND") == cp
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("checkpoint ")] == [f"checkpoint {cp}"]
    assert f"result hash department {dept.result_hash}" in lines
    assert f"result hash commune {commune.result_hash}" in lines
    # the same decision and results again: nothing new, the same checkpoint
    again = run(sample_copy, "publish", "--year", 2020, "--decision", "2000/QĐ-UBND",
                "--tier", "department", "--tier", "commune")
    assert again.exit_code == 0, again.output
    assert "Already published" in again.stdout and f"checkpoint {cp}" in again.stdout
    assert _events(sample_copy) == before + 1


def test_without_tier_every_adopted_tier_is_published(sample_copy, run):
    before = _events(sample_copy)
    result = run(sample_copy, "publish", "--year", 2020, "--decision", "2001/QĐ-UBND")
    assert result.exit_code == 0, result.output
    assert "department, district, commune 2020" in result.stdout
    assert _events(sample_copy) == before + 1
    verify = run(sample_copy, "verify")
    for tier in ("department", "district", "commune"):
        assert f"publication #{before + 1} (2001/QĐ-UBND, 2020 {tier}): reproduces" in verify.stdout


def test_verify_checks_each_tiers_result_hash(sample_copy, run):
    """A multi-tier event whose second tier's result hash is wrong: verify names that tier."""
    with Ictindex.open(sample_copy) as app:
        r = app.replay(2020, "department")
        p = r.ranking.provenance
        n = app.store.last_seq()
        app.store.append([RankingPublished(
            year=2020, tier="department", edition=p.edition, content_hash=p.content_hash,
            checkpoint_size=n, checkpoint_root=app.store.checkpoint(n).root,
            result_hash=result_hash(r.ranking), decision="3/QĐ",
            also=(PublishedTier(tier="district", edition=p.edition, content_hash=p.content_hash,
                                result_hash="0" * 64),))], actor="tester")
    result = run(sample_copy, "verify")
    assert result.exit_code == 1
    assert f"publication #{n + 1} (3/QĐ, 2020 department): reproduces" in result.stdout
    assert f"publication #{n + 1} (3/QĐ, 2020 district): DOES NOT reproduce" in result.stdout


def test_supersede_is_one_tier_at_a_time(sample_copy, run):
    before = sample_copy.read_bytes()
    result = run(sample_copy, "publish", "--year", 2020, "--decision", DECISION, "--tier",
                 "district", "--tier", "commune", "--supersede", "--reason", "x")
    assert result.exit_code == 2
    assert "one tier's publication at a time" in result.stderr
    assert sample_copy.read_bytes() == before


def test_publish_signs_the_decisions_checkpoint(sample_copy, run, tmp_path):
    key = tmp_path / "k"
    assert run(sample_copy, "key", "generate", "ictindex.example/t", "--out", key).exit_code == 0
    result = run(sample_copy, "publish", "--year", 2020, "--decision", "4/QĐ", "--sign", key)
    assert result.exit_code == 0, result.output
    with Ictindex.open(sample_copy) as app:
        cp = app.decision_checkpoint("4/QĐ")
    assert cp.size == 4176  # the sample's 4175 events and this publication
    note = result.stdout[result.stdout.index("ictindex.example/t\n"):]
    verifier = Verifier.parse((tmp_path / "k.pub").read_text(encoding="utf-8"))
    assert open_checkpoint(verifier, note) == cp
