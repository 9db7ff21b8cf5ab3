"""The plugin host: built-ins as DEFAULT_PLUGINS, conflicts named, pending hooks refused,
ICTINDEX_LOAD_PLUGINS honoured, the registry cached, plain data for the command line."""

from __future__ import annotations

import os

import msgspec
import pytest

from engine.edition import load_edition
from engine.rules import builtin_rule_kinds
from engine.rules.numeric import Ratio
from plugins import hookimpl
from plugins.manager import (
    DEFAULT_PLUGINS,
    PluginConflict,
    PluginError,
    UnknownEdition,
    build_registry,
    get_plugin_manager,
    get_registry,
    list_methodologies,
    list_plugins,
    reset_registry,
    show_methodology,
)

BUILTIN_EDITIONS = ["local-dti@2022", "local-ict@2020", "national-ict@2020"]

TINY = b"""
id = "tiny@2021"
title = "Tiny"
legal_basis = { kind = "decision", reference = "1/QD" }
indicators = [{ code = "plan", name_vi = "p", name_en = "p", type = "yes_no" }]
[tiers.commune]
scale = 10
components = [{ code = "A", name_vi = "a", name_en = "a", max = 10, criteria = [
  { code = "A1", name_vi = "a", name_en = "a", max = 10, rule = "yes_no", indicators = ["plan"] } ] }]
"""


def edition_plugin(text: bytes, source: str = "tiny.toml"):
    class Plugin:
        @hookimpl
        def register_methodologies(self, register):
            register(load_edition(text, source=source), source=source)

    return Plugin()


def manager_with(*plugins):
    pm = get_plugin_manager(env={"ICTINDEX_LOAD_PLUGINS": ""})
    for name, plugin in plugins:
        pm.register(plugin, name=name)
    return pm


def test_the_test_suite_keeps_installed_plugins_out():
    assert os.environ["ICTINDEX_LOAD_PLUGINS"] == ""
    registry = build_registry()
    assert [p.name for p in registry.plugins] == sorted(DEFAULT_PLUGINS)
    assert all(p.builtin for p in registry.plugins)


def test_the_builtins_register_through_the_hooks():
    registry = build_registry()
    assert sorted(registry.editions) == BUILTIN_EDITIONS
    assert set(registry.rule_kinds) == set(builtin_rule_kinds())
    assert {e.plugin for e in registry.editions.values()} == {m for m in DEFAULT_PLUGINS if m.startswith("methodologies.")}
    assert all(r.plugin == "plugins.builtin_rules" for r in registry.rule_kinds.values())
    assert registry.problems == ()


def test_two_plugins_registering_the_same_edition_is_an_error_naming_both():
    pm = manager_with(("first-province", edition_plugin(TINY)), ("second-province", edition_plugin(TINY)))
    with pytest.raises(PluginConflict) as e:
        build_registry(pm)
    assert "'tiny@2021'" in str(e.value)
    assert "'first-province'" in str(e.value) and "'second-province'" in str(e.value)


def test_a_plugin_claiming_a_builtin_edition_is_an_error():
    text = TINY.replace(b"tiny@2021", b"local-ict@2020")
    pm = manager_with(("impostor", edition_plugin(text)))
    with pytest.raises(PluginConflict, match="'methodologies.local_ict_2020' and 'impostor'"):
        build_registry(pm)


def test_two_plugins_registering_the_same_rule_kind_is_an_error_naming_both():
    class Rules:
        @hookimpl
        def register_rule_kinds(self, register):
            register(Ratio())

    pm = manager_with(("my-rules", Rules()))
    with pytest.raises(PluginConflict) as e:
        build_registry(pm)
    assert "'ratio'" in str(e.value) and "'plugins.builtin_rules'" in str(e.value) and "'my-rules'" in str(e.value)


def test_a_misspelt_hook_is_refused_at_start_up(monkeypatch):
    class Typo:
        @hookimpl
        def register_methodology(self, register):  # no such hook: register_methodologies
            pass

    import plugins.manager as manager

    real_register = manager.PluginManager.register

    def register_with_typo(self, plugin, name=None):
        result = real_register(self, plugin, name)
        if name == DEFAULT_PLUGINS[-1]:
            real_register(self, Typo(), "typo")
        return result

    monkeypatch.setattr(manager.PluginManager, "register", register_with_typo)
    with pytest.raises(PluginError, match="register_methodology"):
        get_plugin_manager(env={"ICTINDEX_LOAD_PLUGINS": ""})


