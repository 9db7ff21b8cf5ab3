"""Printing for the command line: plain-text tables and JSON, the same rows either way."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from decimal import Decimal
from typing import Any, Sequence

import msgspec

from engine.text import cell_text as cell

_json = msgspec.json.Encoder(order="sorted", decimal_format="string")

# How people write numbers, by language: the decimal mark and the thousands separator
# (Vietnamese: 84,03 and 1.250; English: 84.03 and 1,250).  Only text people read uses these;
# JSON, CSV for re-import, the command line's output and the hashed result bytes keep the
# machine's plain notation.
LANGS = ("vi", "en")
_MARKS = {"vi": (",", "."), "en": (".", ",")}
# A number inside a text (a formula): not part of a word or code (`HT1`, `tcvn9250`), optionally
# followed by the `…` of a shortened decimal.
_NUMBER_IN_TEXT = re.compile(r"(?<![\w.,])(\d+)(?:\.(\d+))?(?![\w])")

# What a spreadsheet reads as the start of a formula (OWASP's list for CSV injection).
FORMULA_CHARS = ("=", "+", "-", "@", "\t", "\r")


def to_json(obj: Any) -> str:
    """Canonical JSON (sorted keys, decimals as strings), pretty-printed, Vietnamese intact."""
    return msgspec.json.format(_json.encode(obj), indent=2).decode("utf-8")


def neutralise(text: str) -> str:
    """`text`, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_CHARS) else text


def _width(text: str) -> int:
    # Combining marks take no column; East Asian wide characters take two.
    return sum(0 if unicodedata.combining(ch) else
               2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    fill = " " * (width - _width(text))
    return fill + text if right else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, right: Sequence[int] = ()) -> str:
    """A plain-text table; columns whose index is in `right` are right-aligned (numbers)."""
    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in text_rows]) for i, h in enumerate(headers)]
    lines = ["  ".join(_pad(h, widths[i], i in right) for i, h in enumerate(headers)).rstrip(),
             "  ".join("-" * w for w in widths)]
    for r in text_rows:
        lines.append("  ".join(_pad(v, widths[i], i in right) for i, v in enumerate(r)).rstrip())
    return "\n".join(lines)


def to_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """CSV a spreadsheet can open safely: text is neutralised, numbers stay numbers.

    Lines end in LF; a field holding a CR or LF is quoted (the csv module quotes only the
    characters of its line terminator, so each line is written with CRLF and cut back).
    """
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    lines = []
    for cells in [[neutralise(h) for h in headers]] + [
            [cell(v) if isinstance(v, (int, Decimal)) or v is None else neutralise(cell(v))
             for v in row] for row in rows]:
        buf.seek(0)
        buf.truncate()
        w.writerow(cells)
        lines.append(buf.getvalue()[:-2] + "\n")
    return "".join(lines)


def number_text(value: Decimal | int | str, lang: str = "vi", decimals: int | None = None) -> str:
    """A number as people of `lang` write it: 84,03 and 12.727 in Vietnamese, 84.03 and 12,727
    in English; with `decimals`, rounded half-even to exactly that many places.  Exact (no
    float on the way); a text that is not a plain decimal (an em dash, `NaN`) is returned as is."""
    if lang not in _MARKS:
        raise ValueError(f"unknown language {lang!r} (one of: {', '.join(LANGS)})")
    if isinstance(value, str):
        text = value
    elif isinstance(value, Decimal) and decimals is not None and value.is_finite():
        text = format(value.quantize(Decimal(1).scaleb(-decimals)), "f")
    else:
        text = format(value, "f") if isinstance(value, Decimal) else str(value)
    m = re.fullmatch(r"([-+−]?)(\d+)(?:\.(\d+))?", text)
    if m is None:
        return text
    point, group = _MARKS[lang]
    sign, whole, frac = m.groups()
    return sign + _grouped(whole, group) + (point + frac if frac is not None else "")


def numbers_in_text(text: str, lang: str = "vi") -> str:
    """Every plain number inside `text` (a formula such as `12727 ÷ 12921 × 6 = 5.9`) written
    as people of `lang` write numbers; the rest of the text as it is."""
    point, group = _MARKS[lang]
    return _NUMBER_IN_TEXT.sub(
        lambda m: _grouped(m.group(1), group) + (point + m.group(2) if m.group(2) else ""), text)


def _grouped(whole: str, sep: str) -> str:
    head = len(whole) % 3 or 3
    return sep.join([whole[:head]] + [whole[i:i + 3] for i in range(head, len(whole), 3)])
