"""Methodology editions as files: load (TOML → `engine.model.Methodology`), check, hash.

- `load_edition` decodes an edition's TOML into the model.  Every error names the file and the
  path inside it, in the form ``local_ict_2020/edition.toml: tiers.commune.components[3].criteria[2].max: ...``
  (list indexes count from 0, as in the model).
- `check_edition` runs the structural checks a decoder cannot: maxima add up, criteria fit their
  component, rule kinds and indicators exist, rule params are valid for their kind, codes are
  unique.  All problems are reported at once, each with its path.
- `content_hash` is the SHA-256 of the canonical form of the edition's scoring model (everything
  but its input `constraints`, see `scoring_model`), recorded when a year adopts it.

TOML numbers: the file is parsed with ``tomllib`` with ``parse_float=decimal.Decimal`` and then
converted by ``msgspec.convert`` — exactly what ``msgspec.toml.decode`` does, except that TOML
floats never pass through a binary float (``msgspec.toml.decode`` would parse ``0.1`` as a float
first and keep floats inside the free-form ``params`` tables).
"""

from __future__ import annotations

import decimal
import hashlib
import os
import re
import tomllib
import unicodedata
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import msgspec

from engine.model import CONSTRAINT_KINDS, Methodology
from engine.rules.base import DECIMAL_CONTEXT, ParamsError, RuleKind
from engine.text import plain
from events.canonical import encode_canonical
from events.refusal import Refused
from events.types import TIERS


_EDITION_ID = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*@[0-9]{4}")
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


class EditionError(Refused, ValueError):
    """An edition file that cannot be used: every problem with the file and the path inside it."""

    def __init__(self, source: str, problems: Sequence[tuple[str, str]]) -> None:
        self.source = source
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "\n".join(f"{self.source}: {path}: {message}" if path else f"{self.source}: {message}" for path, message in self.problems)


# ------------------------------------------------------------------------------------- paths


def _key(prefix: str, key: Any) -> str:
    key = str(key)
    step = f".{key}" if _PLAIN_KEY.fullmatch(key) else f"[{_quote(key)}]"
    return (prefix + step) if prefix else step.lstrip(".")


def _quote(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _join(prefix: str, rest: str) -> str:
    if not rest:
        return prefix
    if not prefix:
        return rest.lstrip(".")
    return prefix + (rest if rest.startswith("[") else "." + rest.lstrip("."))


# A msgspec path like `$.tiers[...][0].a` as segments: ("field", "tiers"), ("key", None),
# ("index", 0), ("field", "a").
_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\.\.\.)\]|\[(\d+)\]")


