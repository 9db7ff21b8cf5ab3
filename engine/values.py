"""Indicator values: from what people type (CSV cells, command-line arguments) to exact values.

`parse_value` reads a text cell for an indicator of the methodology's catalogue and returns an
`events.types.Value` (bool, Decimal or Choice); `check_value` checks a value already typed (from
JSON or an Excel number); `to_input` is what a rule kind sees.  Errors are `ValueError` with a
short message meant for the person who filled in the sheet; the caller adds file, row and column.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from engine.model import Indicator
from engine.text import decimal_text, plain, shown
from events.types import Choice, Value

_YES = frozenset({"yes", "y", "có", "co", "1", "true", "x"})
_NO = frozenset({"no", "n", "không", "khong", "0", "false"})
# What `parse_value` says yes/no accepts (the full set above also takes y/n/x and
# unaccented co/khong).
YES_NO_WORDS = "yes/no, có/không, 1/0, true/false"

# ASCII digits only: Python's Decimal and int read any Unicode digit ('৪৪' is 44, '４４' too),
# which lets a look-alike through.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_GROUPED = re.compile(r"[+-]?[0-9]{1,3}(?:[,.][0-9]{3})+(?:[.,][0-9]+)?")
_SPACED = re.compile(r"[+-]?[0-9]{1,3}(?:[ '_][0-9]{3})+(?:[.,][0-9]+)?")
_NOT_FINITE = frozenset({"nan", "snan", "qnan", "inf", "infinity"})


def _clean(raw: str) -> str:
    text = unicodedata.normalize("NFC", raw)
    return text.replace("\u00a0", " ").replace("\u202f", " ").strip()


def parse_value(indicator: Indicator, raw: str, *, decimal_comma: bool = False) -> Value:
    """The value of `indicator` written as `raw`; ValueError with a short message otherwise."""
    if not isinstance(raw, str):
        raise TypeError(f"parse_value reads text, got {type(raw).__name__}; use check_value for typed values")
    text = _clean(raw)
    if not text:
        raise ValueError("empty value")
    if indicator.type == "yes_no":
        word = text.casefold()
        if word in _YES or _label_of(indicator, word) == "yes":
            return True
        if word in _NO or _label_of(indicator, word) == "no":
            return False
        labels = "/".join(indicator.labels_vi.get(v, "") for v in ("yes", "no")).strip("/")
        raise ValueError(f"{raw.strip()!r} is not yes/no (write {YES_NO_WORDS}"
                         + (f", {labels})" if labels else ")"))
    if indicator.type == "category":
        for declared in indicator.categories:
            if unicodedata.normalize("NFC", declared).casefold() == text.casefold():
                return Choice(declared)
        declared = _label_of(indicator, text.casefold())
        if declared is not None:
            return Choice(declared)
        raise ValueError(f"{text!r} is not a category of {indicator.code} (one of: "
                         f"{', '.join(allowed_values(indicator, labelled=False))})")
    return check_value(indicator, _parse_number(indicator, text, decimal_comma))


def _label_of(indicator: Indicator, word: str) -> str | None:
    """The value whose Vietnamese label is `word` (NFC, casefolded), or None."""
    for value, label in indicator.labels_vi.items():
        if unicodedata.normalize("NFC", label).strip().casefold() == word:
            return value
    return None


def allowed_values(indicator: Indicator, *, labelled: bool = True) -> list[str]:
    """What a yes/no or category indicator accepts, as a sheet shows it: each value's
    Vietnamese label when the edition gives one (`labelled`), else the value (`có`/`không` for
    yes/no); [] for numbers."""
    if indicator.type == "yes_no":
        values = {"yes": "có", "no": "không"}
        return [indicator.labels_vi.get(v, values[v]) if labelled else values[v]
                for v in ("yes", "no")]
    if indicator.type == "category":
        if not labelled:
            return [f"{c} ({indicator.labels_vi[c]})" if c in indicator.labels_vi else c
                    for c in indicator.categories]
        return [indicator.labels_vi.get(c, c) for c in indicator.categories]
    return []


_BOUNDS = {"ratio": (Decimal(0), Decimal(1)), "percentage": (Decimal(0), Decimal(100)),
           "count": (Decimal(0), None), "points": (Decimal(0), None)}


def value_range(indicator: Indicator) -> tuple[Decimal | None, Decimal | None]:
    """The least and greatest value a number indicator may take (None: no bound): its type's
    bounds narrowed by the edition's `min` and `max`; (None, None) for yes/no and category."""
    if indicator.type in ("yes_no", "category"):
        return None, None
    lo, hi = _BOUNDS.get(indicator.type, (None, None))
    if indicator.min is not None:
        lo = indicator.min if lo is None else max(lo, indicator.min)
    if indicator.max is not None:
        hi = indicator.max if hi is None else min(hi, indicator.max)
    return lo, hi


