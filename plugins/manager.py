"""The plugin manager and the registry of editions and rule kinds it collects.

In the manner of datasette and llm:

- the built-ins are ordinary plugins, registered by module name from `DEFAULT_PLUGINS`, and
  registered first: an installed plugin can add editions and rule kinds, never replace one;
- third-party packages are found through the entry-point group ``ictindex``
  (``[project.entry-points.ictindex] my-edition = "my_package"``);
- ``ICTINDEX_LOAD_PLUGINS`` limits which installed plugins load: unset, every installed one;
  a comma-separated list of entry-point or distribution names, only those; set but empty, none
  (the test suite sets it empty, see tests/conftest.py).  The others are kept as *filtered*,
  so that a message can say why their editions are missing;
- ``check_pending()`` runs at start-up, so a hookimpl whose name matches no hookspec (a typo)
  is an error rather than a silently ignored function.

Two plugins claiming one name — an entry point named like a built-in or like another entry
point, a module already registered, an edition id or a rule kind name — is a `PluginConflict`
naming both: never a silent override.

Strict (`get_plugin_manager()`, `build_registry()`): the first problem raises.  Lenient
(`strict=False`, what the process registry `get_registry()` and the command line use): a plugin
with any problem — it does not import, a hook raises, it registers something unusable or
conflicting, one of its editions is invalid — is left out whole (none of its editions or rule
kinds is available), listed with its problem by `ictindex plugins`, and reported once on
stderr; everything else works.
"""

from __future__ import annotations

import collections
import functools
import importlib
import importlib.metadata
import os
import re
import sys
from decimal import Decimal
from typing import Any, Iterable, Mapping

import attrs
import msgspec
import pluggy

from engine.edition import EditionError, canonical, check_edition, content_hash
from engine.model import Methodology
from engine.values import allowed_values, range_text
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
    "ictindex.cli.analysis",
    "ictindex.cli.bench",
    "ictindex.cli.copy",
    "ictindex.cli.editions",
    "ictindex.cli.log",
    "ictindex.cli.publish",
    "ictindex.cli.record",
    "ictindex.cli.replay",
    "ictindex.cli.tlog",
    "ictindex.cli.units",
    "ictindex.cli.demo",
)


class PluginError(Exception):
    """A plugin could not be loaded or registered something unusable."""


class PluginConflict(PluginError):
    """Two plugins claimed the same name: plugin, module, edition id or rule kind."""


class UnknownEdition(PluginError, LookupError):
    """No installed plugin provides the edition asked for."""


# ------------------------------------------------------------------------------ the manager


@attrs.frozen
class PluginInfo:
    name: str  # module name for built-ins, entry-point name otherwise
    distribution: str | None
    version: str | None
    builtin: bool
    hooks: tuple[str, ...]
    status: str = "loaded"  # "loaded", "broken" (left out: see problems) or "filtered"
    problems: tuple[str, ...] = ()


