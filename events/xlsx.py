"""Rows of one worksheet of an XLSX workbook, streamed (openpyxl's sheet parser).

Yields `(row_number, cells)` with `row_number` as Excel shows it (1-based) and each cell as:
`None` (empty), `str` (text), `NumberText` (a numeric cell written as exact decimal text, as
Excel shows it: `95%` for a cell formatted as a percentage), `DateText` (a date or time cell, as
ISO text) or `CellProblem` (a formula, an error value, a merged cell...) that the caller reports
with the column's name (a `CellProblem` with an empty message is a cell covered by a problem
reported at another cell: the row is invalid but nothing more is said).  Methodology-free: no
cell is interpreted beyond turning it into the text Excel displays.

Formulas are refused rather than evaluated: openpyxl can only read the value cached by the
last program that saved the file, which may be stale or absent; people must paste values.
Merged cells are refused too: only the top-left cell of a merge holds the value, so the other
rows would silently read as empty.  Hidden sheets, rows and columns holding data are refused:
what is imported must be what the sender saw.

Before openpyxl opens a workbook, `events.xlsx_archive.check_archive` checks what its parts
claim (sizes, declarations, rows...), so that memory stays bounded whatever the file holds.
Whatever openpyxl or the XML parser still rejects is a `WorkbookError` naming the row being
read.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator
from xml.etree.ElementTree import ParseError

from .xlsx_archive import MAX_COLUMN, MAX_MERGES, MAX_ROW, SAVE_AGAIN, WorkbookError, check_archive

# openpyxl is imported inside the functions: it takes a quarter of a second to import, and
# most commands never read a workbook.

# Cells further right than this are reported (as one problem per row), never read: a table of
# submissions or units has at most seven columns.
READ_COLUMNS = 64


class NumberText(str):
    """The exact text of a numeric cell (never touched by the decimal-comma rules)."""


class DateText(str):
    """The ISO text of a date or time cell: fine as evidence, never read as a number."""


class CellProblem:
    """A cell that cannot be read as a value, with the reason (and its column, when it is
    further right than the row's cells that are read)."""

    __slots__ = ("message", "column")

    def __init__(self, message: str, column: int | None = None) -> None:
        self.message = message
        self.column = column

    def __repr__(self) -> str:
        return f"CellProblem({self.message!r})"


Cell = str | NumberText | DateText | CellProblem | None

# -- cells -----------------------------------------------------------------------------------


_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]')


def _is_percent(number_format: str) -> bool:
    """A number format that shows the value ×100 with a '%' (not a quoted or escaped one)."""
    return "%" in _QUOTED.sub("", number_format.split(";")[0])


def _decimal_text(value: float) -> str:
    """The decimal a float cell holds, as plain digits: repr is the shortest text that reads
    back as the same double (what Excel displays for a typed-in 84.03 or 0.00001), written
    without an exponent."""
    if value.is_integer():
        return str(int(value))
    return format(Decimal(repr(value)), "f")


def _cell_text(value: Any, kind: str, percent: Any) -> Cell:
    """The cell as Excel shows it; `percent()` says whether its number format is a percentage
    (None: a style the file does not define), asked only of numbers."""
    if value is None:
        return None
    if kind == "f" or type(value).__name__ in ("ArrayFormula", "DataTableFormula"):
        text = value if isinstance(value, str) else getattr(value, "text", "") or ""
        return CellProblem(f"cell holds the formula {text}: paste the values instead")
    if kind == "e":
        return CellProblem(f"cell holds the error value {value}")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
            return CellProblem(f"cell holds the non-finite number {value}")
        text = str(value) if isinstance(value, int) else _decimal_text(value)
        shows_percent = percent()
        if shows_percent is None:
            return CellProblem(f"the cell's style is not defined in the file: the file is "
                               f"damaged; {SAVE_AGAIN}")
        if shows_percent:
            # Excel stores a typed 95% as 0.95 and shows it as 95%: read what is shown.
            return NumberText(format(Decimal(text).scaleb(2), "f") + "%")
        return NumberText(text)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return DateText(value.date().isoformat())
        return DateText(value.isoformat())
    if isinstance(value, (dt.date, dt.time)):
        return DateText(value.isoformat())
    if isinstance(value, dt.timedelta):
        return CellProblem("cell holds a duration, not a value")
    return str(value)


class _SharedStrings:
    """The workbook's shared strings, refusing an index the file does not have (a negative one
    would silently read a string from the end)."""

    def __init__(self, strings: list[str]) -> None:
        self.strings = strings

    def __getitem__(self, index: int) -> str:
        if not 0 <= index < len(self.strings):
            raise _BadIndex(f"a cell refers to shared text #{index}, and the file holds "
                            f"{len(self.strings):,}: the file is damaged; {SAVE_AGAIN}")
        return self.strings[index]


