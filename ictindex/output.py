"""Printing for the command line: plain-text tables and JSON, the same rows either way."""

from __future__ import annotations

import csv
import io
import unicodedata
from decimal import Decimal
from typing import Any, Sequence

import msgspec

from engine.text import cell_text as cell

_json = msgspec.json.Encoder(order="sorted", decimal_format="string")

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