class PluginManager(pluggy.PluginManager):
    """A pluggy manager that also remembers where each plugin came from, which plugins could
    not be registered and which ICTINDEX_LOAD_PLUGINS kept out."""

    def __init__(self) -> None:
        super().__init__("ictindex")
        self.add_hookspecs(hookspecs)
        # plugin name → (distribution name, version); built-ins: ("ictindex", its version).
        self.distributions: dict[str, tuple[str | None, str | None]] = {}
        self.builtins: set[str] = set()
        self.unregistered: list[PluginInfo] = []  # installed, selected, but not registered
        self.filtered: list[PluginInfo] = []  # installed, kept out by ICTINDEX_LOAD_PLUGINS
        self.selection: str | None = None  # ICTINDEX_LOAD_PLUGINS as it was when they loaded
        self.hook_problems: dict[str, list[str]] = {}  # plugin name → failures of its hooks
        self.problems: list[str] = []  # problems that are no single plugin's


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _builtin_version() -> str | None:
    try:
        return importlib.metadata.version(BUILTIN_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None


def get_plugin_manager(*, env: Mapping[str, str] | None = None, strict: bool = True) -> PluginManager:
    """A fresh manager with the built-ins and the installed plugins `env` (default
    os.environ) allows, pending hookimpls checked.  strict: the first problem raises
    `PluginError`; otherwise a faulty plugin is left unregistered and listed in
    `unregistered` with its problem."""
    env = os.environ if env is None else env
    pm = PluginManager()
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
        pm.distributions[module_name] = (BUILTIN_DISTRIBUTION, _builtin_version())
        pm.builtins.add(module_name)
    _check_pending(pm, strict)
    pm.selection = env.get(ENV_VAR)
    _load_entry_points(pm, pm.selection, strict)
    return pm


def _check_pending(pm: PluginManager, strict: bool) -> None:
    while True:
        try:
            pm.check_pending()
            return
        except pluggy.PluginValidationError as e:
            name = pm.get_name(e.plugin)
            if strict or name is None or name in pm.builtins:
                raise PluginError(f"plugin {e.plugin!r}: {e}") from e
            dist, version = pm.distributions.pop(name, (None, None))
            pm.unregister(name=name)
            pm.unregistered.append(_refused(name, dist, version, PluginError(f"plugin {name!r}: {e}")))


def _refused(name: str, dist: str | None, version: str | None, error: Exception) -> PluginInfo:
    return PluginInfo(name, dist, version, False, (), status="broken", problems=(str(error),))


def _origin_text(dist: str | None, version: str | None) -> str:
    return " ".join(part for part in (dist, version) if part) or "no distribution"


def _load_entry_points(pm: PluginManager, wanted: str | None, strict: bool) -> None:
    """Register the selected entry points of the group, after the built-ins.

    pluggy's own `load_setuptools_entrypoints` skips, silently, an entry point whose name is
    already registered — the built-ins' too, if it runs first: a package could take a built-in's
    place unnoticed.  Here every name is claimed once, or refused loudly."""
    selected, names = [], None
    if wanted is not None:
        names = {_normalise(n): n.strip() for n in wanted.split(",") if n.strip()}
    found: set[str] = set()
    points = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
    for ep in sorted(points, key=lambda e: (e.name, _dist_of(e)[0] or "")):
        dist, version = _dist_of(ep)
        if names is not None:
            hits = ({_normalise(ep.name)} | ({_normalise(dist)} if dist else set())) & set(names)
            if not hits:
                pm.filtered.append(PluginInfo(ep.name, dist, version, False, (), status="filtered"))
                continue
            found |= hits
        selected.append((ep, dist, version))

    declared = collections.Counter(ep.name for ep, _, _ in selected)
    for ep, dist, version in selected:
        try:
            if ep.name in pm.builtins:
                raise PluginConflict(
                    f"plugin {ep.name!r} ({_origin_text(dist, version)}) has the name of the built-in plugin "
                    f"{ep.name!r}: built-ins cannot be replaced")
            if declared[ep.name] > 1:
                others = sorted(_origin_text(d, v) for e, d, v in selected if e.name == ep.name)
                raise PluginConflict(f"plugin {ep.name!r} is declared by {' and by '.join(others)}: "
                                     "an entry-point name must be unique")
            _register_entry_point(pm, ep, dist, version)
        except PluginError as e:
            if strict:
                raise
            pm.unregistered.append(_refused(ep.name, dist, version, e))
    _check_pending(pm, strict)

    if names is not None:
        missing = [names[k] for k in names if k not in found]
        if missing:
            error = PluginError(
                f"{ENV_VAR} names {', '.join(map(repr, missing))}, but no installed package provides "
                f"an {ENTRY_POINT_GROUP!r} entry point by that name")
            if strict:
                raise error
            pm.problems.append(str(error))


def _dist_of(ep: importlib.metadata.EntryPoint) -> tuple[str | None, str | None]:
    dist = ep.dist
    if dist is None:
        return None, None
    return dist.metadata["Name"], dist.version


def _register_entry_point(pm: PluginManager, ep, dist: str | None, version: str | None) -> None:
    try:
        module = ep.load()
    except Exception as e:  # noqa: BLE001 - any import error of a plugin is reported as such
        raise PluginError(f"plugin {ep.name!r} ({_origin_text(dist, version)}) could not be imported: {e}") from e
    other = pm.get_name(module)
    if other is not None:
        raise PluginConflict(
            f"plugin {ep.name!r} ({_origin_text(dist, version)}) loads {ep.value!r}, which is already "
            f"registered as plugin {other!r}")
    try:
        pm.register(module, name=ep.name)
    except (ValueError, pluggy.PluginValidationError) as e:
        raise PluginError(f"plugin {ep.name!r} ({_origin_text(dist, version)}) cannot be registered: {e}") from e
    pm.distributions[ep.name] = (dist, version)


# ------------------------------------------------------------------------------ the registry


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
    builtin: bool = False

    @property
    def origin(self) -> str:
        """Whose code scores with this rule kind: "distribution version" of its plugin (the
        plugin's name when it was registered without a distribution)."""
        return " ".join(part for part in (self.distribution or self.plugin, self.version) if part)


@attrs.frozen
class Registry:
    plugins: tuple[PluginInfo, ...]  # every plugin registered or refused, built-ins first
    editions: Mapping[str, EditionEntry]
    rule_kinds: Mapping[str, RuleKindEntry]
    # What went wrong when built with strict=False (each message names the plugin).
    problems: tuple[str, ...] = ()
    filtered: tuple[PluginInfo, ...] = ()  # installed, kept out by ICTINDEX_LOAD_PLUGINS
    selection: str | None = None  # the value of ICTINDEX_LOAD_PLUGINS that kept them out

    @property
    def rules(self) -> dict[str, RuleKind]:
        """Rule kinds by name, as `engine.edition.check_edition` and the engine take them."""
        return {name: entry.rule for name, entry in self.rule_kinds.items()}

    def edition(self, edition_id: str) -> EditionEntry:
        try:
            return self.editions[edition_id]
        except KeyError:
            known = ", ".join(sorted(self.editions)) or "none"
            raise UnknownEdition(f"no installed plugin provides edition {edition_id!r} (installed: {known})"
                                 f"{self.missing_note()}") from None

    def methodology(self, edition_id: str) -> Methodology:
        return self.edition(edition_id).methodology

    def missing_note(self) -> str:
        """Where a missing edition may be: in a plugin left out as broken, or in one that
        ICTINDEX_LOAD_PLUGINS filters out ("" when there is neither)."""
        notes = []
        broken = [p for p in self.plugins if p.status == "broken"]
        if broken:
            notes.append(f"left out as broken: {_named(broken)} (`ictindex plugins` says why)")
        if self.filtered:
            notes.append(f"filtered out by {ENV_VAR}={self.selection!r}: {_named(self.filtered)}")
        return "".join(f"; installed plugin(s) {note}" for note in notes)

    def scoring_code(self, methodology: Methodology, tier: str) -> dict[str, str]:
        """Rule kind → `RuleKindEntry.origin`, for every rule kind the criteria of `tier` use:
        the code a ranking of that tier is scored with, named in its provenance."""
        used = {c.rule for comp in methodology.tiers[tier].components for c in comp.criteria}
        return {name: self.rule_kinds[name].origin for name in sorted(used) if name in self.rule_kinds}

    def adopted_code(self, methodology: Methodology, tier: str) -> dict[str, str]:
        """What an adoption of `tier` records of its scoring code: `scoring_code` without
        ictindex's own rule kinds.  Those cannot be replaced by a plugin and change only with
        ictindex itself (the engine version of every provenance), so an adoption that uses
        only them records nothing more than the edition's content hash."""
        return {name: origin for name, origin in self.scoring_code(methodology, tier).items()
                if not self.rule_kinds[name].builtin}


def _named(plugins: Iterable[PluginInfo]) -> str:
    return ", ".join(f"{p.name!r} ({_origin_text(p.distribution, p.version)})" for p in plugins)


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


class _Refusal(Exception):
    """Raised through a plugin's hook to stop a strict build at the first problem."""

    def __init__(self, error: PluginError) -> None:
        super().__init__(str(error))
        self.error = error


def build_registry(pm: PluginManager | None = None, *, strict: bool = True) -> Registry:
    """Collect editions and rule kinds from every plugin of `pm` (default: a fresh
    `get_plugin_manager(strict=strict)`), then check every edition.  strict: the first problem
    raises (PluginConflict, PluginError); otherwise a plugin with a problem is left out whole,
    listed in `Registry.plugins` as "broken" with its problems (also in `Registry.problems`)."""
    pm = pm if pm is not None else get_plugin_manager(strict=strict)
    try:
        return _build(pm, strict)
    except _Refusal as e:
        raise e.error from None


def _build(pm: PluginManager, strict: bool) -> Registry:
    problems: dict[str, list[str]] = {name: list(p) for name, p in pm.hook_problems.items()}

    def fail(plugin: str, error: PluginError) -> None:
        if strict:
            raise _Refusal(error)
        problems.setdefault(plugin, []).append(str(error))

    def origin(plugin_name: str) -> tuple[str | None, str | None]:
        return pm.distributions.get(plugin_name, (None, None))

    def collect(hook: str, check) -> list[tuple[str, Any, str | None]]:
        """(plugin, object, source) for everything the plugins register through `hook`."""
        out: list[tuple[str, Any, str | None]] = []
        for impl in _in_order(getattr(pm.hook, hook).get_hookimpls()):
            plugin_name = impl.plugin_name
            if plugin_name in problems:
                continue
            offered: list[tuple[str, Any, str | None]] = []

            def register(obj: Any, *, source: str | None = None, _plugin: str = plugin_name) -> None:
                problem = check(obj)
                if problem:
                    fail(_plugin, PluginError(f"plugin {_plugin!r}{problem}"))
                    return
                offered.append((_plugin, obj, source))

            try:
                _call(impl, register=register)
            except _Refusal:
                raise
            except EditionError as e:
                fail(plugin_name, PluginError(f"plugin {plugin_name!r} could not load its edition:\n{e}"))
            except Exception as e:  # noqa: BLE001 - whatever a plugin raises leaves it out, named
                fail(plugin_name, PluginError(f"plugin {plugin_name!r} failed in {hook}: {e}"))
            else:
                out.extend(offered)
        return out

    def claimed(kind: str, offers: list[tuple[str, Any, str | None]], key) -> None:
        """Two plugins claiming one name: strictly an error; leniently the plugins that are not
        built-ins are all left out (a built-in keeps what it registered)."""
        claims: dict[str, list[str]] = collections.defaultdict(list)
        for plugin_name, obj, _ in offers:
            if plugin_name not in problems:  # what a plugin left out offered claims nothing
                claims[key(obj)].append(plugin_name)
        for name, claimants in claims.items():
            if len(claimants) < 2:
                continue
            error = PluginConflict(f"{kind} {name!r} is registered by both "
                                   f"{' and '.join(map(repr, claimants))}")
            if strict:
                raise error
            for plugin_name in dict.fromkeys(claimants):
                if plugin_name not in pm.builtins:
                    fail(plugin_name, error)

    def rule_check(rule: Any) -> str | None:
        problem = _rule_problem(rule)
        return f": {problem}" if problem else None

    def edition_check(m: Any) -> str | None:
        if not isinstance(m, Methodology):
            return f" registered {type(m).__name__}, not an engine.model.Methodology"
        return None

    rule_offers = collect("register_rule_kinds", rule_check)
    claimed("rule kind", rule_offers, lambda rule: rule.name)
    edition_offers = collect("register_methodologies", edition_check)
    claimed("edition", edition_offers, lambda m: m.id)

    while True:  # leaving out a plugin may take away a rule kind another plugin's edition uses
        rule_kinds = {
            rule.name: RuleKindEntry(rule, plugin_name, *origin(plugin_name), builtin=plugin_name in pm.builtins)
            for plugin_name, rule, _ in rule_offers if plugin_name not in problems
        }
        rules = {name: entry.rule for name, entry in rule_kinds.items()}
        editions: dict[str, EditionEntry] = {}
        left_out = len(problems)
        for plugin_name, m, source in edition_offers:
            if plugin_name in problems:
                continue
            entry = EditionEntry(m, source or f"{plugin_name}:{m.id}", plugin_name, *origin(plugin_name))
            try:
                check_edition(m, rules, entry.source)
            except EditionError as e:
                error = PluginError(f"edition {m.id!r} of plugin {plugin_name!r} is invalid:\n{e}")
                if strict:
                    raise error from None
                fail(plugin_name, error)
                continue
            editions[m.id] = entry
        if len(problems) == left_out:
            break

    infos = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda np: (np[0] not in pm.builtins, np[0])):
        if plugin is None:  # blocked
            continue
        hooks = tuple(sorted(caller.name for caller in (pm.get_hookcallers(plugin) or [])))
        mine = tuple(problems.get(name, ()))
        infos.append(PluginInfo(name, *origin(name), name in pm.builtins, hooks,
                                status="broken" if mine else "loaded", problems=mine))
    infos.extend(sorted(pm.unregistered, key=lambda p: (p.name, p.distribution or "")))
    return Registry(
        plugins=tuple(infos),
        editions=dict(sorted(editions.items())),
        rule_kinds=dict(sorted(rule_kinds.items())),
        problems=tuple(pm.problems) + tuple(p for info in infos for p in info.problems),
        filtered=tuple(pm.filtered),
        selection=pm.selection,
    )


