"""The plugin manager and the registry of editions and rule kinds it collects.

In the manner of datasette and llm:

- the built-ins are ordinary plugins, registered by module name from `DEFAULT_PLUGINS`;
- third-party packages are found through the entry-point group ``ictindex``
  (``[project.entry-points.ictindex] my-edition = "my_package"``);
- ``ICTINDEX_LOAD_PLUGINS`` limits which installed plugins load: unset, every installed one;
  a comma-separated list of entry-point or distribution names, only those; set but empty, none
  (the test suite sets it empty, see tests/conftest.py);
- ``check_pending()`` runs at start-up, so a hookimpl whose name matches no hookspec (a typo)
  is an error rather than a silently ignored function.

`get_registry()` builds the `Registry` once per process (lazily) and caches it;
`build_registry()` builds a fresh one (tests, what-if tools); `reset_registry()` drops the cache.
Two plugins registering the same edition id or rule kind name is a `PluginConflict` naming
both: never a silent override.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import os
import re
from decimal import Decimal
from typing import Any, Mapping

import attrs
import msgspec
import pluggy

from engine.edition import EditionError, canonical, check_edition, content_hash
from engine.model import Methodology
from engine.rules.base import RuleKind
from plugins import hookspecs

ENTRY_POINT_GROUP = "ictindex"
ENV_VAR = "ICTINDEX_LOAD_PLUGINS"
BUILTIN_DISTRIBUTION = "ictindex"

DEFAULT_PLUGINS: tuple[str, ...] = (
    "plugins.builtin_rules",
    "methodologies.local_ict_2020",
    "methodologies.local_dti_2022",
    "methodologies.national_ict_2020",
)


class PluginError(Exception):
    """A plugin could not be loaded or registered something unusable."""


class PluginConflict(PluginError):
    """Two plugins registered the same edition id or rule kind name."""


class UnknownEdition(PluginError, LookupError):
    """No installed plugin provides the edition asked for."""


# ------------------------------------------------------------------------------ the manager


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers which distribution each plugin came from."""

    def __init__(self) -> None:
        super().__init__("ictindex")
        self.add_hookspecs(hookspecs)
        # plugin name → (distribution name, version); built-ins: ("ictindex", its version).
        self.distributions: dict[str, tuple[str | None, str | None]] = {}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _builtin_version() -> str | None:
    try:
        return importlib.metadata.version(BUILTIN_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def get_plugin_manager(*, env: Mapping[str, str] | None = None) -> PluginManager:
    """A fresh manager with the built-ins and the installed plugins `env` (default
    os.environ) allows, pending hookimpls checked."""
    env = os.environ if env is None else env
    pm = PluginManager()
    wanted = env.get(ENV_VAR)
    if wanted is None:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for plugin, dist in pm.list_plugin_distinfo():
            name = pm.get_name(plugin)
            if name is not None:
                pm.distributions[name] = (dist.project_name, dist.version)
    else:
        names = [n.strip() for n in wanted.split(",") if n.strip()]
        if names:
            _load_selected(pm, names)
    for module_name in DEFAULT_PLUGINS:
        if pm.get_plugin(module_name) is None:
            pm.register(importlib.import_module(module_name), name=module_name)
            pm.distributions[module_name] = (BUILTIN_DISTRIBUTION, _builtin_version())
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        raise PluginError(f"plugin {e.plugin!r}: {e}") from e
    return pm


def _load_selected(pm: PluginManager, names: list[str]) -> None:
    wanted = {_normalise(n): n for n in names}
    found: set[str] = set()
    for ep in sorted(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = ep.dist
        dist_name = dist.metadata["Name"] if dist is not None else None
        keys = {_normalise(ep.name)} | ({_normalise(dist_name)} if dist_name else set())
        hits = keys & set(wanted)
        if not hits or pm.get_plugin(ep.name) is not None:
            continue
        found |= hits
        try:
            module = ep.load()
        except Exception as e:  # noqa: BLE001 - any import error of a plugin is reported as such
            raise PluginError(f"plugin {ep.name!r} ({dist_name}) could not be imported: {e}") from e
        pm.register(module, name=ep.name)
        pm.distributions[ep.name] = (dist_name, dist.version if dist is not None else None)
    missing = [wanted[k] for k in wanted if k not in found]
    if missing:
        raise PluginError(
            f"{ENV_VAR} names {', '.join(map(repr, missing))}, but no installed package provides "
            f"an {ENTRY_POINT_GROUP!r} entry point by that name"
        )


# ------------------------------------------------------------------------------ the registry


@attrs.frozen
class PluginInfo:
    name: str  # module name for built-ins, entry-point name otherwise
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: tuple[str, ...]


@attrs.frozen(slots=False)
class EditionEntry:
    methodology: Methodology
    source: str  # how errors name its file
    plugin: str
    distribution: str | None
    version: str | None

    @property
    def id(self) -> str:
        return self.methodology.id

    @functools.cached_property
    def content_hash(self) -> str:
        """The edition's content hash, computed when first asked for: every command builds the
        registry, most use one edition of the several installed."""
        return content_hash(self.methodology)


@attrs.frozen
class RuleKindEntry:
    rule: RuleKind
    plugin: str
    distribution: str | None
    version: str | None


@attrs.frozen
class Registry:
    plugins: tuple[PluginInfo, ...]
    editions: Mapping[str, EditionEntry]
    rule_kinds: Mapping[str, RuleKindEntry]
    # What went wrong when built with strict=False (each message names the plugin).
    problems: tuple[str, ...] = ()

    @property
    def rules(self) -> dict[str, RuleKind]:
        """Rule kinds by name, as `engine.edition.check_edition` and the engine take them."""
        return {name: entry.rule for name, entry in self.rule_kinds.items()}

    def edition(self, edition_id: str) -> EditionEntry:
        try:
            return self.editions[edition_id]
        except KeyError:
            known = ", ".join(sorted(self.editions)) or "none"
            raise UnknownEdition(f"no installed plugin provides edition {edition_id!r} (installed: {known})") from None

    def methodology(self, edition_id: str) -> Methodology:
        return self.edition(edition_id).methodology


_RULE_ATTRIBUTES = ("name", "description", "params_type", "arity", "monotone", "peer", "check", "prepare", "score")


def _rule_problem(rule: Any) -> str | None:
    missing = [a for a in _RULE_ATTRIBUTES if not hasattr(rule, a)]
    if missing:
        return f"{rule!r} is not a rule kind: it lacks {', '.join(missing)}"
    if not isinstance(rule.name, str) or not rule.name:
        return f"{rule!r}: a rule kind's name is a non-empty string"
    if not (isinstance(rule.params_type, type) and issubclass(rule.params_type, msgspec.Struct)):
        return f"rule kind {rule.name!r}: params_type must be a msgspec.Struct subclass"
    return None


def _in_order(impls: list) -> list:
    """Built-ins first (in DEFAULT_PLUGINS order), then the others by name: what a plugin
    registers never depends on installation or registration order."""
    rank = {name: i for i, name in enumerate(DEFAULT_PLUGINS)}
    return sorted(impls, key=lambda impl: (rank.get(impl.plugin_name, len(rank)), impl.plugin_name))


def _call(impl: Any, **kwargs: Any) -> None:
    impl.function(*[kwargs[name] for name in impl.argnames])


def build_registry(pm: PluginManager | None = None, *, strict: bool = True) -> Registry:
    """Collect editions and rule kinds from every plugin of `pm` (default: a fresh
    `get_plugin_manager()`), then check every edition.  strict: the first problem raises
    (PluginConflict, PluginError, EditionError); otherwise problems are listed in
    `Registry.problems` and the faulty edition is left out."""
    pm = pm if pm is not None else get_plugin_manager()
    problems: list[str] = []

    def fail(error: Exception) -> None:
        if strict:
            raise error
        problems.append(str(error))

    def origin(plugin_name: str) -> tuple[str | None, str | None]:
        return pm.distributions.get(plugin_name, (None, None))

    rule_kinds: dict[str, RuleKindEntry] = {}
    for impl in _in_order(pm.hook.register_rule_kinds.get_hookimpls()):
        plugin_name = impl.plugin_name

        def register_rule(rule: Any, _plugin: str = plugin_name) -> None:
            problem = _rule_problem(rule)
            if problem:
                fail(PluginError(f"plugin {_plugin!r}: {problem}"))
                return
            if rule.name in rule_kinds:
                other = rule_kinds[rule.name].plugin
                fail(PluginConflict(f"rule kind {rule.name!r} is registered by both {other!r} and {_plugin!r}"))
                return
            dist, version = origin(_plugin)
            rule_kinds[rule.name] = RuleKindEntry(rule, _plugin, dist, version)

        try:
            _call(impl, register=register_rule)
        except PluginError:
            raise
        except Exception as e:  # noqa: BLE001
            fail(PluginError(f"plugin {plugin_name!r} failed in register_rule_kinds: {e}"))

    editions: dict[str, EditionEntry] = {}
    rules = {name: entry.rule for name, entry in rule_kinds.items()}
    for impl in _in_order(pm.hook.register_methodologies.get_hookimpls()):
        plugin_name = impl.plugin_name

        def register_edition(methodology: Any, *, source: str | None = None, _plugin: str = plugin_name) -> None:
            if not isinstance(methodology, Methodology):
                fail(PluginError(f"plugin {_plugin!r} registered {type(methodology).__name__}, not an engine.model.Methodology"))
                return
            if methodology.id in editions:
                other = editions[methodology.id].plugin
                fail(PluginConflict(f"edition {methodology.id!r} is registered by both {other!r} and {_plugin!r}"))
                return
            dist, version = origin(_plugin)
            editions[methodology.id] = EditionEntry(
                methodology, source or f"{_plugin}:{methodology.id}", _plugin, dist, version
            )

        try:
            _call(impl, register=register_edition)
        except PluginError:
            raise
        except EditionError as e:
            fail(PluginError(f"plugin {plugin_name!r} could not load its edition:\n{e}"))
        except Exception as e:  # noqa: BLE001
            fail(PluginError(f"plugin {plugin_name!r} failed in register_methodologies: {e}"))

    for edition_id in list(editions):
        entry = editions[edition_id]
        try:
            check_edition(entry.methodology, rules, entry.source)
        except EditionError as e:
            del editions[edition_id]
            fail(PluginError(f"edition {edition_id!r} of plugin {entry.plugin!r} is invalid:\n{e}"))

    infos = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda np: (np[0] not in DEFAULT_PLUGINS, np[0])):
        if plugin is None:  # blocked
            continue
        dist, version = origin(name)
        hooks = tuple(sorted(caller.name for caller in (pm.get_hookcallers(plugin) or [])))
        infos.append(PluginInfo(name, dist, version, name in DEFAULT_PLUGINS, hooks))
    return Registry(
        plugins=tuple(infos),
        editions=dict(sorted(editions.items())),
        rule_kinds=dict(sorted(rule_kinds.items())),
        problems=tuple(problems),
    )


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process's registry, built on first use (strict) and cached."""
    global _registry
    if _registry is None:
        _registry = build_registry()
    return _registry


def reset_registry() -> None:
    """Forget the cached registry (the next `get_registry()` builds a new one)."""
    global _registry
    _registry = None


# ---------------------------------------------------------- plain data for the command line


def _num(d: Decimal) -> str:
    return canonical(d)


def _legal_basis(m: Methodology) -> dict[str, Any]:
    lb = m.legal_basis
    return {"kind": lb.kind, "reference": lb.reference, "date": lb.date.isoformat() if lb.date else None, "note": lb.note}


def list_plugins(registry: Registry | None = None) -> list[dict[str, Any]]:
    """For ``ictindex plugins``: each plugin with name, distribution, version, builtin, hooks,
    the editions and rule kinds it registered, and problems (when built leniently).  Without
    `registry`, a fresh lenient one is built so that a broken plugin can still be listed."""
    registry = registry if registry is not None else build_registry(strict=False)
    out = []
    for info in registry.plugins:
        out.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "builtin": info.builtin,
                "hooks": list(info.hooks),
                "editions": [e.id for e in registry.editions.values() if e.plugin == info.name],
                "rule_kinds": [n for n, r in registry.rule_kinds.items() if r.plugin == info.name],
                "problems": [p for p in registry.problems if repr(info.name) in p],
            }
        )
    return out


