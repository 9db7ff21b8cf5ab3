"""Replays through the command line: byte-identical across processes, and guarded editions."""

from __future__ import annotations

import json

import attrs
import msgspec
import pytest

from engine.edition import content_hash
from ictindex import replay
from ictindex.app import Ictindex
from ictindex.sample import YEAR

HOSTILE_ENVS = [
    {"PYTHONHASHSEED": "1", "TZ": "UTC", "LC_ALL": "C"},
    {"PYTHONHASHSEED": "4242", "TZ": "Asia/Ho_Chi_Minh", "LC_ALL": "vi_VN.UTF-8"},
]


@pytest.mark.parametrize("args", [
    ("rank", "--year", YEAR, "--tier", "commune", "--format", "json"),
    ("explain", "753", "--year", YEAR, "--format", "json"),
    ("diff", "--year", YEAR, "--tier", "commune", "--from", "published", "--format", "json"),
])
def test_output_is_byte_identical_across_processes_and_environments(sample_db, args, run_process):
    outputs = [run_process(sample_db, *args, env_overrides=env) for env in HOSTILE_ENVS]
    for out in outputs:
        assert out.returncode == 0, out.stderr.decode()
    assert outputs[0].stdout == outputs[1].stdout
    assert len(outputs[0].stdout) > 1000


def test_rank_json_names_what_produced_it(sample_db, run):
    result = run(sample_db, "rank", "--year", YEAR, "--tier", "district", "--format", "json")
    data = json.loads(result.stdout)
    assert data["edition"] == "local-ict@2020" and len(data["edition_hash"]) == 64
    assert data["engine_version"] and data["plugin"] and data["checkpoint"]["size"] > 4000
    first = data["rows"][0]
    assert set(first) >= {"rank", "unit_id", "name", "total", "components"}
    assert (first["rank"], first["unit_id"], first["total"]) == (1, "752", "88.93")
    assert len(first["components"]) == 8


def test_explain_traces_points_to_events(sample_db, run):
    data = json.loads(run(sample_db, "explain", "753", "--year", YEAR, "--as-of", "published",
                          "--format", "json").stdout)
    assert data["total"] == "84.03"
    inputs = [i for c in data["components"] for cr in c["criteria"] for i in cr["inputs"]]
    assert inputs and all(i["events"] for i in inputs)
    assert all(e["evidence"] for i in inputs for e in i["events"])


def _changed_registry(app: Ictindex):
    entry = app.registry.edition("local-ict@2020")
    changed = msgspec.structs.replace(entry.methodology, description="edited after adoption")
    editions = dict(app.registry.editions)
    editions["local-ict@2020"] = attrs.evolve(entry, methodology=changed)
    assert editions["local-ict@2020"].content_hash == content_hash(changed) != entry.content_hash
    return attrs.evolve(app.registry, editions=editions)


def test_a_changed_edition_is_refused_unless_asked_for(sample_db):
    with Ictindex.open(sample_db) as app:
        app.registry = _changed_registry(app)
        with pytest.raises(replay.EditionChanged, match="allow-changed-edition"):
            replay.replay(app, YEAR, "district")
        forced = replay.replay(app, YEAR, "district", allow_changed_edition=True).ranking
        assert forced.rows[0].total == replay.replay(
            app, YEAR, "district", allow_changed_edition=True, as_of="published").ranking.rows[0].total
        checks = replay.check_publications(app)
        assert checks and all(c.ok is False and "differs" in c.reason for c in checks)


def test_publish_then_correct_then_verify(sample_copy, run):
    before = run(sample_copy, "rank", "--year", YEAR, "--tier", "district", "--format", "json").stdout
    target = json.loads(run(sample_copy, "log", "--unit", "753", "--indicator", "it_plan",
                            "--format", "json").stdout)[0]["seq"]
    assert run(sample_copy, "correct", target, "no", "--reason", "plan not approved").exit_code == 0
    after = run(sample_copy, "rank", "--year", YEAR, "--tier", "district", "--format", "json").stdout
    assert json.loads(before)["rows"] != json.loads(after)["rows"]
    verified = run(sample_copy, "verify")
    assert verified.exit_code == 0 and verified.stdout.count("reproduces") == 3
    d = json.loads(run(sample_copy, "diff", "--year", YEAR, "--tier", "district", "--from",
                       "published", "--format", "json").stdout)
    moved = {c["unit_id"]: c for c in d["changes"]}
    assert [e["reason"] for e in moved["753"]["events"]] == ["plan not approved"]
