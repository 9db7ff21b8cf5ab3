"""Issue 13 item 6: an installed plugin cannot take a built-in's place, and the code that
scores a year is on the record.

- The built-ins register first; an entry point named like one, an entry point loading a module
  already registered, two distributions declaring one entry-point name, and two plugins
  registering one rule kind or edition are `PluginConflict`s, never a silent override.
- Every ranking's provenance names the plugin and version of each rule kind that scored it; an
  adoption records those of the rule kinds that are not ictindex's own, and a replay under
  other code is refused like a changed edition.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from engine.result import result_hash
from events.types import MethodologyAdopted
from plugins import hookimpl
from ictindex.app import Ictindex
from plugins.manager import PluginConflict, build_registry, get_plugin_manager, get_registry, list_plugins
from ictindex.replay import EditionChanged, replay
from ictindex.errors import UsageError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ictindex-edition-example"
VERSION = importlib.metadata.version("ictindex")

# Every built-in rule kind under its own name, but giving full marks whatever the input.
GENEROUS = """
    import types

    from engine.rules import BUILTIN_RULE_KINDS
    from engine.rules.base import Outcome
    from plugins import hookimpl


    def full_marks(params, max_points, inputs, context):
        return Outcome(max_points, "full marks")


    @hookimpl
    def register_rule_kinds(register):
        for rule in BUILTIN_RULE_KINDS:
            register(types.SimpleNamespace(
                name=rule.name, description=rule.description, params_type=rule.params_type,
                arity=rule.arity, monotone=rule.monotone, peer=rule.peer, check=rule.check,
                prepare=rule.prepare, score=full_marks))
"""

TINY = """
    from engine.edition import load_edition
    from plugins import hookimpl

    TEXT = b'''
    id = "{id}"
    title = "Tiny"
    legal_basis = {{ kind = "decision", reference = "1/QD" }}
    indicators = [{{ code = "plan", name_vi = "p", name_en = "p", type = "yes_no" }}]
    [tiers.commune]
    scale = 10
    components = [{{ code = "A", name_vi = "a", name_en = "a", max = 10, criteria = [
      {{ code = "A1", name_vi = "a", name_en = "a", max = 10, rule = "yes_no", indicators = ["plan"] }} ] }}]
    '''


    @hookimpl
    def register_methodologies(register):
        register(load_edition(TEXT, source="{id}.toml"), source="{id}.toml")
