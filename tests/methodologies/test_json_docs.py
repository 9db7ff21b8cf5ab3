"""docs/methodologies.md documents the JSON of `rank`, `explain` and `diff` field by field: the
tables name exactly the keys the commands print, so the page cannot drift from the output."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import msgspec
from click.testing import CliRunner

from engine.result import AdoptionTrace
from ictindex.cli import build_cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "methodologies.md"
# Objects whose keys are data (unit ids, component codes, rule kinds) or a value's encoding:
# documented as a field's type, not as a table of fields.
MAPS = re.compile(r"(^rank\.rows\[\]\.components|\.rule_kinds|^rank\.missing_inputs|\.peers|\.value)$")


def documented() -> dict[str, set[str]]:
    section = DOC.read_text(encoding="utf-8").split("## The JSON of `rank`, `explain` and `diff`")[1]
    tables: dict[str, set[str]] = {}
    for path, body in re.findall(r"^#### `([^`]+)`\n\n(.*?)(?=\n#### |\Z)", section, flags=re.S | re.M):
        fields = set()
        for line in body.splitlines()[2:]:
            if line.startswith("| "):
                fields.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
        tables[path] = fields
    return tables


def keys(obj, path: str, out: dict[str, set[str]]) -> None:
    if MAPS.search(path):
        return
    if isinstance(obj, dict):
        out.setdefault(path, set()).update(obj)
        for k, v in obj.items():
            keys(v, f"{path}.{k}", out)
    elif isinstance(obj, list):
        for v in obj:
            keys(v, f"{path}[]", out)


def test_the_json_tables_name_exactly_the_keys_printed(sample_db, tmp_path, monkeypatch):
    db = tmp_path / "brvt.db"
    shutil.copy(sample_db, db)
    monkeypatch.chdir(tmp_path)
    cli, runner = build_cli(), CliRunner()

    def run(*args):
        r = runner.invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
        assert r.exit_code == 0, r.output
        return json.loads(r.stdout)

    # a commune with no value this year: listed among the excluded
    (tmp_path / "u.csv").write_text("unit_id,tier,name,parent_id\nX1,commune,UBND xã Mới,747\n",
                                    encoding="utf-8")
    runner.invoke(cli, ["--db", str(db), "units", "import", "u.csv"], catch_exceptions=False)
    printed: dict[str, set[str]] = {}
    for args in (["rank", "--year", "2020", "--tier", "commune"],
                 ["rank", "--year", "2020", "--tier", "commune", "--as-of", "published"]):
        keys(run(*args, "--format", "json"), "rank", printed)
    for unit in ("26656", "X1"):
        keys(run("explain", unit, "--year", "2020", "--format", "json"), "explain", printed)
    keys(run("diff", "--year", "2020", "--tier", "commune", "--from", "published", "--format", "json"),
         "diff", printed)
    assert printed["rank.excluded[]"]  # the tables below are checked against real output
    assert "rank.publication" in printed

    docs = documented()
    # a re-adoption is not in the sample: its table is checked against the struct it encodes
    assert docs.pop("explain.readoption") == {f.encode_name for f in msgspec.structs.fields(AdoptionTrace)}
    assert set(docs) == set(printed), "documented objects differ from the printed ones"
    for path, fields in printed.items():
        assert docs[path] == fields, (path, sorted(docs[path] ^ fields))
