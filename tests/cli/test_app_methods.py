"""Every command that reads or writes the log is one call of one `Ictindex` method, and the
methods give what the commands print."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

from ictindex.app import Ictindex
from ictindex.replay import replay

CLI = Path(__file__).resolve().parents[2] / "ictindex" / "cli"
# The application's free functions behind the commands: the CLI reaches them through the app.
BEHIND_THE_APP = {"replay", "explain", "diff", "publish", "publication_check", "whatif",
                  "robustness", "export_annex", "build_site", "verify_log", "check_publications",
                  "check_projections"}


def test_the_commands_call_the_app_not_the_functions_behind_it():
    called = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            # `replay.replay(c.app, ...)`, `export_annex(c.app, ...)`: the app as an argument
            if node.args and ast.unparse(node.args[0]) == "c.app":
                called.append(f"{path.name}:{node.lineno}: {ast.unparse(f)}")
            elif isinstance(f, ast.Name) and f.id in BEHIND_THE_APP:
                called.append(f"{path.name}:{node.lineno}: {f.id}")
    assert called == []


def test_methods_give_what_the_commands_print(sample_db, tmp_path, run):
    db = tmp_path / "log.db"
    shutil.copy(sample_db, db)
    with Ictindex.open(db) as app:
        checkpoint = app.checkpoint()
        verification = app.verify(checkpoint)
        proof = app.prove(7, str(checkpoint))
        ranking = app.rank(2020, "district").ranking
    assert run(db, "checkpoint").stdout.strip() == str(checkpoint)
    printed = json.loads(run(db, "verify", "--format", "json").stdout)
    assert verification.ok and printed["ok"]
    assert printed["checkpoint"] == verification.checkpoint == str(checkpoint)
    assert [p["seq"] for p in printed["publications"]] == [p.seq for p in verification.publications]
    proved = json.loads(run(db, "prove", "7", "--checkpoint", str(checkpoint),
                            "--format", "json").stdout)
    assert proof.ok and proved["ok"] and proved["proof"]["path"] == list(proof.proof.path)
    ranked = json.loads(run(db, "rank", "--year", 2020, "--tier", "district",
                            "--format", "json").stdout)
    assert [r["unit_id"] for r in ranked["rows"]] == [r.unit_id for r in ranking.rows]


def test_a_partial_state_says_which_years_it_read(sample_db):
    with Ictindex.open(sample_db, read_only=True) as app:
        assert app.state().loaded_years is None
        assert app.state(year=2020).loaded_years == frozenset({2020})


def test_ranking_tiers_of_one_log_prefix_hashes_the_log_once(sample_db, monkeypatch):
    with Ictindex.open(sample_db, read_only=True) as app:
        computed = []
        store_checkpoint = app.store.checkpoint
        monkeypatch.setattr(app.store, "checkpoint",
                            lambda size=None: computed.append(size) or store_checkpoint(size))
        first = replay(app, 2020, "district").ranking.provenance
        second = replay(app, 2020, "department").ranking.provenance
        assert computed == [first.checkpoint_size]
        assert first.checkpoint_root == second.checkpoint_root == store_checkpoint(
            first.checkpoint_size).root
