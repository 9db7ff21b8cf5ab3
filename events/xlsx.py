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

A workbook is a zip of XML parts that may claim anything, so before openpyxl opens it the
archive is checked (`check_archive`): sizes and compression ratios of the parts, no DOCTYPE or
entity declarations (Excel never writes them; they are how "billion laughs" works), UTF-8 only,
no text run or row larger than Excel could have written, at most as many rows as Excel has, a
bounded number of XML elements in every part that openpyxl loads whole.  Every limit is checked
while streaming, so memory stays bounded whatever the file claims.  Whatever openpyxl or the XML
parser still rejects is a `WorkbookError` naming the row being read.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator
from xml.etree.ElementTree import ParseError

# openpyxl is imported inside the functions: it takes a quarter of a second to import, and
# most commands never read a workbook.

# Excel's own limits: a sheet has at most this many rows and columns.
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384
# Cells further right than this are reported (as one problem per row), never read: a table of
# submissions or units has at most seven columns.
READ_COLUMNS = 64
MAX_MERGES = 100  # merged ranges on the sheet read; every one is an error anyway
MAX_MEMBERS = 10_000  # parts in the archive (Excel writes a few dozen)
MAX_PART = 16 << 20  # uncompressed bytes of any part but a worksheet
MAX_SHEET = 512 << 20  # uncompressed bytes of a worksheet (streamed, never held whole)
MAX_RATIO = 100  # uncompressed / compressed size of a part over 1 MiB (a "zip bomb")
MAX_TEXT = 1 << 20  # bytes between two '<': one text or tag (Excel's cell limit is 32,767 characters)
MAX_ROW_XML = 1 << 20  # bytes of one row's XML (openpyxl builds one row's elements at a time)
MAX_ELEMENTS = 1_000_000  # '<' in a part that openpyxl loads whole (~40 MiB of elements)
MAX_OUTSIDE = 100_000  # '<' in a worksheet before and after its cells (held whole)

_CHUNK = 1 << 20  # == MAX_TEXT: a text run longer than that spans a whole chunk without '<'


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


class WorkbookError(Exception):
    """The workbook cannot be read (not XLSX, several sheets, no such sheet, a damaged or
    hostile part) from `row` on."""

    def __init__(self, message: str, row: int = 1) -> None:
        super().__init__(message)
        self.row = row


Cell = str | NumberText | DateText | CellProblem | None

_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]+[0-9]+)(?::([A-Za-z]+[0-9]+))?\"")
_STRUCTURE = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|sheetData)[\s/>]")
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']""")
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_ROW_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr=\"([0-9]{1,15})\"")
_TAG = 256  # bytes in which a row's tag shows its number
_OVERLAP = 512  # bytes kept from the previous chunk so that a pattern cut in two is found
_SAVE_AGAIN = "open it in Excel and save it again, or save the sheet as CSV UTF-8 and import that"


class _Refused(Exception):
    """A check of `check_archive` failed (becomes a WorkbookError) at `row`."""

    def __init__(self, message: str, row: int = 1) -> None:
        super().__init__(message)
        self.row = row