"""


def cli(db: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from ictindex.cli import main; main()", "--db", str(db), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, **(env or {})})


def test_an_entry_point_named_like_a_builtin_cannot_replace_it(site, sample_db, tmp_path):
    site.install("generous-rules", "1.0", {"plugins.builtin_rules": "generous_rules"},
                 {"generous_rules": GENEROUS})
    with pytest.raises(PluginConflict, match=r"'plugins.builtin_rules' \(generous-rules 1.0\) has the name of "
                                             r"the built-in plugin 'plugins.builtin_rules'"):
        build_registry()
    registry = get_registry()
    assert {r.distribution for r in registry.rule_kinds.values()} == {"ictindex"}
    assert all(r.builtin and r.rule.__module__.startswith("engine.rules") for r in registry.rule_kinds.values())
    impostor = [p for p in list_plugins(registry) if p["distribution"] == "generous-rules"]
    assert impostor and impostor[0]["rule_kinds"] == [] and "built-ins cannot be replaced" in impostor[0]["problems"][0]

    # The ranks of the sample are those without the plugin; the plugin is named once on stderr.
    db = tmp_path / "brvt.db"
    shutil.copy(sample_db, db)
    with_plugin = cli(db, "rank", "--year", "2020", "--tier", "district")
    without = cli(db, "rank", "--year", "2020", "--tier", "district", env={"ICTINDEX_LOAD_PLUGINS": ""})
    assert with_plugin.returncode == 0 and without.returncode == 0
    assert with_plugin.stdout == without.stdout and "88.93" in with_plugin.stdout
    assert with_plugin.stderr.count("generous-rules") == 1 and "Traceback" not in with_plugin.stderr


def test_an_entry_point_loading_a_registered_module_is_a_conflict(site):
    site.install("alias-rules", "1.0", {"my-rules": "plugins.builtin_rules"})
    with pytest.raises(PluginConflict, match="'my-rules' .* loads 'plugins.builtin_rules', which is already "
                                             "registered as plugin 'plugins.builtin_rules'"):
        get_plugin_manager()
    listed = {p.name: p for p in get_registry().plugins}
    assert listed["my-rules"].status == "broken"
    assert listed["plugins.builtin_rules"].status == "loaded"


def test_two_distributions_declaring_one_entry_point_name_load_neither(site):
    site.install("province-a", "1.0", {"province": "province_a"}, {"province_a": TINY.format(id="a@2021")})
    site.install("province-b", "2.0", {"province": "province_b"}, {"province_b": TINY.format(id="b@2021")})
    with pytest.raises(PluginConflict, match="'province' is declared by province-a 1.0 and by province-b 2.0"):
        build_registry()
    registry = get_registry()
    assert "a@2021" not in registry.editions and "b@2021" not in registry.editions
    assert sorted((p.distribution, p.status) for p in registry.plugins if p.name == "province") == [
        ("province-a", "broken"), ("province-b", "broken")]


def test_a_plugin_claiming_a_builtin_rule_kind_is_left_out_whole():
    class Claims:
        @hookimpl
        def register_rule_kinds(self, register):
            from engine.rules.numeric import Ratio

            register(Ratio())

        @hookimpl
        def register_methodologies(self, register):
            from engine.edition import load_edition

            register(load_edition(b'id = "mine@2021"\ntitle = "x"\nlegal_basis = { kind = "decision", reference = "1" }\n'
                                  b'indicators = []\n'))

    pm = get_plugin_manager(env={"ICTINDEX_LOAD_PLUGINS": ""}, strict=False)
    pm.register(Claims(), name="claims")
    registry = build_registry(pm, strict=False)
    assert registry.rule_kinds["ratio"].plugin == "plugins.builtin_rules"
    assert "mine@2021" not in registry.editions
    claims = {p.name: p for p in registry.plugins}["claims"]
    assert claims.status == "broken"
    assert claims.problems == ("rule kind 'ratio' is registered by both 'plugins.builtin_rules' and 'claims'",)


def test_every_ranking_names_the_plugin_and_version_of_each_rule_kind(sample_db, tmp_path, fresh_registry):
    db = tmp_path / "brvt.db"
    shutil.copy(sample_db, db)
    with Ictindex.open(db) as app:
        for tier in ("department", "district", "commune"):
            r = replay(app, 2020, tier, as_of="published")
            tier_rules = app.registry.methodology("local-ict@2020").tiers[tier]
            used = {c.rule for comp in tier_rules.components for c in comp.criteria}
            assert r.ranking.provenance.rule_kinds == {name: f"ictindex {VERSION}" for name in sorted(used)}
            # ... outside what a publication fixes: the sample's recorded result hashes still hold
            assert result_hash(r.ranking) == app.state().year_state(2020).latest_publication(tier).result_hash
    with sqlite3.connect(db) as conn:
        bodies = [b for (b,) in conn.execute("select body from events where type = 'methodology_adopted'")]
    assert len(bodies) == 3 and not any(b"rule_kinds" in bytes(b) for b in bodies)


UNITS = "unit_id,tier,name,parent_id\nS1,department,Sở Một,\nS2,department,Sở Hai,\n"


def test_new_code_for_an_adopted_rule_kind_is_reported_like_a_changed_edition(site, tmp_path):
    site.add_folder(EXAMPLE, "ictindex_edition_example")
    site.install("ictindex-edition-example", "0.1.0", {"example-province": "ictindex_edition_example"})
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    db = tmp_path / "example.db"
    with Ictindex.open(db) as app:
        app.import_units(tmp_path / "units.csv", actor="t")
        [adoption] = app.adopt("example-province@2023", 2023, ["department"], actor="t")
        assert adoption.payload.rule_kinds == {"target_share": "ictindex-edition-example 0.1.0"}
        adopted_hash = adoption.payload.content_hash
        assert replay(app, 2023, "department").ranking.provenance.rule_kinds["target_share"] == (
            "ictindex-edition-example 0.1.0")

    site.uninstall("ictindex-edition-example")
    site.install("ictindex-edition-example", "0.2.0", {"example-province": "ictindex_edition_example"})
    with Ictindex.open(db) as app:
        assert app.registry.edition("example-province@2023").content_hash == adopted_hash  # same TOML
        with pytest.raises(EditionChanged, match="rule kind target_share was ictindex-edition-example 0.1.0, "
                                                 "is ictindex-edition-example 0.2.0"):
            replay(app, 2023, "department")
        changed = replay(app, 2023, "department", allow_changed_edition=True).ranking.provenance
        assert changed.rule_kinds["target_share"] == "ictindex-edition-example 0.2.0"
        assert changed.rule_kinds["ratio"] == f"ictindex {VERSION}"
        # Adopting again (a re-adoption: it needs a reason) records the code installed now,
        # after which the replay is accepted.
        with pytest.raises(UsageError, match="scored by other plugin code .rule kind target_share "
                                             "ictindex-edition-example 0.1.0 → "
                                             "ictindex-edition-example 0.2.0"):
            app.adopt("example-province@2023", 2023, ["department"], actor="t")
        [again] = app.adopt("example-province@2023", 2023, ["department"], actor="t",
                            reason="plugin upgraded", authority="CV 1")
        assert again.payload.rule_kinds == {"target_share": "ictindex-edition-example 0.2.0"}
        replay(app, 2023, "department")


def test_an_adoption_that_recorded_no_plugin_code_compares_the_content_hash_only(site, tmp_path):
    """Adoptions recorded before the rule kinds were: nothing to compare them with."""
    site.add_folder(EXAMPLE, "ictindex_edition_example")
    site.install("ictindex-edition-example", "0.2.0", {"example-province": "ictindex_edition_example"})
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    with Ictindex.open(tmp_path / "old.db") as app:
        app.import_units(tmp_path / "units.csv", actor="t")
        edition = app.registry.edition("example-province@2023")
        app.store.append([MethodologyAdopted(year=2023, tier="department", edition=edition.id,
                                             content_hash=edition.content_hash)], actor="t")
        assert replay(app, 2023, "department").ranking.provenance.rule_kinds["target_share"] == (
            "ictindex-edition-example 0.2.0")
