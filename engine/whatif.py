"""What-if editions: an edition changed in place by ``PATH=VALUE`` assignments.

A PATH walks the edition's model from the top, the way the edition's own error messages name
places (`engine.edition`): fields by name, tiers by name, lists by position (``[3]`` or ``.3``)
or by the ``code`` of their item.  Inside a tier, ``criteria.CODE`` finds a criterion in
whichever component holds it.  Examples::

    tiers.commune.components.HT.max=17
    tiers.commune.criteria.NL1.params.steps=[{at_least = 3, points = 3}]
    tiers.commune.missing=exclude_unit
    ties.method=dense

A VALUE is read as a TOML value (numbers stay exact decimals, ``true``, ``[...]``,
``{...}``); a word that is not TOML (``exclude_unit``) is taken as a string.

The changed edition is decoded into the model again and must pass the same structural checks
as an installed edition (`engine.edition.check_edition`): changing one component's maximum
without another leaves the maxima off the tier's scale, and says so.  It keeps its id; its
content hash (`engine.edition.content_hash`) is its own, and names it.

Pure: nothing here reads the log or writes anywhere.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from decimal import Decimal
from typing import Any, Mapping, Sequence

import msgspec

from engine.edition import check_edition
from engine.model import Methodology
from engine.rules.base import RuleKind
from events.refusal import BadArgument

__all__ = ["Assignment", "WhatIfError", "apply_assignments", "parse_assignment", "parse_value"]

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
_PATH = re.compile(r"[^.\[\]=]+(?:\.[^.\[\]=]+|\[\d+\])*")


class WhatIfError(BadArgument):
    """An assignment that names no place in the edition, or a value the place cannot take."""


class Assignment(msgspec.Struct, frozen=True):
    path: str
    text: str  # the VALUE as given
    value: Any  # as read (TOML value, else the text)


# An edition's numbers are points, shares and counts: a VALUE beyond this many digits either
# side of the point is a typo, and would overflow the engine's decimal context.
_DIGITS = 28


def _check_numbers(value: Any, text: str) -> None:
    if isinstance(value, dict):
        for v in value.values():
            _check_numbers(v, text)
    elif isinstance(value, list):
        for v in value:
            _check_numbers(v, text)
    elif isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        d = Decimal(value)
        if not d.is_finite():
            raise WhatIfError(f"--set ...={text}: {value} is not a finite number")
        if d and abs(d.adjusted()) > _DIGITS:
            raise WhatIfError(f"--set ...={text}: {value} is out of range "
                              f"(at most {_DIGITS} digits either side of the point)")


def parse_value(text: str) -> Any:
    """A VALUE as TOML (exact decimals), else the text itself as a string."""
    try:
        value = tomllib.loads(f"v = {text}", parse_float=Decimal)["v"]
    except tomllib.TOMLDecodeError:
        pass
    else:
        _check_numbers(value, text.strip())
        return value
    stripped = text.strip()
    if not stripped:
        raise WhatIfError("--set needs a value after '=' (PATH=VALUE)")
    return stripped


def parse_assignment(text: str) -> Assignment:
    """``PATH=VALUE`` → Assignment; a malformed one raises WhatIfError."""
    path, eq, value = text.partition("=")
    path = path.strip()
    if not eq:
        raise WhatIfError(f"--set {text!r}: write PATH=VALUE, e.g. tiers.commune.components.HT.max=17")
    if not _PATH.fullmatch(path):
        raise WhatIfError(f"--set {text!r}: {path!r} is not a path like tiers.commune.missing")
    try:
        parsed = parse_value(value)
    except WhatIfError as e:
        raise WhatIfError(str(e).replace("--set ...=", f"--set {path}=", 1)) from None
    return Assignment(path=path, text=value.strip(), value=parsed)


def _steps(path: str) -> list[str | int]:
    return [int(m.group(2)) if m.group(2) is not None else m.group(1) for m in _STEP.finditer(path)]


def _listing(names: Sequence[Any]) -> str:
    return ", ".join(str(n) for n in names) or "nothing"


def _set(data: Any, steps: Sequence[str | int], value: Any, where: str, path: str) -> Any:
    """A copy of `data` with `value` at `steps` (copies only along the path)."""
    step, rest = steps[0], steps[1:]
    here = f"{where}.{step}" if where else str(step)
    if isinstance(data, dict):
        if step == "criteria" and "components" in data and "criteria" not in data:
            return _set_criterion(data, rest, value, here, path)
        key = str(step)
        inside_params = where.endswith("params") or ".params." in f"{where}."
        if key not in data and not (inside_params and not rest):
            raise WhatIfError(f"--set {path}: {where or 'the edition'} has no {key!r} "
                              f"(it has: {_listing(sorted(data))})")
        copy = dict(data)
        copy[key] = value if not rest else _set(data[key], rest, value, here, path)
        return copy
    if isinstance(data, (list, tuple)):
        index = _index(list(data), step, where, path)
        copy = list(data)
        copy[index] = value if not rest else _set(data[index], rest, value, here, path)
        return copy
    shown = repr(data) if len(repr(data)) <= 40 else repr(data)[:39] + "…"
    raise WhatIfError(f"--set {path}: {where} is a value ({shown}), it has no {step!r}")


def _index(items: list, step: str | int, where: str, path: str) -> int:
    if isinstance(step, str) and step.isdigit():
        step = int(step)
    if isinstance(step, int):
        if step < len(items):
            return step
        raise WhatIfError(f"--set {path}: {where} has {len(items)} item(s), no [{step}]")
    codes = [item.get("code") if isinstance(item, dict) else None for item in items]
    if step in codes:
        return codes.index(step)
    named = [c for c in codes if c is not None]
    raise WhatIfError(f"--set {path}: {where} has no {step!r} "
                      f"({'codes: ' + _listing(named) if named else 'give a position, e.g. [0]'})")


def _set_criterion(tier: dict, rest: Sequence[str | int], value: Any, where: str, path: str) -> dict:
    if not rest:
        raise WhatIfError(f"--set {path}: name a criterion after {where}, e.g. {where}.HT1.max")
    code = rest[0]
    for ci, comp in enumerate(tier["components"]):  # tuples or lists: either indexes
        for ki, crit in enumerate(comp["criteria"]):
            if crit.get("code") == code:
                return _set(tier, ["components", ci, "criteria", ki, *rest[1:]], value,
                            where.rpartition(".")[0], path)
    known = [c.get("code") for comp in tier["components"] for c in comp["criteria"]]
    raise WhatIfError(f"--set {path}: {where} has no {code!r} (codes: {_listing(known)})")


def _decode(raw: Any, assignments: Sequence[Assignment], base: Any) -> Methodology:
    try:
        return msgspec.convert(raw, Methodology, str_keys=True)
    except msgspec.ValidationError as e:
        message = str(e).split(" - at `", 1)[0]
        # the edition was valid before: the culprit is the first assignment that alone breaks it
        for a in assignments:
            try:
                msgspec.convert(_set(base, _steps(a.path), a.value, "", a.path), Methodology,
                                str_keys=True)
            except msgspec.ValidationError as one:
                raise WhatIfError(f"--set {a.path}={a.text}: {str(one).split(' - at `', 1)[0]}"
                                  ) from None
        raise WhatIfError(f"--set: the changed edition is not valid: {message}") from None


def apply_assignments(methodology: Methodology, assignments: Sequence[Assignment],
                      rule_kinds: Mapping[str, RuleKind]) -> Methodology:
    """The edition with every assignment made, decoded and checked like a loaded edition.

    Raises WhatIfError (a bad path or value) or `engine.edition.EditionError` (the changed
    edition fails a structural check; every problem listed with its path)."""
    base = msgspec.to_builtins(methodology, builtin_types=(Decimal, dt.date))
    raw = base
    for a in assignments:
        raw = _set(raw, _steps(a.path), a.value, "", a.path)
    changed = _decode(raw, assignments, base)
    check_edition(changed, rule_kinds, source=f"{methodology.id} with --set")
    return changed
