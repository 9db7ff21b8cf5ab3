"""Issue 14 item 9: one broken plugin does not stop the tool.

A plugin that does not import, whose hook raises, whose edition is not valid TOML or fails the
checks, or that implements a hook that does not exist, is left out whole (its editions are
unavailable), named once on stderr and listed with its problem by `ictindex plugins`; every
other plugin and command works.  A plugin ICTINDEX_LOAD_PLUGINS keeps out is named as such.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from ictindex.app import Ictindex
from ictindex.cli import build_cli
from ictindex.errors import UsageError
from plugins.manager import UnknownEdition, get_registry
from ictindex.replay import replay

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "ictindex-edition-example"

TINY_TOML = '''
id = "tiny@2021"
title = "Tiny"
legal_basis = { kind = "decision", reference = "1/QD" }
indicators = [{ code = "plan", name_vi = "p", name_en = "p", type = "yes_no" }]
[tiers.commune]
scale = 10
components = [{ code = "A", name_vi = "a", name_en = "a", max = 10, criteria = [
  { code = "A1", name_vi = "a", name_en = "a", max = 10, rule = "yes_no", indicators = ["plan"] } ] }]
'''

HEALTHY = f'''
from engine.edition import load_edition
from plugins import hookimpl

@hookimpl
def register_methodologies(register):
    register(load_edition({TINY_TOML.encode()!r}, source="tiny/edition.toml"), source="tiny/edition.toml")
'''


def edition_plugin(toml: str) -> str:
    return f'''
from engine.edition import load_edition
from plugins import hookimpl

@hookimpl
def register_methodologies(register):
    register(load_edition({toml.encode()!r}, source="broken/edition.toml"), source="broken/edition.toml")
'''


BROKEN = {
    "import error": ("import a_dependency_that_is_not_installed\n",
                     "could not be imported: No module named 'a_dependency_that_is_not_installed'"),
    "hook raises": ("from plugins import hookimpl\n\n@hookimpl\ndef register_methodologies(register):\n"
                    "    raise RuntimeError('the province server is offline')\n",
                    "failed in register_methodologies: the province server is offline"),
    "invalid TOML": (edition_plugin('id = "bad@2020"\ntitle = \n'),
                     "broken/edition.toml: line 2, column 9: invalid TOML"),
    "invalid edition": (edition_plugin(TINY_TOML.replace("tiny@2021", "bad@2021").replace("max = 10, rule", "max = 12, rule")),
                        "broken/edition.toml: tiers.commune.components[0].criteria[0].max:"),
    "misspelt hook": ("from plugins import hookimpl\n\n@hookimpl\ndef register_methodology(register):\n    pass\n",
                      "unknown hook 'register_methodology'"),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_plugin_is_left_out_and_everything_else_works(site, sample_db, tmp_path, capsys, kind):
    source, problem = BROKEN[kind]
    site.install("broken-province", "1.0", {"broken": "broken_province"}, {"broken_province": source})
    site.install("tiny-province", "1.0", {"tiny": "tiny_province"}, {"tiny_province": HEALTHY})
    db = tmp_path / "brvt.db"
    shutil.copy(sample_db, db)

    cli = build_cli()  # what a plugin fails at import is found here
    runner = CliRunner()
    listed = runner.invoke(cli, ["--db", str(db), "plugins", "--format", "json"], catch_exceptions=False)
    table = runner.invoke(cli, ["--db", str(db), "plugins"], catch_exceptions=False)
    editions = runner.invoke(cli, ["--db", str(db), "methodologies", "--format", "json"], catch_exceptions=False)
    ranked = runner.invoke(cli, ["--db", str(db), "rank", "--year", "2020", "--tier", "district"],
                           catch_exceptions=False)
    missing = runner.invoke(cli, ["--db", str(db), "methodologies", "show", "bad@2021"], catch_exceptions=False)

    for result in (listed, table, editions, ranked):
        assert result.exit_code == 0, result.output
    rows = {(p["name"], p["distribution"]): p for p in json.loads(listed.stdout)}
    broken = rows[("broken", "broken-province")]
    assert broken["status"] == "broken" and broken["editions"] == [] and problem in broken["problems"][0]
    assert rows[("tiny", "tiny-province")]["editions"] == ["tiny@2021"]
    assert "broken-province  1.0      broken" in table.stdout and problem in table.stdout
    assert {m["id"] for m in json.loads(editions.stdout)} == {
        "local-dti@2022", "local-ict@2020", "national-ict@2020", "tiny@2021"}
    assert "88.93" in ranked.stdout
    assert missing.exit_code == 2 and "left out as broken: 'broken' (broken-province 1.0)" in missing.stderr
    # Named once in the whole process, however many commands ran.
    stderr = capsys.readouterr().err + "".join(r.stderr for r in (listed, table, editions, ranked, missing))
    assert stderr.count("Warning: ") == 1 and stderr.count(problem) == 1 and "Traceback" not in stderr


def test_a_plugin_kept_out_by_the_environment_variable_is_named_as_filtered(site, tmp_path, monkeypatch):
    site.add_folder(EXAMPLE, "ictindex_edition_example")
    site.install("ictindex-edition-example", "0.1.0", {"example-province": "ictindex_edition_example"})
    (tmp_path / "units.csv").write_text("unit_id,tier,name,parent_id\nS1,department,Sở Một,\n", encoding="utf-8")
    db = tmp_path / "example.db"
    with Ictindex.open(db) as app:
        app.import_units(tmp_path / "units.csv", actor="t")
        app.adopt("example-province@2023", 2023, ["department"], actor="t")

    monkeypatch.setenv("ICTINDEX_LOAD_PLUGINS", "")
    site.refresh()
    named = "filtered out by ICTINDEX_LOAD_PLUGINS='': 'example-province' (ictindex-edition-example 0.1.0)"
    assert [p.name for p in get_registry().filtered] == ["example-province"]
    with Ictindex.open(db) as app, pytest.raises(UsageError) as e:
        replay(app, 2023, "department")
    assert "adopted example-province@2023, which no loaded plugin provides" in str(e.value)
    assert named in str(e.value) and "not installed" not in str(e.value)
    with pytest.raises(UnknownEdition, match=named.replace("(", r"\(").replace(")", r"\)")):
        get_registry().edition("example-province@2023")

    runner = CliRunner()
    table = runner.invoke(build_cli(), ["--db", str(db), "plugins"], catch_exceptions=False)
    row = [line for line in table.stdout.splitlines() if line.startswith("example-province")]
    assert row and "ictindex-edition-example  0.1.0" in row[0] and "filtered out by ICTINDEX_LOAD_PLUGINS" in row[0]
    rows = json.loads(runner.invoke(build_cli(), ["--db", str(db), "plugins", "--format", "json"]).stdout)
    assert {p["name"]: p["status"] for p in rows}["example-province"] == "filtered"


def test_leaving_a_plugin_out_takes_its_rule_kinds_from_the_editions_that_use_them():
    from engine.edition import load_edition
    from engine.rules.numeric import Ratio
    from plugins import hookimpl
    from plugins.manager import build_registry, get_plugin_manager

    class MyRatio(Ratio):
        name = "my_ratio"

    class Rules:  # a rule kind, and an edition that fails the checks
        @hookimpl
        def register_rule_kinds(self, register):
            register(MyRatio())

        @hookimpl
        def register_methodologies(self, register):
            register(load_edition(TINY_TOML.replace("tiny@2021", "bad@2021").replace("max = 10, rule", "max = 12, rule").encode()))

    class Uses:  # an edition that uses the other plugin's rule kind
        @hookimpl
        def register_methodologies(self, register):
            register(load_edition(TINY_TOML.replace('rule = "yes_no", indicators = ["plan"]',
                                                    'rule = "my_ratio", indicators = ["share"]')
                                  .replace('type = "yes_no"', 'type = "yes_no" }, { code = "share", name_vi = "s", '
                                                              'name_en = "s", type = "ratio"').encode()))

    pm = get_plugin_manager(env={"ICTINDEX_LOAD_PLUGINS": ""}, strict=False)
    pm.register(Rules(), name="a-rules")
    pm.register(Uses(), name="b-uses")
    registry = build_registry(pm, strict=False)
    assert "my_ratio" not in registry.rule_kinds and "tiny@2021" not in registry.editions
    status = {p.name: (p.status, p.problems) for p in registry.plugins}
    assert status["a-rules"][0] == status["b-uses"][0] == "broken"
    assert "unknown rule kind 'my_ratio'" in status["b-uses"][1][0]
    assert sorted(registry.editions) == ["local-dti@2022", "local-ict@2020", "national-ict@2020"]


COMMANDS = '''
import click
from plugins import hookimpl

@hookimpl
def register_commands(cli):
    @cli.command("half-registered")
    def half():
        pass
    raise RuntimeError("the command plugin is broken")
'''


def test_a_plugin_failing_to_add_its_commands_adds_none_and_is_left_out(site, tmp_path, capsys):
    site.install("command-plugin", "1.0", {"commands": "command_plugin"}, {"command_plugin": COMMANDS})
    cli = build_cli()
    assert "half-registered" not in cli.commands
    assert "the command plugin is broken" in capsys.readouterr().err
    status = {p.name: (p.status, p.problems) for p in get_registry().plugins}
    assert status["commands"] == ("broken", ("plugin 'commands' failed in register_commands: the command plugin is broken",))
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "x.db"), "methodologies"], catch_exceptions=False)
    assert result.exit_code == 0 and "local-ict@2020" in result.stdout