def range_text(indicator: Indicator) -> str:
    """`0..100`, `≥ 0`, `≤ 5` or "" (no bound, or not a number)."""
    lo, hi = value_range(indicator)
    if lo is not None and hi is not None:
        return f"{plain(lo)}..{plain(hi)}"
    if lo is not None:
        return f"≥ {plain(lo)}"
    return f"≤ {plain(hi)}" if hi is not None else ""


def _parse_number(indicator: Indicator, text: str, decimal_comma: bool) -> Decimal:
    foreign = next((ch for ch in text if not ch.isascii() and unicodedata.category(ch) == "Nd"), None)
    if foreign is not None:
        raise ValueError(f"{text!r} has the digit {foreign!r} "
                         f"({unicodedata.name(foreign, 'a non-ASCII digit')}): "
                         "write numbers with the digits 0-9")
    percent = text.endswith("%")
    if percent:
        # What a cell formatted as a percentage shows (95% holds 0.95): the number itself for a
        # percentage, a hundredth of it for a ratio, and a mistake for anything else.
        if indicator.type not in ("percentage", "ratio"):
            raise ValueError(f"{text!r} is a percentage, but {indicator.code} is not (it is a "
                             f"{indicator.type} indicator): write the number itself")
        text = text[:-1].rstrip()
        number = _parse_plain_number(text, decimal_comma)
        return number if indicator.type == "percentage" else number.scaleb(-2)
    return _parse_plain_number(text, decimal_comma)


def _parse_plain_number(text: str, decimal_comma: bool) -> Decimal:
    if text.lstrip("+-").casefold() in _NOT_FINITE:
        raise ValueError(f"{text!r} is not a finite number")
    if _SPACED.fullmatch(text):
        raise ValueError(f"{text!r}: thousands separators are not accepted, write the digits together")
    if decimal_comma:
        if "." in text:
            raise ValueError(
                f"{text!r}: with --decimal-comma the decimal separator is a comma and thousands "
                "separators are not accepted"
            )
        if text.count(",") > 1:
            raise ValueError(f"{text!r}: thousands separators are not accepted, write the digits together")
        text = text.replace(",", ".")
    elif "," in text:
        if _GROUPED.fullmatch(text):
            raise ValueError(
                f"{text!r}: thousands separators are not accepted; if the comma is a decimal "
                "comma, use --decimal-comma"
            )
        raise ValueError(f"{text!r} has a decimal comma: use --decimal-comma (or write a decimal point)")
    if not _NUMBER.fullmatch(text):
        if _GROUPED.fullmatch(text):
            raise ValueError(f"{text!r}: thousands separators are not accepted, write the digits together")
        raise ValueError(f"{text!r} is not a number")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern above only lets numbers through
        raise ValueError(f"{text!r} is not a number") from None


def check_value(indicator: Indicator, value: Value) -> Value:
    """`value` if it fits `indicator` (type, range), normalised (whole counts lose ".0");
    ValueError with a short message otherwise."""
    kind = indicator.type
    if kind == "yes_no":
        if isinstance(value, bool):
            return value
        raise ValueError(f"{indicator.code} is yes/no, got {shown(value)}")
    if kind == "category":
        if isinstance(value, Choice) and value.choice in indicator.categories:
            return value
        raise ValueError(f"{shown(value)} is not a category of {indicator.code} (one of: {', '.join(indicator.categories)})")
    if isinstance(value, bool) or not isinstance(value, (Decimal, int)):
        raise ValueError(f"{indicator.code} is a number, got {shown(value)}")
    d = Decimal(value)
    if not d.is_finite():
        raise ValueError(f"{d} is not a finite number")
    if d.is_zero() and d.is_signed():
        d = d.copy_abs()  # one zero: -0.00 is recorded as 0.00, with the scale as written
    if kind == "count":
        if d != d.to_integral_value() or d < 0:
            raise ValueError(f"a count must be a whole number ≥ 0, got {decimal_text(d)}")
        d = Decimal(int(d))
    elif kind == "ratio" and not 0 <= d <= 1:
        raise ValueError(f"a ratio must be within 0..1, got {decimal_text(d)}" + (" (a percentage?)" if 1 < d <= 100 else ""))
    elif kind == "percentage" and not 0 <= d <= 100:
        raise ValueError(f"a percentage must be within 0..100, got {decimal_text(d)}")
    elif kind == "points" and d < 0:
        raise ValueError(f"points must be ≥ 0, got {decimal_text(d)}")
    if indicator.min is not None and d < indicator.min:
        raise ValueError(f"{decimal_text(d)} is below {indicator.code}'s minimum {decimal_text(indicator.min)}")
    if indicator.max is not None and d > indicator.max:
        raise ValueError(f"{decimal_text(d)} is above {indicator.code}'s maximum {decimal_text(indicator.max)}")
    return d


def to_input(value: Value | None) -> Decimal | bool | str | None:
    """What a rule kind reads: Decimal for numbers, bool for yes/no, str for a category."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Choice):
        return value.choice
    if isinstance(value, (Decimal, int)):
        return Decimal(value)
    raise TypeError(f"not an indicator value: {value!r}")
