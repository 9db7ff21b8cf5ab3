"""Read the files people have: long-form submissions and unit lists, CSV or XLSX.

No methodology knowledge here: the reader checks the *shape* of a file (header, encoding,
separators, text hygiene) and hands back rows of raw, trimmed, NFC-normalised strings.  Whether
a unit exists, an indicator belongs to the edition or a value is in range is decided by the
application, which can add its own `InputError`s to the same reader before raising.

Submission files: columns `year, unit_id, indicator, value` and optionally `evidence, note`,
or their Vietnamese names from `ictindex template` (`Năm`, `Mã đơn vị`, `Mã chỉ số`, `Giá trị`,
`Minh chứng`, `Ghi chú`); the template's informational columns (`Tên đơn vị`, `Tên chỉ số`,
`Đơn vị tính`, `Giá trị cho phép`) are read past.
Unit files: `unit_id, tier, name, parent_id` and optionally `from_year`.  A header row is
required; names are matched trimmed and case-insensitively; a missing, unknown or repeated
column is an error.

Separators and decimal commas are never guessed: `delimiter` is `","` (default), `";"` or
`"\\t"`, and `decimal_comma=True` reads `84,03` as 84.03 in the value column.  A header that is
visibly separated by `;` while the delimiter is `,` is refused with a message naming the
options to use.

Errors are collected, not raised one by one: iterate the reader to get the valid rows, then
look at `reader.errors` (or call `reader.raise_for_errors()`, which raises one `InputErrors`
carrying them all, one `FILE:ROW:COLUMN: message` per line).  Rows are numbered as a spreadsheet
shows them: the header is row 1.  CSV is streamed line by line and XLSX through openpyxl's
read-only mode, so a 200 MB file is read in bounded memory; iterating again re-reads the file.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Generic, Iterator, TypeVar

from .csvfile import CsvFileError, iter_csv_rows
from .tables import (
    SUBMISSIONS,
    UNITS,
    InputError,
    InputErrors,
    SubmissionRow,
    TableSpec,
    UnitRow,
)
from .xlsx import CellProblem, DateText, NumberText, WorkbookError, iter_xlsx_rows

MAX_FIELD_LENGTH = 2000
DELIMITERS = {",": "','", ";": "';'", "\t": "'\\t'"}
WHOLE_ROW = "*"  # the column of an error about a whole row or file

MAX_ERRORS = 1000  # a file with more problems is not read further (memory stays bounded)

_BAD_CHARS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]")
# Characters that make text look other than it is, so that two ids that look identical are
# different: every format character (Unicode category Cf: soft hyphen, zero-width spaces and
# joiners, direction marks, bidirectional embeddings/overrides/isolates ("Trojan Source"), the
# Arabic letter mark, tag characters...) and every other default-ignorable code point, which
# renders as nothing (Hangul fillers, variation selectors, the combining grapheme joiner,
# Mongolian and Khmer invisible signs).  Combining accents (Vietnamese) are not among them.
# tests/events/test_input_files.py checks the class against the Unicode database.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160"
    "\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164"
    "\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)

_COMMA_NUMBER = re.compile(r"[+-]?[0-9]+,[0-9]+")
_DOT_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)+(,[0-9]+)?")
_GROUPED_LIKE = re.compile(r"[+-]?[0-9]{1,3}(,[0-9]{3})+")
_YEAR = re.compile(r"[0-9]{4}")

R = TypeVar("R", SubmissionRow, UnitRow)


def text_problem(text: str, max_length: int = MAX_FIELD_LENGTH) -> str | None:
    """Why a trimmed, NFC text field cannot be recorded, or None.

    The same hygiene applies to files and to free text typed on the command line (evidence,
    note, reason, authority).  Text that a spreadsheet would read as a formula (`=...`,
    `@...`, `+...`, `-...`) is not refused here: it is recorded as typed and every export
    neutralises it (see docs/reliability.md, "Spreadsheet formulas in text").
    """
    bad = _BAD_CHARS.search(text)
    if bad:
        return (f"control character U+{ord(bad.group()):04X} in the text "
                "(line breaks and tabs are not allowed inside a field)")
    bad = _INVISIBLE.search(text)
    if bad:
        name = unicodedata.name(bad.group(), "")
        return (f"invisible formatting character U+{ord(bad.group()):04X}"
                f"{f' ({name})' if name else ''} in the text "
                "(it makes the text look other than it is): delete it")
    if len(text) > max_length:
        return f"{len(text)} characters, more than the {max_length} allowed"
    return None


class _Stop(Exception):
    """A problem after which the rest of the file cannot be read meaningfully."""

    def __init__(self, error: InputError) -> None:
        self.error = error


class TableReader(Generic[R]):
    """Iterate to get the valid rows of a file; the problems accumulate in `errors`."""

    def __init__(
        self,
        path: str | Path,
        spec: TableSpec,
        *,
        delimiter: str = ",",
        decimal_comma: bool = False,
        sheet: str | None = None,
        max_field_length: int = MAX_FIELD_LENGTH,
        max_errors: int = MAX_ERRORS,
    ) -> None:
        if delimiter not in DELIMITERS:
            raise ValueError(f"delimiter must be ',', ';' or a tab, not {delimiter!r}")
        self.path = Path(path)
        self.file = str(path)
        self.spec = spec
        self.delimiter = delimiter
        self.decimal_comma = decimal_comma
        self.sheet = sheet
        self.max_field_length = max_field_length
        self.max_errors = max_errors
        self.errors: list[InputError] = []
        self.rows_read = 0

    # -- errors ----------------------------------------------------------------------------

    def error(self, row: int, column: str, message: str) -> None:
        """Record a problem (the application adds its own, e.g. an unknown unit)."""
        self.errors.append(InputError(self.file, row, column, message))

    def too_many_errors(self, row: int) -> InputError:
        """The last error of a file with too many: reading stopped at `row`."""
        return InputError(self.file, row, WHOLE_ROW,
                          f"too many errors: stopped reading at row {row} "
                          "(fix these and import the file again)")

    def raise_for_errors(self) -> None:
        """Raise `InputErrors` with every problem recorded, if there is any."""
        if self.errors:
            raise InputErrors(self.errors)

    def read_all(self) -> list[R]:
        """Every row, or `InputErrors` with every problem in the file."""
        rows = list(self)
        self.raise_for_errors()
        return rows

    # -- reading ---------------------------------------------------------------------------

    def __iter__(self) -> Iterator[R]:
        self.errors = []
        self.rows_read = 0
        suffix = self.path.suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            source = self._xlsx_rows()
        elif suffix in (".csv", ".tsv", ".txt"):
            if self.sheet is not None:
                self.error(1, WHOLE_ROW, "--sheet applies to XLSX workbooks, not to CSV files")
                return
            source = self._csv_rows()
        else:
            self.error(1, WHOLE_ROW, f"unknown file type {suffix or '(none)'}: use .csv or .xlsx")
            return
        try:
            yield from self._rows(source)
        except _Stop as stop:
            self.errors.append(stop.error)
        except OSError as exc:
            self.error(1, WHOLE_ROW, f"cannot read the file: {exc.strerror or exc}")

    def _xlsx_rows(self) -> Iterator[tuple[int, list]]:
        try:
            yield from iter_xlsx_rows(self.path, self.sheet)
        except WorkbookError as exc:
            raise _Stop(InputError(self.file, exc.row, WHOLE_ROW, str(exc))) from None

    def _csv_rows(self) -> Iterator[tuple[int, list]]:
        try:
            yield from iter_csv_rows(self.path, self.delimiter)
        except CsvFileError as exc:
            raise _Stop(InputError(self.file, exc.row, WHOLE_ROW, exc.message)) from None

    def _rows(self, source: Iterator[tuple[int, list]]) -> Iterator[R]:
        spec = self.spec
        header: list[tuple[int, str]] | None = None  # (position, column name)
        for number, cells in source:
            if header is None:
                if not any(_present(c) for c in cells):
                    continue  # blank lines before the header
                header = self._header(number, cells)
                if header is None:
                    return
                plan = _Plan(spec, header)
                continue
            if all(type(c) is str for c in cells):
                if not "".join(cells).strip():
                    continue  # blank row
                row = self._row(number, cells, plan)
            elif not any(_present(c) for c in cells):
                continue
            else:
                row = self._row_by_field(number, cells, plan)
            if row is not None:
                self.rows_read += 1
                yield row
            elif len(self.errors) >= self.max_errors:
                raise _Stop(self.too_many_errors(number))
        if header is None:
            self.error(
                1,
                WHOLE_ROW,
                f"the file is empty: expected a header row with the columns "
                f"{', '.join(spec.required)} (optional: {', '.join(spec.optional)})",
            )

    def _header(self, number: int, cells: list) -> list[tuple[int, str]] | None:
        spec = self.spec
        names: list[tuple[int, str]] = []
        ok = True
        # Trailing unnamed columns are tolerated (spreadsheets keep formatted empty cells);
        # data in them is reported row by row.
        far = [c for c in cells if isinstance(c, CellProblem) and c.column]
        for cell in far[:1]:  # a cell far right, never read: its column has no name either
            self.error(number, f"column {cell.column}", cell.message)
            ok = False
        last = max((i for i, c in enumerate(cells) if _present(c) and c not in far), default=-1)
        for i, cell in enumerate(cells[: last + 1]):
            if isinstance(cell, CellProblem):
                if cell.message:
                    self.error(number, f"column {i + 1}", cell.message)
                ok = False
                continue
            name = unicodedata.normalize("NFC", (cell or "").strip()).lower()
            names.append((i, spec.aliases.get(name, name)))
        refusal = self._separator_refusal([n for _, n in names])
        if refusal:
            self.error(number, WHOLE_ROW, refusal)
            return None
        seen: dict[str, int] = {}
        informational: list[tuple[int, str]] = []
        for i, name in names:
            if len(self.errors) >= self.max_errors:
                self.errors.append(self.too_many_errors(number))
                return None
            if not name:
                self.error(number, f"column {i + 1}", "the column has no name")
                ok = False
            elif name in spec.informational:
                informational.append((i, name))
            elif name not in spec.columns:
                self.error(
                    number,
                    name,
                    f"unknown column {name!r} in a {spec.kind} file "
                    f"(expected: {', '.join(spec.columns)})",
                )
                ok = False
            elif name in seen:
                self.error(number, name, f"column {name!r} appears twice")
                ok = False
            else:
                seen[name] = i
        for name in spec.required:
            if name not in seen:
                self.error(number, name, f"missing column {name!r}")
                ok = False
        return [(i, n) for n, i in seen.items()] + informational if ok else None

    def _separator_refusal(self, names: list[str]) -> str | None:
        if self.delimiter == "," and any(";" in n for n in names):
            return (
                "the header is separated by ';' but the delimiter is ',': "
                "use --delimiter ';' (and --decimal-comma if values use commas, like 84,03)"
            )
        if len(names) == 1:
            for other, shown in DELIMITERS.items():
                if other != self.delimiter and other in names[0]:
                    return (
                        f"the header is separated by {shown} but the delimiter is "
                        f"{DELIMITERS[self.delimiter]}: use --delimiter {shown}"
                    )
        return None

    def _row(self, number: int, cells: list[str], plan: "_Plan") -> R | None:
        """The row, or None after recording its errors.

        The fast path for rows of plain text (every CSV row, most XLSX rows): the fields are
        trimmed, checked to be printable, joined with NUL (which no printable field contains)
        and normalised to NFC in one call, then split back.  Anything unusual takes the
        field-by-field path, which says exactly what is wrong where.
        """
        n = len(cells)
        if n > plan.width:
            return self._row_by_field(number, cells, plan)
        texts = [cells[i].strip() if i < n else "" for i in plan.positions]
        # isprintable is False for every control character, line separator and BOM (and for
        # a few harmless characters such as NBSP, which the slow path then accepts).
        if not all(map(str.isprintable, texts)):
            return self._row_by_field(number, cells, plan)
        joined = "\x00".join(texts)
        if not joined.isascii():
            joined = unicodedata.normalize("NFC", joined)
            if _INVISIBLE.search(joined):  # printable but invisible (a Hangul filler...)
                return self._row_by_field(number, cells, plan)
            texts = joined.split("\x00")
        if len(joined) > self.max_field_length and max(map(len, texts)) > self.max_field_length:
            return self._row_by_field(number, cells, plan)
        for j in plan.non_empty:
            if not texts[j]:
                return self._row_by_field(number, cells, plan)
        for j in plan.years:
            if texts[j] and not _YEAR.fullmatch(texts[j]):
                return self._row_by_field(number, cells, plan)
        j = plan.value
        if j is not None and texts[j]:
            value = self._value_text(number, texts[j])
            if value is None:
                return None
            texts[j] = value
        texts.append("")  # what absent optional columns read
        return plan.row_type(self.file, number, *[texts[j] for j in plan.order])

    def _row_by_field(self, number: int, cells: list, plan: "_Plan") -> R | None:
        spec = self.spec
        header, width = plan.header, plan.width
        before = len(self.errors)
        invalid = False
        # A silent problem (a cell covered by a merge reported at its top-left) is no value.
        beyond = [i for i in range(width, len(cells))
                  if _present(cells[i]) and not _silent(cells[i])]
        if beyond:  # one error per row, however many cells (a row may hold thousands)
            more = f" (and {len(beyond) - 1} more after it)" if len(beyond) > 1 else ""
            first = cells[beyond[0]]
            if isinstance(first, CellProblem) and first.column:  # a cell never read, far right
                self.error(number, f"column {first.column}", first.message)
            else:
                self.error(number, f"column {beyond[0] + 1}",
                           f"a value beyond the last named column{more}")
        values: dict[str, str] = {}
        limit = self.max_field_length
        for i, name in header:
            cell = cells[i] if i < len(cells) else None
            if isinstance(cell, CellProblem):
                if cell.message:
                    self.error(number, name, cell.message)
                invalid = True
                continue
            numeric = isinstance(cell, NumberText)
            if name == "value" and isinstance(cell, DateText):
                self.error(number, name, f"{cell.strip()!r} is not a number: the cell holds a "
                           "date (Excel turns some typed values, such as 1/5, into dates); "
                           "format the cell as Number and type the value again")
                continue
            text = (cell or "").strip()
            if not text.isascii():
                text = unicodedata.normalize("NFC", text)
            problem = text_problem(text, limit)
            if problem:
                self.error(number, name, problem)
                continue
            if not text and name in spec.non_empty:
                self.error(number, name, "empty")
                continue
            if text and name in spec.years and not _YEAR.fullmatch(text):
                self.error(number, name, f"{text!r} is not a year (four digits)")
                continue
            if name == "value" and not numeric and text:
                text = self._value_text(number, text)
                if text is None:
                    continue
            values[name] = text
        if invalid or len(self.errors) != before:
            return None
        return spec.row_type(file=self.file, row=number, **values)

    def _value_text(self, number: int, text: str) -> str | None:
        if self.decimal_comma:
            if _COMMA_NUMBER.fullmatch(text):
                return text.replace(",", ".")
            if _DOT_NUMBER.fullmatch(text):
                self.error(
                    number,
                    "value",
                    f"{text!r} has a '.' but --decimal-comma is set: write decimals with a "
                    "comma and no thousands separators",
                )
                return None
        elif _GROUPED_LIKE.fullmatch(text):
            self.error(
                number,
                "value",
                f"{text!r} has a comma: if it separates thousands, write the digits together "
                f"({text.replace(',', '')}); if it is a decimal comma, use --decimal-comma",
            )
            return None
        elif _COMMA_NUMBER.fullmatch(text):
            self.error(
                number,
                "value",
                f"{text!r} has a decimal comma: use --decimal-comma (and --delimiter ';' if "
                "the file is separated by ';'), or write it with a point",
            )
            return None
        return text


class _Plan:
    """Where each column of the row struct is in the file, computed once from the header."""

    def __init__(self, spec: TableSpec, header: list[tuple[int, str]]) -> None:
        # Informational columns count for the width (their cells are no stray values) and
        # are read no further.
        self.width = max(i for i, _ in header) + 1
        header = [(i, name) for i, name in header if name not in spec.informational]
        self.header = header
        self.row_type = spec.row_type
        self.positions = [i for i, _ in header]  # file positions, in header order
        at = {name: j for j, (_, name) in enumerate(header)}  # name -> index in `positions`
        absent = len(header)  # index of the "" appended for absent optional columns
        self.order = [at.get(name, absent) for name in spec.columns]
        self.non_empty = [at[name] for name in spec.non_empty]
        self.years = [at[name] for name in spec.years if name in at]
        self.value = at.get("value")


def _silent(cell: object) -> bool:
    return isinstance(cell, CellProblem) and not cell.message


def _present(cell: object) -> bool:
    if cell is None:
        return False
    if isinstance(cell, CellProblem):
        return True
    return bool(cell.strip())  # type: ignore[attr-defined]


def read_submissions(
    path: str | Path,
    *,
    delimiter: str = ",",
    decimal_comma: bool = False,
    sheet: str | None = None,
    max_field_length: int = MAX_FIELD_LENGTH,
) -> TableReader[SubmissionRow]:
    """A reader of a long-form submission file (CSV or XLSX, by extension)."""
    return TableReader(
        path,
        SUBMISSIONS,
        delimiter=delimiter,
        decimal_comma=decimal_comma,
        sheet=sheet,
        max_field_length=max_field_length,
    )


def read_units(
    path: str | Path,
    *,
    delimiter: str = ",",
    sheet: str | None = None,
    max_field_length: int = MAX_FIELD_LENGTH,
) -> TableReader[UnitRow]:
    """A reader of a unit file (CSV or XLSX, by extension)."""
    return TableReader(
        path, UNITS, delimiter=delimiter, sheet=sheet, max_field_length=max_field_length
    )


__all__ = [
    "MAX_FIELD_LENGTH",
    "InputError",
    "InputErrors",
    "SubmissionRow",
    "TableReader",
    "TableSpec",
    "UnitRow",
    "read_submissions",
    "read_units",
    "text_problem",
]