_manager: PluginManager | None = None
_registry: Registry | None = None
_reported: set[str] = set()


def _report(problems: Iterable[str], note: str = "") -> None:
    """Each problem once per process on stderr: a broken plugin must not go unnoticed, nor
    stop the commands that do not need it."""
    for problem in problems:
        if problem not in _reported:
            _reported.add(problem)
            print(f"Warning: {problem}{note}", file=sys.stderr)


_LEFT_OUT = "\n  (the plugin is left out: `ictindex plugins` lists it)"


def process_plugin_manager() -> PluginManager:
    """The process's plugin manager, built leniently on first use and cached."""
    global _manager
    if _manager is None:
        _manager = get_plugin_manager(strict=False)
        _report(_manager.problems)
        _report((p for info in _manager.unregistered for p in info.problems), _LEFT_OUT)
    return _manager


def get_registry() -> Registry:
    """The process's registry, built on first use and cached.  Lenient: a broken plugin is left
    out and reported once on stderr, and everything else works."""
    global _registry
    if _registry is None:
        _registry = build_registry(process_plugin_manager(), strict=False)
        _report((p for info in _registry.plugins for p in info.problems), _LEFT_OUT)
    return _registry


def reset_registry() -> None:
    """Forget the cached plugin manager and registry (the next use builds new ones)."""
    global _manager, _registry
    _manager = _registry = None
    _reported.clear()


