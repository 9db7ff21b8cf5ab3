"""The parts of an XLSX workbook, checked before openpyxl reads any of them.

A workbook is a zip of XML parts that may claim anything.  `check_archive` streams every part
once and refuses, with a `WorkbookError` naming the part (and the row, for a row), sizes and
compression ratios no spreadsheet has, DOCTYPE and entity declarations (Excel never writes
them; they are how "billion laughs" works), XML other than UTF-8, a text run or a row larger
than Excel could have written, more rows than Excel has, and more XML elements than is safe in
any part that openpyxl loads whole (every part but the worksheets, which it streams).  A part
may be large only if the manifest and the relationships make it a worksheet and nothing else.
Every check runs while streaming, so memory stays bounded whatever the file claims.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from pathlib import Path

# Excel's own limits: a sheet has at most this many rows and columns.
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384
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


class WorkbookError(Exception):
    """The workbook cannot be read (not XLSX, several sheets, no such sheet, a damaged or
    hostile part) from `row` on."""

    def __init__(self, message: str, row: int = 1) -> None:
        super().__init__(message)
        self.row = row


_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Za-z]+[0-9]+)(?::([A-Za-z]+[0-9]+))?\"")
_STRUCTURE = re.compile(rb"<(/?)(?:[A-Za-z_][\w.-]*:)?(row|sheetData)[\s/>]")
_DECLARATION = re.compile(rb"<!(?:DOCTYPE|ENTITY)")
_ENCODING = re.compile(rb"""^<\?xml[^>]*?\sencoding\s*=\s*["']([^"']*)["']""")
_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_ROW_NUMBER = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row\b[^>]*?\sr=\"([0-9]{1,15})\"")
_TAG = 256  # bytes in which a row's tag shows its number
_OVERLAP = 512  # bytes kept from the previous chunk so that a pattern cut in two is found
SAVE_AGAIN = "open it in Excel and save it again, or save the sheet as CSV UTF-8 and import that"


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
                                    f"damaged; {SAVE_AGAIN}") from None
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
                                       f"XML: {SAVE_AGAIN}", number)
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
                                   f"(formats, validations, links): {SAVE_AGAIN}")
                if len(merges) <= MAX_MERGES:
                    for m in _MERGE.finditer(data):
                        merges.add(_range(m.group(1), m.group(2) or m.group(1)))
            tail = data[-_OVERLAP:]
            offset += len(chunk)
    if row_start is not None and offset - row_start > MAX_ROW_XML:
        raise _Refused(f"row {number} holds more than {MAX_ROW_XML:,} bytes of XML: "
                       f"{SAVE_AGAIN}", number)
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



__all__ = ["MAX_COLUMN", "MAX_MERGES", "MAX_ROW", "SAVE_AGAIN", "WorkbookError", "check_archive"]