def test_load_plugins_naming_an_absent_plugin_is_an_error():
    with pytest.raises(PluginError, match="'no-such-plugin'"):
        get_plugin_manager(env={"ICTINDEX_LOAD_PLUGINS": "no-such-plugin"})


def test_an_invalid_edition_is_refused_strictly_and_listed_leniently():
    broken = TINY.replace(b"max = 10, rule", b"max = 12, rule")
    pm = manager_with(("broken-province", edition_plugin(broken, "broken/edition.toml")))
    with pytest.raises(PluginError) as e:
        build_registry(pm)
    message = str(e.value)
    assert "'broken-province'" in message
    assert "broken/edition.toml: tiers.commune.components[0].criteria[0].max:" in message
    lenient = build_registry(manager_with(("broken-province", edition_plugin(broken, "broken/edition.toml"))), strict=False)
    assert "tiny@2021" not in lenient.editions
    assert sorted(lenient.editions) == BUILTIN_EDITIONS
    listed = {p["name"]: p for p in list_plugins(lenient)}
    assert listed["broken-province"]["problems"] and listed["broken-province"]["editions"] == []


def test_a_toml_error_in_a_plugin_names_the_plugin_and_the_file():
    class Plugin:
        @hookimpl
        def register_methodologies(self, register):
            register(load_edition(b'id = "bad@2020"\ntitle = \n', source="bad/edition.toml"))

    with pytest.raises(PluginError, match=r"'bad-province'.*\n.*bad/edition.toml: line 2, column 9: invalid TOML"):
        build_registry(manager_with(("bad-province", Plugin())))


def test_registering_something_else_is_an_error():
    class Plugin:
        @hookimpl
        def register_rule_kinds(self, register):
            register(object())

    with pytest.raises(PluginError, match="'odd'.*not a rule kind"):
        build_registry(manager_with(("odd", Plugin())))


def test_the_registry_is_built_once_per_process(fresh_registry):
    first = get_registry()
    assert get_registry() is first
    reset_registry()
    assert get_registry() is not first


def test_unknown_edition():
    with pytest.raises(UnknownEdition, match="'local-ict@2019'.*installed: local-dti@2022"):
        build_registry().edition("local-ict@2019")


def test_list_plugins_for_the_command_line():
    rows = list_plugins(build_registry())
    msgspec.json.encode(rows)  # plain data
    by_name = {r["name"]: r for r in rows}
    assert by_name["plugins.builtin_rules"]["hooks"] == ["register_rule_kinds"]
    assert "relative_to_best" in by_name["plugins.builtin_rules"]["rule_kinds"]
    assert by_name["methodologies.local_ict_2020"]["editions"] == ["local-ict@2020"]
    assert by_name["methodologies.local_ict_2020"]["hooks"] == ["register_methodologies"]
    assert set(rows[0]) == {"name", "distribution", "version", "builtin", "hooks", "editions", "rule_kinds", "problems"}


def test_list_methodologies_for_the_command_line():
    rows = list_methodologies(build_registry())
    msgspec.json.encode(rows)
    by_id = {r["id"]: r for r in rows}
    assert sorted(by_id) == BUILTIN_EDITIONS
    ict = by_id["local-ict@2020"]
    assert {"id", "title", "legal_basis", "hash", "tiers"} <= set(ict)
    assert ict["legal_basis"]["kind"] == "reconstruction"
    assert ict["tiers"]["commune"]["scale"] == "90"
    assert ict["tiers"]["department"]["components"][0] == {
        "code": "HT", "name_vi": "Hạ tầng kỹ thuật", "name_en": "Technical infrastructure", "max": "15",
    }
    assert by_id["national-ict@2020"]["tiers"]["province"]["scale"] == "1"


def test_show_methodology_gives_the_full_criteria_table():
    detail = show_methodology("local-ict@2020", build_registry())
    msgspec.json.encode(detail)
    dept = detail["tiers"]["department"]
    criteria = [c for comp in dept["components"] for c in comp["criteria"]]
    assert len(criteria) == 31
    ld1 = [c for c in criteria if c["code"] == "LD1"][0]
    assert (ld1["rule"], ld1["max"], ld1["indicators"], ld1["missing"]) == ("assessor", "10", ["leadership_score"], "zero")
    cs3 = [c for c in criteria if c["code"] == "CS3"][0]
    assert cs3["params"]["steps"][1] == {"at_least": "3", "points": "1.5"}  # exact decimal strings
    assert detail["rounding"] == {"decimals": 2, "mode": "ROUND_HALF_UP", "applies_to": "publication"}
    assert len(detail["indicators"]) == 42