def add_plugin_commands(cli: Any) -> None:
    """Let every plugin add its commands to `cli` (`register_commands`); a plugin whose hook
    raises adds none, is reported once on stderr and is left out of the registry."""
    pm = process_plugin_manager()
    for impl in _in_order(pm.hook.register_commands.get_hookimpls()):
        before = dict(cli.commands)
        try:
            _call(impl, cli=cli)
        except Exception as e:  # noqa: BLE001 - whatever a plugin raises leaves it out, named
            cli.commands.clear()
            cli.commands.update(before)
            problem = f"plugin {impl.plugin_name!r} failed in register_commands: {e}"
            pm.hook_problems.setdefault(impl.plugin_name, []).append(problem)
            _report([problem], _LEFT_OUT)


# ---------------------------------------------------------- plain data for the command line


def _num(d: Decimal) -> str:
    return canonical(d)


def _legal_basis(m: Methodology) -> dict[str, Any]:
    lb = m.legal_basis
    return {"kind": lb.kind, "reference": lb.reference, "date": lb.date.isoformat() if lb.date else None, "note": lb.note}


def list_plugins(registry: Registry | None = None) -> list[dict[str, Any]]:
    """For ``ictindex plugins``: each plugin loaded or left out as broken, with name,
    distribution, version, builtin, hooks, the editions and rule kinds it registered, and
    problems (why it was left out).  Without `registry`, the process's (`get_registry()`)."""
    registry = registry if registry is not None else get_registry()
    out = []
    for info in registry.plugins:
        mine = info.status != "broken"
        out.append(
            {
                "name": info.name,
                "distribution": info.distribution,
                "version": info.version,
                "builtin": info.builtin,
                "hooks": list(info.hooks),
                "editions": [e.id for e in registry.editions.values() if mine and e.plugin == info.name],
                "rule_kinds": [n for n, r in registry.rule_kinds.items() if mine and r.plugin == info.name],
                "problems": list(info.problems),
            }
        )
    return out


def list_plugin_status(registry: Registry | None = None) -> list[dict[str, Any]]:
    """`list_plugins` with each row's status ("loaded", "broken"), followed by the installed
    plugins ICTINDEX_LOAD_PLUGINS filters out (status "filtered")."""
    registry = registry if registry is not None else get_registry()
    rows = [{**row, "status": info.status} for row, info in zip(list_plugins(registry), registry.plugins)]
    for info in registry.filtered:
        rows.append({"name": info.name, "distribution": info.distribution, "version": info.version,
                     "builtin": False, "hooks": [], "editions": [], "rule_kinds": [],
                     "problems": [], "status": "filtered"})
    return rows


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
            "labels_vi": dict(i.labels_vi),
            "range": range_text(i),
            "allowed": ", ".join(allowed_values(i, labelled=False)),
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