def _summary(entry: EditionEntry) -> dict[str, Any]:
    m = entry.methodology
    return {
        "id": m.id,
        "title": m.title,
        "legal_basis": _legal_basis(m),
        "hash": entry.content_hash,
        "plugin": entry.plugin,
        "distribution": entry.distribution,
        "version": entry.version,
        "tiers": {
            name: {
                "scale": _num(tier.scale),
                "aggregate": tier.aggregate,
                "components": [
                    {"code": c.code, "name_vi": c.name_vi, "name_en": c.name_en, "max": _num(c.max)} for c in tier.components
                ],
            }
            for name, tier in m.tiers.items()
        },
    }


def list_methodologies(registry: Registry | None = None) -> list[dict[str, Any]]:
    """For ``ictindex methodologies``: each edition with id, title, legal_basis, hash, plugin,
    distribution, version and tiers (tier → scale, aggregate, components with code, name_vi,
    name_en, max).  Numbers are exact decimal strings ("100", "0.5")."""
    registry = registry if registry is not None else get_registry()
    return [_summary(entry) for entry in registry.editions.values()]


def show_methodology(edition_id: str, registry: Registry | None = None) -> dict[str, Any]:
    """For ``ictindex methodologies show EDITION``: the summary plus description, rounding,
    ties, grading, the indicator catalogue and, per tier, every criterion (code, names, max,
    rule and its description, indicators, params, evidence, missing-data policy)."""
    registry = registry if registry is not None else get_registry()
    entry = registry.edition(edition_id)
    m = entry.methodology
    out = _summary(entry)
    out["description"] = m.description
    out["source"] = entry.source
    out["rounding"] = {"decimals": m.rounding.decimals, "mode": m.rounding.mode, "applies_to": m.rounding.applies_to}
    out["ties"] = {"method": m.ties.method, "compare": m.ties.compare}
    out["grading"] = [{"name_vi": b.name_vi, "name_en": b.name_en, "min_share": _num(b.min_share)} for b in m.grading]
    out["indicators"] = [
        {
            "code": i.code,
            "name_vi": i.name_vi,
            "name_en": i.name_en,
            "type": i.type,
            "unit": i.unit,
            "min": None if i.min is None else _num(i.min),
            "max": None if i.max is None else _num(i.max),
            "categories": list(i.categories),
        }
        for i in m.indicators
    ]
    for name, tier in m.tiers.items():
        t = out["tiers"][name]
        t["missing"] = tier.missing
        t["group_by"] = tier.group_by
        for comp_out, comp in zip(t["components"], tier.components):
            comp_out["criteria"] = [
                {
                    "code": c.code,
                    "name_vi": c.name_vi,
                    "name_en": c.name_en,
                    "max": _num(c.max),
                    "rule": c.rule,
                    "rule_description": getattr(registry.rules.get(c.rule), "description", ""),
                    "indicators": list(c.indicators),
                    "params": canonical(dict(c.params)),
                    "evidence": c.evidence,
                    "missing": c.missing or tier.missing,
                }
                for c in comp.criteria
            ]
    return out
