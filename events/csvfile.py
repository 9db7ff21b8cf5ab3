"""Records of a CSV file, streamed: strict UTF-8 (BOM allowed), one delimiter, no guessing.

Yields `(row_number, fields)` with rows numbered as a spreadsheet shows them (the first record
is row 1, a quoted field spanning lines is still one row, a blank line is a row).  Raises
`CsvFileError` with the row at fault for text that is not UTF-8 (naming the byte offset) or is
not well-formed CSV (an unterminated quote, a stray quote inside a field...).
"""

from __future__ import annotations

import codecs
import csv
import functools
from pathlib import Path
from typing import Iterator


class CsvFileError(Exception):
    """The file cannot be read on from `row` on."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(f"row {row}: {message}")
        self.row = row
        self.message = message


def iter_csv_rows(path: str | Path, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """The records of the file, as described in the module docstring.

    The hot path is the C csv reader over a strict UTF-8 text stream.  Text streams decode
    ahead in chunks, so when decoding fails the file is scanned again, as bytes, to name the
    exact byte offset and the row that holds it.
    """
    record = 0
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for fields in csv.reader(_bounded_lines(f), delimiter=delimiter, strict=True):
                record += 1
                yield record, fields
    except _LineTooLong:
        raise CsvFileError(
            record + 1,
            f"a line longer than {MAX_LINE:,} characters: this is not a table of submissions "
            "(is it the right file, saved as CSV?)",
        ) from None
    except UnicodeDecodeError:
        offset, row = first_undecodable(path, delimiter)
        raise CsvFileError(
            row,
            f"the file is not UTF-8 (undecodable byte at offset {offset}): save it as UTF-8 "
            "(in Excel: 'CSV UTF-8')",
        ) from None
    except csv.Error as exc:
        raise CsvFileError(record + 1, f"malformed CSV: {exc}") from None


MAX_LINE = 1 << 20  # characters in one physical line; longer lines are refused unread


class _LineTooLong(Exception):
    pass


def _bounded_lines(f) -> Iterator[str]:
    """The lines of `f`, each read with a length limit, so that a file without line breaks
    (a broken export, binary junk that happens to decode) is refused in bounded memory
    instead of being read whole by `readline`."""
    for line in iter(functools.partial(f.readline, MAX_LINE), ""):
        if len(line) == MAX_LINE and line[-1] not in "\r\n":
            raise _LineTooLong
        yield line


class _Found(Exception):
    pass


def first_undecodable(path: str | Path, delimiter: str) -> tuple[int, int]:
    """(byte offset, spreadsheet row) of the first byte that is not UTF-8, streaming.

    Lines are decoded one at a time (a newline byte never occurs inside a UTF-8 sequence) and
    fed to a csv reader that counts records, so quoted fields spanning lines count as one row.
    """
    found: list[int] = []

    def lines(f) -> Iterator[str]:
        # Physical lines read with a length limit (a file may have no line break at all); an
        # incremental decoder joins a UTF-8 sequence cut at the limit.  The main reader refuses
        # lines over MAX_LINE characters, so a cut never falls before the byte looked for.
        decoder = codecs.getincrementaldecoder("utf-8")()
        offset = pending = 0  # bytes read so far; of those, bytes the decoder still holds
        for raw in iter(functools.partial(f.readline, 4 * MAX_LINE), b""):
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as exc:  # exc.start counts from the held bytes
                found.append(offset - pending + exc.start)
                raise _Found from None
            offset += len(raw)
            pending = len(decoder.getstate()[0])
            if text:
                yield text
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:  # a sequence cut by the end of the file
            found.append(offset - pending + exc.start)
            raise _Found from None

    records = 0
    with open(path, "rb") as f:
        try:
            for _ in csv.reader(lines(f), delimiter=delimiter):
                records += 1
        except (_Found, csv.Error):
            pass
    return (found[0] if found else 0), records + 1


__all__ = ["MAX_LINE", "CsvFileError", "first_undecodable", "iter_csv_rows"]