class _BadIndex(Exception):
    pass


# What openpyxl and the XML parser raise on a damaged part (RecursionError: absurd nesting).
_DAMAGED = (ParseError, ValueError, TypeError, KeyError, IndexError, RecursionError,
            zipfile.BadZipFile, zlib.error, EOFError, OSError)


def iter_xlsx_rows(path: str | Path, sheet: str | None = None) -> Iterator[tuple[int, list[Cell]]]:
    """Rows of the only worksheet (or of `sheet`), as described in the module docstring.

    Raises `WorkbookError` before the first row if the workbook cannot be read, has several
    sheets and no `sheet` was named, or has no sheet of that name; and at the row where a
    problem that stops the reading is found.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    merges_of = check_archive(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=False)
    except InvalidFileException as exc:
        raise WorkbookError(f"not a readable XLSX workbook: {exc}") from None
    except _DAMAGED as exc:
        raise WorkbookError(f"not a readable XLSX workbook ({type(exc).__name__}: {exc}): "
                            f"{SAVE_AGAIN}") from None
    try:
        ws = _worksheet(wb, sheet)
        merges = merges_of.get(ws._worksheet_path.lstrip("/"), [])
        if len(merges) > MAX_MERGES:
            raise WorkbookError(f"the sheet has more than {MAX_MERGES} merged ranges: unmerge "
                                "every cell (select all, then Merge & Center > Unmerge Cells)")
        yield from _rows(wb, ws, merges)
    finally:
        wb.close()


def _worksheet(wb: Any, sheet: str | None) -> Any:
    names = wb.sheetnames
    hidden = {ws.title for ws in wb.worksheets if getattr(ws, "sheet_state", "visible") != "visible"}

    def shown(name: str) -> str:
        return f"{name} (hidden)" if name in hidden else name

    if sheet is None:
        if len(names) != 1:
            raise WorkbookError(
                f"the workbook has {len(names)} sheets ({', '.join(map(shown, names))}): "
                "name the one to read with --sheet NAME"
            )
        sheet = names[0]
    elif sheet not in names:
        raise WorkbookError(f"the workbook has no sheet {sheet!r} (it has: {', '.join(names)})")
    if sheet in hidden:
        raise WorkbookError(f"sheet {sheet!r} is hidden: unhide it (right-click a sheet tab > "
                            "Unhide) and check what it holds before importing it")
    ws = wb[sheet]
    if not hasattr(ws, "iter_rows") or not hasattr(ws, "_worksheet_path"):
        raise WorkbookError(f"sheet {sheet!r} is not a worksheet")
    return ws


def _rows(wb: Any, ws: Any, merges: list[tuple[int, int, int, int]]
          ) -> Iterator[tuple[int, list[Cell]]]:
    from openpyxl.cell.read_only import ReadOnlyCell
    from openpyxl.worksheet._reader import WorkSheetParser

    marks = _MergeMarks(merges)
    percent_styles: dict[int, bool | None] = {}

    def percent(style_id: int) -> bool | None:
        """Whether cells of this style show a percentage (None: a style the file lacks)."""
        if style_id not in percent_styles:
            try:
                number_format = ReadOnlyCell(ws, 0, 0, None, "n", style_id).number_format
                percent_styles[style_id] = _is_percent(number_format)
            except (IndexError, KeyError, TypeError):
                percent_styles[style_id] = None
        return percent_styles[style_id]

    with wb._archive.open(ws._worksheet_path) as src:
        parser = WorkSheetParser(src, _SharedStrings(ws._shared_strings), data_only=False,
                                 epoch=wb.epoch, date_formats=wb._date_formats,
                                 timedelta_formats=wb._timedelta_formats)
        parsed = parser.parse()
        hidden_columns: list[tuple[int, int]] | None = None
        last = 0
        while True:
            try:
                number, parsed_cells = next(parsed)
            except StopIteration:
                break
            except _BadIndex as exc:
                raise WorkbookError(str(exc), parser.row_counter) from None
            except _DAMAGED as exc:
                raise WorkbookError(f"the sheet cannot be read here ({type(exc).__name__}: "
                                    f"{exc}): the file is damaged; {SAVE_AGAIN}",
                                    max(parser.row_counter, last + 1)) from None
            if not last < number <= MAX_ROW:
                raise _row_number_error(number, last)
            last = number
            if hidden_columns is None:
                hidden_columns = _hidden_columns(parser.column_dimensions)
            dims = parser.row_dimensions.pop(str(number), None)
            parser.row_dimensions.clear()  # bounded memory: one row's attributes at a time
            row: list[Cell] = []
            beyond = None
            for c in parsed_cells:
                col = c["column"]
                if c["value"] is None:
                    continue
                if not 1 <= col <= MAX_COLUMN:
                    raise WorkbookError(f"a cell in column {col}, beyond Excel's last column",
                                        number)
                if col > READ_COLUMNS:
                    beyond = beyond or col
                    continue
                while len(row) < col:
                    row.append(None)
                row[col - 1] = _cell_text(c["value"], c["data_type"],
                                          lambda: percent(c["style_id"]))
            if beyond is not None:
                row.extend([None] * (READ_COLUMNS - len(row)))
                row.append(CellProblem("a value far beyond the last named column", beyond))
            present = any(c is not None for c in row)
            if present and dims is not None and str(dims.get("hidden", "")).lower() in ("1", "true"):
                raise WorkbookError(
                    f"row {number} is hidden and holds data: unhide every row (select all, "
                    "right-click a row number > Unhide; clear any filter) and check them, or "
                    "delete the rows that must not be imported", number)
            if present and hidden_columns:
                for i, cell in enumerate(row, start=1):
                    if cell is not None and any(a <= i <= b for a, b in hidden_columns):
                        raise WorkbookError(
                            f"column {_letter(i)} is hidden and holds data (row {number}): "
                            "unhide every column and check it, or delete it", number)
            marks.apply(number, row)
            yield number, row


def _row_number_error(number: int, last: int) -> WorkbookError:
    if number > MAX_ROW:
        return WorkbookError(f"row number {number:,} is beyond Excel's last row ({MAX_ROW:,}): "
                             f"the file is damaged; {SAVE_AGAIN}", last + 1)
    return WorkbookError(f"row {number} comes after row {last}: the rows are out of order, "
                         f"which no spreadsheet program writes; {SAVE_AGAIN}", last)


def _hidden_columns(dimensions: dict[str, dict]) -> list[tuple[int, int]]:
    hidden = []
    for attrs in dimensions.values():
        if str(attrs.get("hidden", "")).lower() in ("1", "true"):
            try:
                hidden.append((int(attrs["min"]), int(attrs.get("max", attrs["min"]))))
            except (KeyError, ValueError):
                continue
    return hidden


class _MergeMarks:
    """Marks the cells of merged ranges row by row: the top-left cell (or the first cell of the
    range on a row that exists) says so, the others are invalid without a word.

    Only the first READ_COLUMNS columns are marked: cells further right are never read.  The
    columns covered on a row are recomputed only when a range starts or ends, so a row costs
    at most READ_COLUMNS steps however many ranges cover it.
    """

    def __init__(self, merges: list[tuple[int, int, int, int]]) -> None:
        self.pending = sorted(merges)  # by first row
        self.active: list[tuple[int, int, int, int]] = []
        self.reported: set[tuple[int, int, int, int]] = set()
        self.covered: list[tuple[int, tuple[int, int, int, int]]] = []  # (column, range)

    def apply(self, number: int, row: list[Cell]) -> None:
        if not self.pending and not self.active:
            return
        changed = False
        while self.pending and self.pending[0][0] <= number:
            self.active.append(self.pending.pop(0))
            changed = True
        if any(rng[2] < number for rng in self.active):
            self.active = [rng for rng in self.active if rng[2] >= number]
            changed = True
        if changed:
            first: dict[int, tuple[int, int, int, int]] = {}
            for rng in self.active:
                for col in range(rng[1], min(rng[3], READ_COLUMNS) + 1):
                    first.setdefault(col, rng)
            self.covered = sorted(first.items())
        for rng in self.active:
            if rng not in self.reported and rng[1] > READ_COLUMNS:
                # Only its top-left cell is marked, far right, where it is reported.
                self.reported.add(rng)
                row.extend([None] * (READ_COLUMNS - len(row)))
                row.append(CellProblem(self._message(rng), rng[1]))
        if not self.covered:
            return
        row.extend([None] * (self.covered[-1][0] - len(row)))
        for col, rng in self.covered:
            message = ""
            if rng not in self.reported:
                self.reported.add(rng)
                message = self._message(rng)
            row[col - 1] = CellProblem(message)

    @staticmethod
    def _message(rng: tuple[int, int, int, int]) -> str:
        r1, c1, r2, c2 = rng
        return f"merged cells {_letter(c1)}{r1}:{_letter(c2)}{r2}: unmerge them and fill every cell"


def _letter(col: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(col)


__all__ = ["CellProblem", "DateText", "NumberText", "WorkbookError", "iter_xlsx_rows"]