def check_archive(path: str | Path) -> dict[str, list[tuple[int, int, int, int]]]:
    """Check the archive as described in the module docstring; the merged ranges of every
    worksheet part, (min_row, min_col, max_row, max_col), at most MAX_MERGES + 1 each.

    Raises `WorkbookError` for the first problem found.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise WorkbookError(f"not a readable XLSX workbook: {exc}") from None
    merges: dict[str, list[tuple[int, int, int, int]]] = {}
    big: dict[str, str] = {}  # parts openpyxl must not load whole -> why
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise WorkbookError(f"not a spreadsheet: the archive has {len(infos):,} parts")
        for info in infos:
            name = info.filename
            if info.file_size > MAX_SHEET:
                raise WorkbookError(
                    f"part {name} would unpack to {info.file_size:,} bytes, more than the "
                    f"{MAX_SHEET:,} a workbook of submissions needs: save the sheet as CSV "
                    "UTF-8 and import that")
            if info.file_size > 1 << 20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise WorkbookError(
                    f"part {name} is compressed {info.file_size // max(info.compress_size, 1):,} "
                    f"times (a spreadsheet is at most ~{MAX_RATIO}): this is not a workbook "
                    "saved by a spreadsheet program")
            try:
                found, elements, root = _scan_xml(archive, info)
            except _Refused as exc:
                raise WorkbookError(f"part {name}: {exc}", min(max(exc.row, 1), MAX_ROW)) from None
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
                raise WorkbookError(f"part {name} cannot be unpacked ({exc}): the file is "
                                    f"damaged; {_SAVE_AGAIN}") from None
            if root == b"worksheet":
                merges[name] = found
            if info.file_size > MAX_PART:
                big[name] = f"would unpack to {info.file_size:,} bytes (more than {MAX_PART:,})"
            elif elements > MAX_ELEMENTS:
                big[name] = f"holds more than {MAX_ELEMENTS:,} XML elements"
            if name in big and root != b"worksheet":
                raise _too_big(name, big[name])
        # Only a worksheet is streamed; every other part is loaded whole, so a large part must
        # be named a worksheet, and nothing else, by the content types and the relationships.
        streamed = _streamed_worksheets(archive) if big else set()
        for name, why in big.items():
            if name not in streamed:
                raise _too_big(name, why)
    return merges


def _too_big(name: str, why: str) -> WorkbookError:
    return WorkbookError(f"part {name} {why}, more than a part other than a worksheet may hold "
                         "(it is read whole): save the sheet as CSV UTF-8 and import that")


_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
# Parts openpyxl reads whole by their fixed names, whatever the manifest says.
_READ_WHOLE = {"[Content_Types].xml", "xl/styles.xml", "docProps/core.xml", "docProps/custom.xml",
               "xl/theme/theme1.xml", "xl/workbook.xml"}


def _streamed_worksheets(archive: zipfile.ZipFile) -> set[str]:
    """The parts that the relationships name only as worksheets and the content types declare
    only as worksheets (the relationship parts and the manifest are small: checked above)."""
    from xml.etree.ElementTree import fromstring

    def local(tag: str) -> str:
        return tag.rsplit("}", 1)[-1]

    names = set(archive.namelist())
    types: dict[str, set[str]] = {}
    if "[Content_Types].xml" in names:
        for node in fromstring(archive.read("[Content_Types].xml")):
            if local(node.tag) == "Override":
                part = node.get("PartName", "").lstrip("/")
                types.setdefault(part, set()).add(node.get("ContentType", ""))
    sheets: set[str] = set()
    others: set[str] = set(_READ_WHOLE)
    for rels in (n for n in names if n.endswith(".rels")):
        folder = posixpath.dirname(posixpath.dirname(rels))  # a/b/_rels/c.rels -> a/b
        for node in fromstring(archive.read(rels)):
            target = node.get("Target", "")
            if node.get("TargetMode") == "External" or not target:
                continue
            part = posixpath.normpath(target.lstrip("/") if target.startswith("/")
                                      else posixpath.join(folder, target))
            (sheets if node.get("Type", "").endswith("/worksheet") else others).add(part)
    return {p for p in sheets - others if types.get(p) == {_WORKSHEET_TYPE}}


def _scan_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo
              ) -> tuple[list[tuple[int, int, int, int]], int, bytes | None]:
    """One streaming pass over a part (reading stops at the declared size: zipfile checks the
    CRC of exactly that many bytes): its merged ranges, how many '<' it holds, and the name of
    its root element (None: not XML, such as a picture, which no XML parser reads far)."""
    merges: set[tuple[int, int, int, int]] = set()
    tail = b""
    offset = 0  # bytes of the part before the current chunk
    run = 0  # bytes since the last '<'
    tags = 0  # '<' outside the cells (a worksheet)
    elements = 0  # '<' in all
    root: bytes | None = None
    sheet = False
    rows = 0  # rows seen
    number = 0  # the number of the current row, as openpyxl counts it
    data_start: int | None = None  # where <sheetData> opens
    data_end: int | None = None  # and where it closes
    row_start = None  # where the current row began
    seen = -1  # the last structural tag handled (chunks overlap)
    with archive.open(info) as f:
        ahead = f.read(_CHUNK)
        while ahead:
            chunk, ahead = ahead, f.read(_CHUNK)
            if offset == 0:
                root = _root(chunk)
                if root is None:
                    return [], 0, None
                sheet = root == b"worksheet"
            first = chunk.find(b"<")
            if first < 0:
                run += len(chunk)
            else:
                run += first
            if run > MAX_TEXT:
                raise _Refused(f"a text of more than {MAX_TEXT:,} bytes (Excel holds at most "
                               "32,767 characters in a cell)")
            if first >= 0:
                run = len(chunk) - 1 - chunk.rfind(b"<")
            data = tail + chunk
            base = offset - len(tail)
            if _DECLARATION.search(data):
                raise _Refused("a DOCTYPE or ENTITY declaration, which Excel never writes "
                               "(it can make an XML parser expand text without end)")
            elements += chunk.count(b"<")
            if sheet:
                for m in _STRUCTURE.finditer(data):
                    if ahead and m.start() > len(data) - _TAG:
                        break  # the tag may be cut: it is read again with the next chunk
                    at = base + m.start()
                    if at <= seen:
                        continue
                    seen = at
                    closing, tag = m.group(1), m.group(2)
                    if tag == b"row" and closing:
                        continue
                    if row_start is not None and at - row_start > MAX_ROW_XML:
                        raise _Refused(f"row {number} holds more than {MAX_ROW_XML:,} bytes of "
                                       f"XML: {_SAVE_AGAIN}", number)
                    if tag == b"row":
                        rows += 1
                        if rows > MAX_ROW:
                            raise _Refused(f"more than {MAX_ROW:,} rows, Excel's limit")
                        found = _ROW_NUMBER.match(data, m.start(), m.start() + _TAG)
                        number = int(found.group(1)) if found else number + 1
                        row_start = at
                    elif closing:
                        data_end, row_start = at, None
                    elif data_start is None:
                        data_start = at
                        if data[m.end() - 1:m.end()] == b"/":
                            data_end = at
                lo, hi = offset, offset + len(chunk)
                if data_start is None or data_start > lo:
                    stop = hi if data_start is None else min(hi, data_start)
                    tags += chunk.count(b"<", 0, stop - lo)
                if data_end is not None and max(lo, data_end) < hi:
                    tags += chunk.count(b"<", max(lo, data_end) - lo)
                if tags > MAX_OUTSIDE:
                    raise _Refused(f"more than {MAX_OUTSIDE:,} XML elements besides the cells "
                                   f"(formats, validations, links): {_SAVE_AGAIN}")
                if len(merges) <= MAX_MERGES:
                    for m in _MERGE.finditer(data):
                        merges.add(_range(m.group(1), m.group(2) or m.group(1)))
            tail = data[-_OVERLAP:]
            offset += len(chunk)
    if row_start is not None and offset - row_start > MAX_ROW_XML:
        raise _Refused(f"row {number} holds more than {MAX_ROW_XML:,} bytes of XML: "
                       f"{_SAVE_AGAIN}", number)
    return sorted(merges), elements, root


def _root(start: bytes) -> bytes | None:
    """The root element's name of an XML part in UTF-8 (what Excel writes: the checks on bytes
    above hold for it); None for a part that is not XML at all."""
    if start[:2] in (b"\xff\xfe", b"\xfe\xff") or start[:2] in (b"<\x00", b"\x00<") \
            or start[:4] == b"\x00\x00\xfe\xff":
        raise _Refused("not UTF-8 XML (Excel writes UTF-8)")
    text = start.removeprefix(b"\xef\xbb\xbf")
    if not text.startswith(b"<"):
        return None
    m = _ENCODING.match(text)
    if m and m.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        raise _Refused(f"XML in the encoding {m.group(1).decode('ascii', 'replace')!r} "
                       "(Excel writes UTF-8)")
    m = _ROOT.search(text)
    return m.group(1) if m else b""


def _range(a: bytes, b: bytes) -> tuple[int, int, int, int]:
    r1, c1 = _coordinate(a)
    r2, c2 = _coordinate(b)
    return (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))


_A1 = re.compile(rb"([A-Za-z]{1,3})([0-9]{1,7})")


def _coordinate(ref: bytes) -> tuple[int, int]:
    m = _A1.fullmatch(ref)
    if not m:
        raise _Refused(f"the cell reference {ref.decode('ascii', 'replace')!r} is beyond "
                       "Excel's last row or column")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ch - 64
    row = int(m.group(2))
    if not (1 <= row <= MAX_ROW and 1 <= col <= MAX_COLUMN):
        raise _Refused(f"the cell reference {ref.decode()!r} is beyond Excel's last row or column")
    return row, col


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
                               f"damaged; {_SAVE_AGAIN}")
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
                            f"{len(self.strings):,}: the file is damaged; {_SAVE_AGAIN}")
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
                            f"{_SAVE_AGAIN}") from None
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
                                    f"{exc}): the file is damaged; {_SAVE_AGAIN}",
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
                             f"the file is damaged; {_SAVE_AGAIN}", last + 1)
    return WorkbookError(f"row {number} comes after row {last}: the rows are out of order, "
                         f"which no spreadsheet program writes; {_SAVE_AGAIN}", last)


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


__all__ = ["CellProblem", "DateText", "NumberText", "WorkbookError", "check_archive",
           "iter_xlsx_rows"]