def _segments(path: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for m in _SEGMENT.finditer(path):
        if m.group(1) is not None:
            out.append(("field", m.group(1)))
        elif m.group(2) is not None:
            out.append(("key", None))
        else:
            out.append(("index", int(m.group(3))))
    return out


def _render(segments: Iterable[tuple[str, Any]]) -> str:
    out = ""
    for kind, value in segments:
        if kind == "index":
            out += f"[{value}]"
        elif kind == "key" and value is None:
            out += "[...]"
        else:
            out = _key(out, value)
    return out


def _get(data: Any, segments: Sequence[tuple[str, Any]]) -> Any:
    for kind, value in segments:
        data = data[value]
    return data


def _with(data: Any, segments: Sequence[tuple[str, Any]], new: Any) -> Any:
    if not segments:
        return new
    value, rest = segments[0][1], segments[1:]
    if isinstance(data, list):
        copy: Any = list(data)
    else:
        copy = dict(data)
    copy[value] = _with(data[value], rest, new)
    return copy


def _located(raw: Any, type_: Any, error: msgspec.ValidationError) -> tuple[str, str]:
    """(path inside the document, message) for a msgspec ValidationError.

    msgspec writes dict keys as ``[...]``; the key is found by converting copies of the raw
    document where that dict keeps only its first k entries: the first k that reproduces the
    error names the key.
    """
    text = str(error)
    m = re.fullmatch(r"(.*) - at `\$(.*)`", text, flags=re.S)
    message, path = (m.group(1), m.group(2)) if m else (text, "")
    segments = _segments(path)
    for pos, (kind, value) in enumerate(segments):
        if kind != "key" or value is not None:
            continue
        try:
            container = _get(raw, segments[:pos])
        except (KeyError, IndexError, TypeError):
            break
        if not isinstance(container, dict):
            break
        keys = list(container)
        for k in range(1, len(keys) + 1):
            trial = _with(raw, segments[:pos], {key: container[key] for key in keys[:k]})
            try:
                msgspec.convert(trial, type_, str_keys=True)
            except msgspec.ValidationError as again:
                if str(again) == text:
                    segments[pos] = ("key", keys[k - 1])
                    break
        else:
            break
    where = _render(segments)
    if message.startswith("Invalid enum value"):
        allowed = _literal_values(type_, segments)
        if allowed:
            message += f" (one of: {', '.join(map(repr, allowed))})"
    elif message.startswith("Invalid value") and segments[:1] == [("field", "constraints")] \
            and segments[-1] == ("field", "kind"):
        message += f" (one of: {', '.join(map(repr, CONSTRAINT_KINDS))})"
    unknown = re.fullmatch(r"Object contains unknown field `(.*)`", message)
    if unknown:
        return _key(where, unknown.group(1)), "unknown field"
    required = re.fullmatch(r"Object missing required field `(.*)`", message)
    if required:
        return _key(where, required.group(1)), "missing required field"
    return where, message


def _literal_values(type_: Any, segments: Sequence[tuple[str, Any]]) -> tuple[Any, ...]:
    """The values a Literal at `segments` inside `type_` allows (best effort, () if unknown)."""
    from msgspec import inspect as mi

    info: Any = mi.type_info(type_)
    for kind, value in segments:
        while isinstance(info, mi.UnionType):
            inner = [t for t in info.types if not isinstance(t, mi.NoneType)]
            if len(inner) != 1:
                return ()
            info = inner[0]
        if kind == "field" and isinstance(info, mi.StructType):
            match = [f for f in info.fields if f.encode_name == value]
            if not match:
                return ()
            info = match[0].type
        elif kind == "index" and isinstance(info, (mi.ListType, mi.VarTupleType, mi.SetType, mi.FrozenSetType)):
            info = info.item_type
        elif kind == "key" and isinstance(info, mi.DictType):
            info = info.value_type
        else:
            return ()
    while isinstance(info, mi.UnionType):
        literals = [t for t in info.types if isinstance(t, mi.LiteralType)]
        if len(literals) != 1:
            return ()
        info = literals[0]
    return tuple(info.values) if isinstance(info, mi.LiteralType) else ()


# ------------------------------------------------------------------------------------ loading


def load_edition(path_or_bytes: str | os.PathLike | bytes | Any, source: str | None = None) -> Methodology:
    """Decode an edition: a path (str or os.PathLike), an importlib.resources Traversable, or
    the TOML bytes.  `source` is how errors name the file (default: the path, or "<edition>").
    Raises EditionError; call `check_edition` for the structural checks."""
    if isinstance(path_or_bytes, (bytes, bytearray, memoryview)):
        data = bytes(path_or_bytes)
        source = source or "<edition>"
    elif isinstance(path_or_bytes, (str, os.PathLike)):
        source = source or str(path_or_bytes)
        try:
            data = Path(path_or_bytes).read_bytes()
        except OSError as e:
            raise EditionError(source, [("", f"cannot read: {e.strerror or e}")]) from None
    elif hasattr(path_or_bytes, "read_bytes"):
        source = source or str(path_or_bytes)
        data = path_or_bytes.read_bytes()
    else:
        raise TypeError(f"load_edition reads a path or bytes, got {type(path_or_bytes).__name__}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise EditionError(source, [("", f"not UTF-8 (byte {e.start})")]) from None
    try:
        raw = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as e:
        message = str(e)
        m = re.fullmatch(r"(.*) \(at (line \d+, column \d+|end of document)\)", message)
        if m:
            raise EditionError(source, [(m.group(2), f"invalid TOML: {m.group(1)}")]) from None
        raise EditionError(source, [("", f"invalid TOML: {message}")]) from None
    try:
        return msgspec.convert(raw, Methodology, str_keys=True)
    except msgspec.ValidationError as e:
        raise EditionError(source, [_located(raw, Methodology, e)]) from None


# ------------------------------------------------------------------------------------ checking


def check_edition(methodology: Methodology, rule_kinds: Mapping[str, RuleKind], source: str = "<edition>") -> None:
    """The structural checks; raises EditionError listing every problem with its path.

    - the id is ``name@year``; tiers are department, district, commune or province;
    - component maxima add up to the tier's scale (aggregate "sum"), or their mean equals it
      (aggregate "mean");
    - every criterion's max is within 0..its component's max, and the criteria maxima of a
      component add up to at least the component's max ("sum with a block maximum": the sum
      may exceed the maximum, the component is capped; it may not fall short, or the component
      could never reach its maximum);
    - codes are unique (indicators; components and criteria within a tier);
    - every criterion names a known rule kind and known indicators, as many as the rule reads;
      its params convert to the rule's params type and pass the rule's own checks;
    - indicator declarations are consistent (categories, ranges); rounding and grading are sane.
    """
    problems: list[tuple[str, str]] = []

    def bad(path: str, message: str) -> None:
        problems.append((path, message))

    with decimal.localcontext(DECIMAL_CONTEXT):
        if not _EDITION_ID.fullmatch(methodology.id):
            bad("id", f"{methodology.id!r} is not an edition id like \"local-ict@2020\" (lower-case name, @, year)")
        catalogue = _check_indicators(methodology, bad)
        if not methodology.tiers:
            bad("tiers", "the edition covers no tier")
        for name, tier in methodology.tiers.items():
            _check_tier(name, tier, catalogue, rule_kinds, bad)
        _check_constraints(methodology, catalogue, bad)
        if not 0 <= methodology.rounding.decimals <= 10:
            bad("rounding.decimals", f"{methodology.rounding.decimals} decimals: use 0..10")
        previous = None
        for i, band in enumerate(methodology.grading):
            if not 0 <= band.min_share <= 1:
                bad(f"grading[{i}].min_share", f"{band.min_share} is outside 0..1")
            elif previous is not None and band.min_share >= previous:
                bad(f"grading[{i}].min_share", "bands are listed best first: min_share must decrease")
            previous = band.min_share
    if problems:
        raise EditionError(source, problems)


def _check_indicators(methodology: Methodology, bad) -> dict[str, Any]:
    catalogue: dict[str, Any] = {}
    first: dict[str, int] = {}
    for i, ind in enumerate(methodology.indicators):
        p = f"indicators[{i}]"
        if not ind.code or ind.code != ind.code.strip() or any(ch.isspace() for ch in ind.code):
            bad(f"{p}.code", f"{ind.code!r}: an indicator code is a non-empty word without spaces")
        if ind.code in first:
            bad(f"{p}.code", f"duplicate indicator code {ind.code!r} (also indicators[{first[ind.code]}])")
        else:
            first[ind.code] = i
            catalogue[ind.code] = ind
        if ind.type == "category":
            if not ind.categories:
                bad(f"{p}.categories", "a category indicator needs its categories")
            elif len(set(ind.categories)) != len(ind.categories):
                bad(f"{p}.categories", "a category is listed twice")
        elif ind.categories:
            bad(f"{p}.categories", f"only category indicators have categories (this one is {ind.type!r})")
        _check_labels(ind, p, bad)
        if ind.type in ("yes_no", "category"):
            for field in ("min", "max"):
                if getattr(ind, field) is not None:
                    bad(f"{p}.{field}", f"a {ind.type} indicator has no {field}")
            continue
        if ind.min is not None and ind.max is not None and ind.min > ind.max:
            bad(f"{p}.max", f"max {ind.max} is below min {ind.min}")
        bounds = {"ratio": (Decimal(0), Decimal(1)), "percentage": (Decimal(0), Decimal(100)), "count": (Decimal(0), None), "points": (Decimal(0), None)}.get(ind.type)
        if bounds:
            lo, hi = bounds
            for field in ("min", "max"):
                value = getattr(ind, field)
                if value is not None and (value < lo or (hi is not None and value > hi)):
                    bad(f"{p}.{field}", f"{value} is outside what a {ind.type} can be")
    return catalogue


def _check_labels(ind, p: str, bad) -> None:
    """A label names one value (a category, or yes/no) and no two values read alike: the
    importer reads a label as its value, NFC and case-insensitively."""
    if not ind.labels_vi:
        return
    values = {"yes_no": ("yes", "no"), "category": ind.categories}.get(ind.type)
    if values is None:
        bad(f"{p}.labels_vi", f"only yes_no and category indicators have labels (this one is {ind.type!r})")
        return
    seen: dict[str, str] = {}
    for value in values:  # a category written as itself reads as itself
        seen[unicodedata.normalize("NFC", value).casefold()] = value
    for value, label in ind.labels_vi.items():
        if value not in values:
            bad(_key(f"{p}.labels_vi", value), f"{value!r} is not a value of {ind.code} (one of: {', '.join(values)})")
            continue
        word = unicodedata.normalize("NFC", label).strip().casefold()
        if not word or label != label.strip():
            bad(_key(f"{p}.labels_vi", value), "a label is non-empty text without spaces around it")
        elif seen.get(word, value) != value:
            bad(_key(f"{p}.labels_vi", value), f"{label!r} reads as {seen[word]!r} too")
        else:
            seen[word] = value


def _check_tier(name: str, tier, catalogue, rule_kinds, bad) -> None:
    tp = _key("tiers", name)
    if name not in TIERS:
        bad(tp, f"unknown tier {name!r} (one of: {', '.join(TIERS)})")
    if tier.scale <= 0:
        bad(f"{tp}.scale", f"the scale must be above 0, got {tier.scale}")
    if not tier.components:
        bad(f"{tp}.components", "a tier needs at least one component")
        return
    maxima = [c.max for c in tier.components]
    total = sum(maxima, Decimal(0))
    if tier.aggregate == "sum" and total != tier.scale:
        bad(f"{tp}.components", f"component maxima add up to {plain(total)}, not the tier's scale {plain(tier.scale)}")
    if tier.aggregate == "mean":
        mean = total / len(maxima)
        if mean != tier.scale:
            bad(f"{tp}.components", f"the mean of the component maxima is {plain(mean)}, not the tier's scale {plain(tier.scale)}")
    components: dict[str, int] = {}
    criteria: dict[str, str] = {}
    for ci, comp in enumerate(tier.components):
        cp = f"{tp}.components[{ci}]"
        if comp.code in components:
            bad(f"{cp}.code", f"duplicate component code {comp.code!r} (also components[{components[comp.code]}])")
        components.setdefault(comp.code, ci)
        if comp.max <= 0:
            bad(f"{cp}.max", f"a component's max must be above 0, got {plain(comp.max)}")
        if not comp.criteria:
            bad(f"{cp}.criteria", f"component {comp.code} has no criteria")
            continue
        crit_total = sum((c.max for c in comp.criteria), Decimal(0))
        if crit_total < comp.max:
            bad(
                f"{cp}.criteria",
                f"criteria maxima of {comp.code} add up to {plain(crit_total)}, less than the component's "
                f"maximum {plain(comp.max)}: the component could never reach it",
            )
        for ki, crit in enumerate(comp.criteria):
            kp = f"{cp}.criteria[{ki}]"
            if crit.code in criteria:
                bad(f"{kp}.code", f"duplicate criterion code {crit.code!r} in tier {name} (also {criteria[crit.code]})")
            criteria.setdefault(crit.code, kp)
            if crit.max < 0:
                bad(f"{kp}.max", f"criterion {crit.code}: max must be ≥ 0, got {plain(crit.max)}")
            elif crit.max > comp.max:
                bad(f"{kp}.max", f"criterion {crit.code}: max {plain(crit.max)} exceeds its component {comp.code}'s maximum {plain(comp.max)}")
            _check_criterion(crit, kp, catalogue, rule_kinds, bad)


def _check_criterion(crit, kp: str, catalogue, rule_kinds, bad) -> None:
    rule = rule_kinds.get(crit.rule)
    if rule is None:
        bad(f"{kp}.rule", f"unknown rule kind {crit.rule!r} (known: {', '.join(sorted(rule_kinds))})")
    indicators = []
    ok = True
    if not crit.indicators:
        bad(f"{kp}.indicators", f"criterion {crit.code} reads no indicator")
        ok = False
    seen: set[str] = set()
    for j, code in enumerate(crit.indicators):
        if code not in catalogue:
            bad(f"{kp}.indicators[{j}]", f"unknown indicator {code!r}")
            ok = False
        elif code in seen:
            bad(f"{kp}.indicators[{j}]", f"indicator {code!r} is listed twice")
            ok = False
        else:
            indicators.append(catalogue[code])
        seen.add(code)
    if rule is None:
        return
    if rule.arity is not None and len(crit.indicators) != rule.arity:
        bad(f"{kp}.indicators", f"rule {rule.name!r} reads {rule.arity} indicator(s), got {len(crit.indicators)}")
        ok = False
    try:
        params = msgspec.convert(dict(crit.params), rule.params_type, str_keys=True)
    except msgspec.ValidationError as e:
        path, message = _located(dict(crit.params), rule.params_type, e)
        bad(_join(f"{kp}.params", path), message)
        return
    if not ok:
        return
    try:
        rule.check(params, crit.max, [ind.type for ind in indicators])
        extra = getattr(rule, "check_indicators", None)
        if extra is not None:
            extra(params, indicators)
    except ParamsError as e:
        bad(_join(f"{kp}.params", e.path), str(e))
    except ValueError as e:
        bad(f"{kp}.params", str(e))


_NUMERIC = frozenset({"count", "ratio", "percentage", "points", "number"})


def constraint_indicators(constraint: Any) -> tuple[str, ...]:
    """The indicators a constraint names, in the order it names them."""
    kind = type(constraint).__struct_config__.tag
    if kind == "part_of":
        return (constraint.part, constraint.whole)
    if kind == "sum":
        return (*constraint.parts, constraint.whole)
    return (constraint.when, constraint.indicator)


def tier_indicators(tier: Any) -> frozenset[str]:
    """The indicators a tier's criteria read (the only ones a unit of that tier submits)."""
    return frozenset(code for comp in tier.components for crit in comp.criteria for code in crit.indicators)


def _check_constraints(methodology: Methodology, catalogue, bad) -> None:
    read = [tier_indicators(t) for t in methodology.tiers.values()]
    for i, c in enumerate(methodology.constraints):
        p = f"constraints[{i}]"
        kind = type(c).__struct_config__.tag
        named = constraint_indicators(c)
        fields = {"part_of": ("part", "whole"), "sum": ("parts", "whole"),
                  "required_if": ("when", "indicator")}[kind]
        if kind == "sum":
            where = [f"{p}.parts[{j}]" for j in range(len(c.parts))] + [f"{p}.whole"]
            if len(c.parts) < 2:
                bad(f"{p}.parts", "a sum needs at least two parts (one part is a part_of)")
        else:
            where = [f"{p}.{f}" for f in fields]
        ok = True
        seen: set[str] = set()
        for path, code in zip(where, named):
            ind = catalogue.get(code)
            if ind is None:
                bad(path, f"unknown indicator {code!r}")
                ok = False
            elif code in seen:
                bad(path, f"indicator {code!r} is named twice in one constraint")
                ok = False
            seen.add(code)
        if not ok:
            continue
        if kind == "required_if":
            if catalogue[c.when].type != "yes_no":
                bad(f"{p}.when", f"{c.when} is a {catalogue[c.when].type} indicator: `when` names a yes_no one")
        else:
            for path, code in zip(where, named):
                if catalogue[code].type not in _NUMERIC:
                    bad(path, f"{code} is a {catalogue[code].type} indicator: a {kind} constraint compares numbers")
        if not any(set(named) <= r for r in read):
            bad(p, f"no tier reads all of {', '.join(named)}: the constraint could never apply")


def criterion_rules(methodology: Methodology, rule_kinds: Mapping[str, RuleKind]) -> dict[tuple[str, str], tuple[RuleKind, Any]]:
    """For a checked edition: (tier, criterion code) → (rule kind, converted params)."""
    out = {}
    for name, tier in methodology.tiers.items():
        for comp in tier.components:
            for crit in comp.criteria:
                rule = rule_kinds[crit.rule]
                out[(name, crit.code)] = (rule, msgspec.convert(dict(crit.params), rule.params_type, str_keys=True))
    return out


# ------------------------------------------------------------------------------------ hashing


def canonical(obj: Any) -> Any:
    """The canonical form of a model value as plain data: struct fields equal to their default
    are left out (so adding a model field with a default changes no existing hash), numbers are
    normalised decimal strings ("20", "0.5": `20`, `20.0` and `"20"` are the same content),
    tuples are lists, dates ISO strings."""
    if isinstance(obj, msgspec.Struct):
        out = {}
        for field in msgspec.structs.fields(obj):
            value = getattr(obj, field.name)
            if field.default is not msgspec.NODEFAULT and value == field.default:
                continue
            if field.default_factory is not msgspec.NODEFAULT and value == field.default_factory():
                continue
            out[field.encode_name] = canonical(value)
        return out
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (int, Decimal)):
        with decimal.localcontext(DECIMAL_CONTEXT):
            d = Decimal(obj)
            return "0" if d == 0 else format(d.normalize(), "f")
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(f"no canonical form for {type(obj).__name__}")


def scoring_model(methodology: Methodology) -> Methodology:
    """The edition without its input `constraints` and its indicators' `labels_vi`: what the
    content hash covers.

    Constraints decide which values may enter the log (import, submit, correct refuse a part
    above its whole); a replay scores the values the log holds and never consults them.  The
    content hash proves that a replay scores as the adopted edition did, so it covers what
    scores, and an edition may declare (or tighten) constraints after a year adopted it
    without making that year's replay refuse it.  Labels only say how a sheet may write a
    value (`Chủ tịch` for `chairman`): the value recorded is the same."""
    if any(ind.labels_vi for ind in methodology.indicators):  # how sheets name values
        methodology = msgspec.structs.replace(methodology, indicators=tuple(
            msgspec.structs.replace(ind, labels_vi={}) for ind in methodology.indicators))
    if not methodology.constraints:
        return methodology
    return msgspec.structs.replace(methodology, constraints=())


def edition_bytes(methodology: Methodology) -> bytes:
    """The canonical bytes (`events.canonical.encode_canonical`) of the scoring model."""
    return encode_canonical(canonical(scoring_model(methodology)))


def content_hash(methodology: Methodology) -> str:
    """SHA-256 (hex) of the canonical form of the scoring model: comments and formatting of
    the TOML do not change it, scoring content does, input constraints do not."""
    return hashlib.sha256(edition_bytes(methodology)).hexdigest()
