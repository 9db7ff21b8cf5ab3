"""Rows of one worksheet of an XLSX workbook, streamed (openpyxl, read-only mode).

Yields `(row_number, cells)` with `row_number` as Excel shows it (1-based) and each cell as:
`None` (empty), `str` (text), `NumberText` (a numeric cell written as exact decimal text), or
`CellProblem` (a formula, an error value, a merged cell...) that the caller reports with the
column's name (a `CellProblem` with an empty message is a cell covered by a problem reported at
another cell: the row is invalid but nothing more is said).  Methodology-free: no cell is interpreted beyond turning it into text.

Formulas are refused rather than evaluated: openpyxl can only read the value cached by the
last program that saved the file, which may be stale or absent; people must paste values.
Merged cells are refused too: only the top-left cell of a merge holds the value, so the other
rows would silently read as empty.  A read-only worksheet does not expose merges, so the
sheet's XML is scanned for `<mergeCell ref=...>` (in chunks, to keep memory bounded).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any, Iterator

# openpyxl is imported inside the functions: it takes a quarter of a second to import, and
# most commands never read a workbook.


class NumberText(str):
    """The exact text of a numeric cell (never touched by the decimal-comma rules)."""


class CellProblem:
    """A cell that cannot be read as a value, with the reason."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return f"CellProblem({self.message!r})"


class WorkbookError(Exception):
    """The workbook as a whole cannot be read (not XLSX, several sheets, no such sheet)."""


Cell = str | NumberText | CellProblem | None

_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]+[0-9]+):([A-Za-z]+[0-9]+)\"")
_CHUNK = 1 << 20


def _merged_ranges(archive: zipfile.ZipFile, member: str) -> list[tuple[int, int, int, int]]:
    """(min_row, min_col, max_row, max_col) of every merged range in the sheet's XML."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    out = []
    tail = b""
    with archive.open(member) as f:
        while True:
            chunk = f.read(_CHUNK)
            if not chunk:
                break
            data = tail + chunk
            last_end = 0
            for m in _MERGE.finditer(data):
                c1, r1 = coordinate_from_string(m.group(1).decode().upper())
                c2, r2 = coordinate_from_string(m.group(2).decode().upper())
                out.append((r1, column_index_from_string(c1), r2, column_index_from_string(c2)))
                last_end = m.end()
            tail = data[max(last_end, len(data) - 512) :]
    return sorted(set(out))


def _cell_text(cell: Any) -> Cell:
    value = cell.value
    if value is None:
        return None
    kind = getattr(cell, "data_type", None)
    if kind == "f" or type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
        text = value if isinstance(value, str) else getattr(value, "text", "") or ""
        return CellProblem(f"cell holds the formula {text}: paste the values instead")
    if kind == "e":
        return CellProblem(f"cell holds the error value {value}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return NumberText(str(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return CellProblem(f"cell holds the non-finite number {value}")
        # repr is the shortest text that reads back as the same double: what Excel displays
        # for a typed-in 84.03, not 84.0300000000000011368683772161602973937988281250.
        return NumberText(str(int(value)) if value.is_integer() else repr(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return CellProblem("cell holds a duration, not a value")
    return str(value)


def iter_xlsx_rows(path: str | Path, sheet: str | None = None) -> Iterator[tuple[int, list[Cell]]]:
    """Rows of the only worksheet (or of `sheet`), as described in the module docstring.

    Raises `WorkbookError` before the first row if the workbook cannot be read, has several
    sheets and no `sheet` was named, or has no sheet of that name.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise WorkbookError(f"not a readable XLSX workbook: {exc}") from exc
    try:
        names = wb.sheetnames
        if sheet is None:
            if len(names) != 1:
                raise WorkbookError(
                    f"the workbook has {len(names)} sheets ({', '.join(names)}): "
                    "name the one to read with --sheet NAME"
                )
            sheet = names[0]
        elif sheet not in names:
            raise WorkbookError(f"the workbook has no sheet {sheet!r} (it has: {', '.join(names)})")
        ws = wb[sheet]
        if not hasattr(ws, "iter_rows") or not hasattr(ws, "_worksheet_path"):
            raise WorkbookError(f"sheet {sheet!r} is not a worksheet")
        merges = _merged_ranges(wb._archive, ws._worksheet_path)
        merged_at: dict[int, list[tuple[int, int, int, int]]] = {}
        for rng in merges:
            for r in range(rng[0], rng[2] + 1):
                merged_at.setdefault(r, []).append(rng)
        ws.reset_dimensions()  # dimensions written by some programs are wrong: read every row
        for number, cells in enumerate(ws.iter_rows(min_row=1, min_col=1), start=1):
            row = [_cell_text(c) for c in cells]
            for r1, c1, r2, c2 in merged_at.get(number, ()):
                while len(row) < c2:
                    row.append(None)
                for c in range(c1, c2 + 1):
                    # Reported once, at the top-left cell; the rest of the range is marked
                    # so that it is neither read as empty nor reported again.
                    row[c - 1] = CellProblem(
                        f"merged cells {_a1(r1, c1)}:{_a1(r2, c2)}: unmerge them and fill "
                        "every cell"
                        if (number, c) == (r1, c1)
                        else ""
                    )
            yield number, row
    finally:
        wb.close()


def _a1(row: int, col: int) -> str:
    from openpyxl.utils import get_column_letter

    return f"{get_column_letter(col)}{row}"


__all__ = ["CellProblem", "NumberText", "WorkbookError", "iter_xlsx_rows"]
