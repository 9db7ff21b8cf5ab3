"""Values as text: the one place that turns decimals, indicator values and times into the
words the tool prints (command line, explanations, error messages, the site).

Every function is exact (no float on the way) and deterministic; each says which output it
serves, since the wording differs by audience (an error message says `yes`, an explanation
`có (yes)`, the Vietnamese site `có`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from engine.rules.base import DECIMAL_CONTEXT
from events.types import Choice

__all__ = ["cell_text", "decimal_text", "fixed", "plain", "scale_text", "shown", "utc", "value_text",
           "value_text_vi", "when_text", "when_text_vi"]


def decimal_text(d: Decimal) -> str:
    """A decimal as written, in plain notation (no exponent), its scale kept; NaN and
    infinities by name."""
    return format(d, "f") if d.is_finite() else str(d)


def plain(d: Decimal) -> str:
    """A decimal in plain notation: no exponent, no trailing zeros, never "-0"."""
    if d.is_zero():
        return "0"
    return format(d.normalize(DECIMAL_CONTEXT), "f")


def fixed(d: Decimal | None, decimals: int) -> str:
    """`d` with exactly `decimals` places (rounded half-even); an em dash for none."""
    return "—" if d is None else format(d.quantize(Decimal(1).scaleb(-decimals)), "f")


def scale_text(d: Decimal) -> str:
    """A maximum or scale: a whole number without its zeros (100.00 → 100), else as written."""
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def cell_text(value: Any) -> str:
    """A value in a table cell of the command line (text table, CSV): empty for none."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def shown(value: object) -> str:
    """A value quoted in an error message: yes/no, a category in quotes, a number as written."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Choice):
        return repr(value.choice)
    if isinstance(value, Decimal):
        return decimal_text(value)
    return repr(value)


def value_text(v: Any, *, missing: str = "missing", yes: str = "có (yes)",
               no: str = "không (no)") -> str:
    """An indicator value in an explanation or a diff (bilingual yes/no by default)."""
    if v is None:
        return missing
    if v is True:
        return yes
    if v is False:
        return no
    if type(v) is Choice:
        return v.choice
    return format(v, "f") if isinstance(v, Decimal) else str(v)


def value_text_vi(v: Any) -> str:
    """An indicator value on the Vietnamese site."""
    return value_text(v, missing="không có", yes="có", no="không")


def utc(t: dt.datetime) -> dt.datetime:
    """`t` in UTC; a time without a zone is taken as UTC."""
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    return t.astimezone(dt.timezone.utc)


def when_text(t: dt.datetime) -> str:
    """A recording time in an explanation: the date alone at midnight UTC, else minutes + Z."""
    t = utc(t)
    return t.strftime("%Y-%m-%d %H:%M") + "Z" if (t.hour, t.minute) != (0, 0) else t.date().isoformat()


def when_text_vi(t: dt.datetime) -> str:
    """A recording time on the Vietnamese site: day/month/year hours:minutes UTC."""
    return utc(t).strftime("%d/%m/%Y %H:%M") + " UTC"
