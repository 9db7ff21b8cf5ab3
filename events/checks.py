"""Type checks of payloads before they are written.

msgspec checks types when it *decodes*, not when a struct is constructed in Python: a payload
built with `year="2020"` would encode happily and then never decode again.  The store refuses
such payloads before writing.  Decoding every body back would do, but costs more than encoding
it; instead a checker per payload type is derived once from the struct's annotations
(`msgspec.inspect`), covering the field types the payloads use (str, int, bool, Decimal, date,
None, Literal, Struct and unions of them).  A payload type with any other field type is checked
by a decode round trip instead, so a new field type is never silently unchecked.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Callable

import msgspec
import msgspec.inspect as mi

from .types import PAYLOAD_TAGS, PAYLOAD_TYPES, Payload

# A field check: the set of exact types allowed, and for some of them a further check
# (Literal values, the fields of a nested struct).
FieldCheck = tuple[frozenset, dict[type, Callable[[Any], bool]]]


class _Unsupported(Exception):
    pass


def _field_check(t: mi.Type) -> FieldCheck:
    if isinstance(t, mi.UnionType):
        types: set[type] = set()
        extra: dict[type, Callable[[Any], bool]] = {}
        for u in t.types:
            u_types, u_extra = _field_check(u)
            if types & u_types:
                raise _Unsupported  # overlapping union members: keep it simple, round-trip
            types |= u_types
            extra.update(u_extra)
        return frozenset(types), extra
    if isinstance(t, mi.StrType):
        if t.min_length is not None or t.max_length is not None or t.pattern is not None:
            raise _Unsupported
        return frozenset({str}), {}
    if isinstance(t, mi.IntType):
        if any(x is not None for x in (t.gt, t.ge, t.lt, t.le, t.multiple_of)):
            raise _Unsupported
        return frozenset({int}), {}
    if isinstance(t, mi.BoolType):
        return frozenset({bool}), {}
    if isinstance(t, mi.NoneType):
        return frozenset({type(None)}), {}
    if isinstance(t, mi.DecimalType):
        return frozenset({Decimal}), {Decimal: Decimal.is_finite}  # no NaN, no Infinity
    if isinstance(t, mi.DateType):
        return frozenset({dt.date}), {}
    if isinstance(t, mi.LiteralType):
        values = frozenset(t.values)
        kinds = frozenset(type(v) for v in values)
        return kinds, {k: values.__contains__ for k in kinds}
    if isinstance(t, mi.StructType):
        inner = _struct_checker(t.cls)
        return frozenset({t.cls}), {t.cls: lambda v: inner(v) is None}
    raise _Unsupported


def _struct_checker(cls: type) -> Callable[[Any], str | None]:
    """A function returning None for a well-typed instance, else the name of a bad field.

    Generated as straight-line code (one `type(...) in set` test per field): this runs for
    every appended event, and a generic loop over the fields costs several times more.
    """
    namespace: dict[str, Any] = {}
    lines = ["def check(obj):"]
    # `msgspec.inspect` leaves UNSET out of a field's type: a field that defaults to it (an
    # added field, `types.OptionalText`) may also hold it.
    unset = {f.name for f in msgspec.structs.fields(cls) if f.default is msgspec.UNSET}
    for i, f in enumerate(mi.type_info(cls).fields):
        types, extra = _field_check(f.type)
        if f.name in unset:
            types |= {msgspec.UnsetType}
        namespace[f"T{i}"] = types
        lines.append(f"    v = obj.{f.name}")
        lines.append(f"    if type(v) not in T{i}: return {f.name!r}")
        if extra:
            namespace[f"X{i}"] = extra
            lines.append(f"    x = X{i}.get(type(v))")
            lines.append(f"    if x is not None and not x(v): return {f.name!r}")
    lines.append("    return None")
    exec("\n".join(lines), namespace)  # noqa: S102 - code built only from our own field names
    return namespace["check"]


def _round_trip_checker(cls: type) -> Callable[[Any], str | None]:
    encode = msgspec.json.encode
    decode = msgspec.json.Decoder(cls).decode

    def check(obj: Any) -> str | None:
        try:
            decode(encode(obj))
        except msgspec.ValidationError as exc:
            return str(exc)
        return None

    return check


def _build() -> dict[type, Callable[[Any], str | None]]:
    out = {}
    for cls in PAYLOAD_TYPES:
        try:
            out[cls] = _struct_checker(cls)
        except _Unsupported:
            out[cls] = _round_trip_checker(cls)
    return out


_CHECKERS = _build()


def check_payload(payload: Payload) -> str:
    """Return the payload's tag if every field has its declared type, else raise.

    `TypeError` names the payload type and the first ill-typed field (a non-finite decimal
    counts as ill-typed: see `types.check_event_value`).
    """
    checker = _CHECKERS.get(type(payload))
    if checker is None:
        raise TypeError(f"not an event payload: {payload!r}")
    bad = checker(payload)
    if bad is not None:
        tag = PAYLOAD_TAGS[type(payload)]
        value = getattr(payload, bad, None) if bad.isidentifier() else None
        raise TypeError(f"{tag}: field {bad!r} has the wrong type: {value!r}")
    return PAYLOAD_TAGS[type(payload)]


__all__ = ["check_payload"]
