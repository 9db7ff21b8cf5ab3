"""Issue 14, items 1, 3 and 6: wrong numbers from Excel, look-alike text, hostile workbooks.

Item 1 and 3 cases run through the machinery of test_hostile_inputs.py (the real CLI in-process,
exit status 2, the exact `FILE:ROW:COLUMN: ` prefix, no traceback, the log byte-identical).

Item 6 cases are workbooks written by hand with zipfile (the XML parts a hostile sender would
write, which openpyxl cannot produce), each imported by the real CLI in a subprocess whose
address space is capped with `resource.setrlimit(RLIMIT_AS)` and given a generous timeout: a
blow-up fails the test with MemoryError or a timeout instead of taking the machine down.  Each
asserts exit status 2, exactly one error line with its exact prefix, no traceback, and the log
byte-identical afterwards.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import string
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from hostile_kit import snapshot
from test_hostile_inputs import HEADER, ROOT, Case
from test_hostile_inputs import test_a_bad_input_is_refused_cleanly_and_the_log_is_untouched as refused

CORPUS = Path(__file__).parent / "corpus"  # the earlier cases' files (a baseline import)

# -- item 1: Excel as people use it (openpyxl writes these the way Excel does) -----------------


def _xlsx(rows: list[list], *, tmp: Path, name: str, edit=None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if edit:
        edit(ws)
    path = tmp / name
    wb.save(path)
    return path


def xlsx_percent_for_a_count(tmp: Path) -> Path:
    def percent(ws):
        ws["D2"].number_format = "0%"  # someone typed 95% in a count column
    return _xlsx([HEADER, [2020, "D2", "computers_total", 0.95, "CV 1", None]],
                 tmp=tmp, name="percent-count.xlsx", edit=percent)


def xlsx_percent_ratio_over_one(tmp: Path) -> Path:
    def percent(ws):
        ws["D2"].number_format = "0.00%"
    return _xlsx([HEADER, [2020, "D2", "official_email_ratio", 1.5, "CV 1", None]],
                 tmp=tmp, name="percent-ratio.xlsx", edit=percent)


def xlsx_time_in_value(tmp: Path) -> Path:
    """Excel turned a typed '8:30' into a time."""
    return _xlsx([HEADER, [2020, "D2", "computers_total", dt.time(8, 30), "CV 1", None]],
                 tmp=tmp, name="time.xlsx")


def xlsx_hidden_row(tmp: Path) -> Path:
    def hide(ws):
        ws.row_dimensions[3].hidden = True
    return _xlsx([HEADER, [2020, "D2", "computers_total", 12, "CV 1", None],
                  [2020, "D2", "computers_broadband", 10, "CV 1", None]],
                 tmp=tmp, name="hidden-row.xlsx", edit=hide)


def xlsx_hidden_column(tmp: Path) -> Path:
    def hide(ws):
        ws.column_dimensions["F"].hidden = True  # a note nobody sees
    return _xlsx([HEADER, [2020, "D2", "computers_total", 12, "CV 1", "xem lại"]],
                 tmp=tmp, name="hidden-column.xlsx", edit=hide)


def xlsx_hidden_sheet(tmp: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Nộp"
    wb.active.append(HEADER)
    old = wb.create_sheet("Cũ")
    old.append(HEADER)
    old.append([2020, "D2", "computers_total", 99, "CV cũ", None])
    old.sheet_state = "hidden"
    path = tmp / "hidden-sheet.xlsx"
    wb.save(path)
    return path


def xlsx_far_right(tmp: Path) -> Path:
    def far(ws):
        ws.cell(row=2, column=500, value="?")
    return _xlsx([HEADER, [2020, "D2", "computers_total", 12, "CV 1", None]],
                 tmp=tmp, name="far-right.xlsx", edit=far)


# -- item 3: look-alike text -----------------------------------------------------------------


# Written into tmp_path rather than checked in under corpus/: test_hostile_inputs.py checks
# that every file there is one of its own cases.


def _units(name: str, unit_id: str, unit_name: str = "UBND xã Mới"):
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_text("unit_id,tier,name,parent_id\n"
                        f"{unit_id},commune,{unit_name},D1\n", encoding="utf-8")
        return path
    return build


def _submission(name: str, indicator: str, value: str):
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_text(",".join(HEADER) + f"\n2020,D2,{indicator},{value},CV 1,\n", encoding="utf-8")
        return path
    return build


CASES = [
    # item 1
    Case("xlsx-percent-format-for-a-count", xlsx_percent_for_a_count,
         [("{f}:2:value: ", "'95%' is a percentage, but computers_total is not")]),
    Case("xlsx-percent-format-ratio-above-one", xlsx_percent_ratio_over_one,
         [("{f}:2:value: ", "a ratio must be within 0..1, got 1.50")]),
    Case("xlsx-time-in-value", xlsx_time_in_value,
         [("{f}:2:value: ", "'08:30:00' is not a number: the cell holds a date")]),
    Case("xlsx-hidden-row", xlsx_hidden_row, [("{f}:3:*: ", "row 3 is hidden and holds data")]),
    Case("xlsx-hidden-column", xlsx_hidden_column,
         [("{f}:1:*: ", "column F is hidden and holds data (row 1)")]),
    Case("xlsx-hidden-sheet", xlsx_hidden_sheet, [("{f}:1:*: ", "sheet 'Cũ' is hidden: unhide it")],
         command=("import", "{f}", "--sheet", "Cũ")),
    Case("xlsx-value-far-right", xlsx_far_right,
         [("{f}:2:column 500: ", "a value far beyond the last named column")]),
    # item 3
    Case("bengali-digits", _submission("bengali-digits.csv", "computers_total", "৪৪"),
         [("{f}:2:value: ", "has the digit '৪' (BENGALI DIGIT FOUR): write numbers with the digits 0-9")]),
    Case("fullwidth-digits", _submission("fullwidth-digits.csv", "staff_computer_pct", "１２.５"),
         [("{f}:2:value: ", "(FULLWIDTH DIGIT ONE)")]),
    Case("arabic-indic-digits-on-the-command-line", "",
         [("Error: ", "value: '٤٤' has the digit '٤' (ARABIC-INDIC DIGIT FOUR)")],
         args=lambda s: ("submit", "--year", 2020, "D2", "computers_total", "٤٤")),
    Case("fullwidth-digits-in-a-correction", "",
         [("Error: ", "value: '９０' has the digit '９' (FULLWIDTH DIGIT NINE)")],
         args=lambda s: ("correct", s["S"], "９０", "--reason", "recount")),
    Case("units-soft-hyphen-in-id", _units("soft-hyphen.csv", "C\u00ad2"),
         [("{f}:2:unit_id: ", "invisible formatting character U+00AD (SOFT HYPHEN)")],
         command=("units", "import", "{f}")),
    Case("units-arabic-letter-mark-in-name", _units("alm.csv", "C2", "UBND xã\u061c Mới"),
         [("{f}:2:name: ", "U+061C (ARABIC LETTER MARK)")], command=("units", "import", "{f}")),
    Case("units-tag-characters-in-id", _units("tags.csv", "C2\U000e0043"),
         [("{f}:2:unit_id: ", "U+E0043 (TAG LATIN CAPITAL LETTER C)")],
         command=("units", "import", "{f}")),
    Case("units-hangul-filler-in-id", _units("hangul-filler.csv", "C2\u3164"),
         [("{f}:2:unit_id: ", "U+3164 (HANGUL FILLER)")], command=("units", "import", "{f}")),
    Case("units-halfwidth-hangul-filler-in-name", _units("halfwidth-filler.csv", "C2", "UBND xã\uffa0Mới"),
         [("{f}:2:name: ", "U+FFA0 (HALFWIDTH HANGUL FILLER)")], command=("units", "import", "{f}")),
    Case("units-hangul-choseong-filler-in-id", _units("choseong-filler.csv", "\u115fC2"),
         [("{f}:2:unit_id: ", "U+115F (HANGUL CHOSEONG FILLER)")], command=("units", "import", "{f}")),
    Case("variation-selector-in-indicator", _submission("variation-selector.csv", "computers_total\ufe0f", "12"),
         [("{f}:2:indicator: ", "U+FE0F (VARIATION SELECTOR-16)")]),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_excel_and_look_alike_input_is_refused_cleanly(case, hostile_log, run, tmp_path):
    refused(case, hostile_log, run, tmp_path)


def test_a_percent_typed_in_excel_scores_as_shown(hostile_log, run, tmp_path):
    """95% typed into Excel is stored as 0.95 with the format 0%; it was imported as 0.95 for a
    percentage indicator (HT1 = 0.04 points instead of 3.80).  The file is written by openpyxl
    the way Excel writes it; the ratio's 50% (0.50 stored) stays a fraction."""
    import json

    def percent(ws):
        ws["D2"].number_format = "0%"
        ws["D3"].number_format = "0.00%"

    path = _xlsx([HEADER, [2020, "D2", "staff_computer_pct", 0.95, "BC 12", None],
                  [2020, "D2", "official_email_ratio", 0.5, "BC 12", None]],
                 tmp=tmp_path, name="percent.xlsx", edit=percent)
    with zipfile.ZipFile(path) as z:  # what Excel writes for a typed 95%: the fraction
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert re.search(r'<c r="D2" s="\d+" t="n"><v>0\.95</v>', sheet), sheet
    db, _ = hostile_log
    result = run(db, "import", path)
    assert result.exit_code == 0, result.output
    explained = json.loads(run(db, "explain", "D2", "--year", "2020", "--format", "json").stdout)
    criteria = {c["code"]: c for comp in explained["components"] for c in comp["criteria"]}
    values = {i["indicator"]: i["value"] for c in criteria.values() for i in c["inputs"]}
    assert values["staff_computer_pct"] == "95"
    assert values["official_email_ratio"] == "0.50"
    assert criteria["HT1"]["points"] == "3.80"


# -- item 6: hostile workbooks, written part by part -------------------------------------------

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"
_SHEET_ROWS = ('<row r="1"><c r="A1" t="inlineStr"><is><t>year</t></is></c>'
               '<c r="B1" t="inlineStr"><is><t>unit_id</t></is></c>'
               '<c r="C1" t="inlineStr"><is><t>indicator</t></is></c>'
               '<c r="D1" t="inlineStr"><is><t>value</t></is></c></row>'
               '<row r="2"><c r="A2"><v>2020</v></c><c r="B2" t="inlineStr"><is><t>D2</t></is></c>'
               '<c r="C2" t="inlineStr"><is><t>computers_total</t></is></c><c r="D2"><v>12</v></c></row>')


def book(tmp: Path, name: str, *, rows: str | bytes = _SHEET_ROWS, after: str = "",
         shared: str | bytes | None = None, shared_name: str = "sharedStrings.xml",
         styles: str | bytes | None = None,
         stored: bool = False, big: dict[str, object] | None = None) -> Path:
    """A minimal workbook of one sheet, part by part.  `big` maps a part name to an iterable
    of byte chunks, streamed into the archive (parts far larger than memory allows)."""
    head = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet {_NS}><sheetData>'
    sheet = head.encode() + (rows if isinstance(rows, bytes) else rows.encode()) + \
        f"</sheetData>{after}</worksheet>".encode()
    overrides = ('<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                 'officedocument.spreadsheetml.sheet.main+xml"/>'
                 '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
                 'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
    rels = f'<Relationship Id="rId1" Type="{_R}/worksheet" Target="worksheets/sheet1.xml"/>'
    parts: dict[str, bytes | str] = {}
    if shared is not None:
        overrides += (f'<Override PartName="/xl/{shared_name}" ContentType="application/vnd.'
                      'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
        rels += f'<Relationship Id="rId2" Type="{_R}/sharedStrings" Target="{shared_name}"/>'
        parts[f"xl/{shared_name}"] = shared
    if styles is not None:
        overrides += ('<Override PartName="/xl/styles.xml" ContentType="application/vnd.'
                      'openxmlformats-officedocument.spreadsheetml.styles+xml"/>')
        rels += f'<Relationship Id="rId3" Type="{_R}/styles" Target="styles.xml"/>'
        parts["xl/styles.xml"] = styles
    parts = {
        "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_CT}">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f"{overrides}</Types>",
        "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}">'
        f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
        "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook {_NS} '
        f'xmlns:r="{_R}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>",
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<Relationships xmlns="{_PKG}">{rels}</Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
        **parts,
    }
    path = tmp / name
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w", method, compresslevel=None if stored else 1) as zf:
        for part, data in parts.items():
            if big and part in big:
                with zf.open(part, "w", force_zip64=True) as out:
                    for chunk in big[part]:  # type: ignore[attr-defined]
                        out.write(chunk)
            else:
                zf.writestr(part, data)
    return path


def merged_cells_bomb(tmp: Path) -> Path:
    """6 KB of ranges covering the whole sheet: 80 s and 2.75 GB before the fix."""
    refs = "".join(f'<mergeCell ref="A{i}:XFD1048576"/>' for i in range(1, 250))
    return book(tmp, "merge-bomb.xlsx", after=f'<mergeCells count="249">{refs}</mergeCells>')


def merged_cells_few_but_huge(tmp: Path) -> Path:
    """Under the count limit, each range the whole sheet: marked in bounded time."""
    refs = "".join(f'<mergeCell ref="{c}2:XFD1048576"/>' for c in "ABCDEFGH")
    return book(tmp, "merge-huge.xlsx", after=f'<mergeCells count="8">{refs}</mergeCells>')


def merged_range_beyond_the_sheet(tmp: Path) -> Path:
    return book(tmp, "merge-beyond.xlsx",
                after='<mergeCells count="1"><mergeCell ref="A1:XFE2"/></mergeCells>')


def row_ten_to_the_eleven(tmp: Path) -> Path:
    """One row numbered 10^11: openpyxl fills the gap with empty rows, without end."""
    return book(tmp, "row-1e11.xlsx", rows=_SHEET_ROWS + '<row r="100000000000">'
                '<c r="A100000000000"><v>1</v></c></row>')


def huge_shared_string(tmp: Path) -> Path:
    """A 400 MB shared string in a file of well under a megabyte (it imported, in 865 MB)."""
    size = 400 << 20
    chunk = b"x" * (1 << 20)
    head = f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS} count="1" uniqueCount="1"><si><t>'.encode()
    return book(tmp, "huge-string.xlsx", shared="", rows=_SHEET_ROWS.replace(
        '<c r="B2" t="inlineStr"><is><t>D2</t></is></c>', '<c r="B2" t="s"><v>0</v></c>'),
        big={"xl/sharedStrings.xml": [head, *(chunk for _ in range(size >> 20)), b"</t></si></sst>"]})


def long_shared_string(tmp: Path) -> Path:
    """2 MB of incompressible text in one string: past any cell Excel can hold."""
    text = "".join(random.Random(3).choices(string.ascii_letters, k=2 << 20))
    return book(tmp, "long-string.xlsx", shared=f'<?xml version="1.0" encoding="UTF-8"?><sst {_NS}>'
                f"<si><t>{text}</t></si></sst>")


def billion_laughs(tmp: Path) -> Path:
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return book(tmp, "laughs.xlsx", shared='<?xml version="1.0"?><!DOCTYPE sst [' + "".join(lol)
                + f']><sst {_NS}><si><t>&lol9;</t></si></sst>')


def undefined_entity(tmp: Path) -> Path:
    return book(tmp, "entity.xlsx", rows=_SHEET_ROWS + '<row r="3"><c r="A3" t="inlineStr">'
                "<is><t>&nbsp;2020</t></is></c></row>")


def shared_string_index_out_of_range(tmp: Path) -> Path:
    return book(tmp, "sst-index.xlsx", shared=f'<?xml version="1.0"?><sst {_NS}><si><t>D2</t></si></sst>',
                rows=_SHEET_ROWS + '<row r="3"><c r="A3"><v>2020</v></c><c r="B3" t="s"><v>7</v></c></row>')


def shared_string_negative_index(tmp: Path) -> Path:
    """Python reads list[-1] as the last string: a silent wrong value before the fix."""
    return book(tmp, "sst-negative.xlsx", shared=f'<?xml version="1.0"?><sst {_NS}><si><t>D2</t></si></sst>',
                rows=_SHEET_ROWS + '<row r="3"><c r="A3"><v>2020</v></c><c r="B3" t="s"><v>-1</v></c></row>')


def zip_bomb_sheet(tmp: Path) -> Path:
    """A sheet part unpacking to 200 MB of blanks from 200 KB."""
    pad = b" " * (1 << 20)
    head = f'<?xml version="1.0" encoding="UTF-8"?><worksheet {_NS}><sheetData>'.encode()
    return book(tmp, "zip-bomb.xlsx", big={"xl/worksheets/sheet1.xml": [
        head, _SHEET_ROWS.encode(), *(pad for _ in range(200)), b"</sheetData></worksheet>"]})


def one_row_of_a_million_cells(tmp: Path) -> Path:
    """2.5 MB of cells in one row, stored uncompressed (so no ratio check stops it first)."""
    cells = b"<c><v>1</v></c>" * 170_000
    return book(tmp, "wide-row.xlsx", stored=True, rows=_SHEET_ROWS.encode() + b'<row r="3">' + cells + b"</row>")


def too_many_rows(tmp: Path) -> Path:
    return book(tmp, "many-rows.xlsx", stored=True, rows=_SHEET_ROWS.encode() + b"<row/>" * (1_048_576 + 10))


def utf16_part(tmp: Path) -> Path:
    xml = f'<?xml version="1.0" encoding="UTF-16"?><sst {_NS}><si><t>D2</t></si></sst>'
    return book(tmp, "utf16.xlsx", shared=xml.encode("utf-16"))


def column_beyond_xfd(tmp: Path) -> Path:
    return book(tmp, "column.xlsx", rows=_SHEET_ROWS + '<row r="3"><c r="ZZZZ3"><v>1</v></c></row>')


def style_bomb(tmp: Path) -> Path:
    """Millions of elements in a part openpyxl loads whole (stored: no ratio check)."""
    return book(tmp, "styles.xlsx", stored=True, styles=f'<?xml version="1.0"?><styleSheet {_NS}>'
                .encode() + b"<a/>" * 1_200_000 + b"</styleSheet>")


def shared_strings_disguised_as_a_worksheet(tmp: Path) -> Path:
    """A part under worksheets/ whose root is <worksheet>, but which the manifest and the
    relationships make the shared strings: openpyxl would load it whole."""
    return book(tmp, "disguised.xlsx", stored=True, shared_name="worksheets/sst.xml",
                shared=f'<?xml version="1.0"?><worksheet {_NS}><sheetData>'.encode()
                + b"<si><t>a</t></si>" * 300_000 + b"</sheetData></worksheet>")


def rows_out_of_order(tmp: Path) -> Path:
    row9 = (_SHEET_ROWS[_SHEET_ROWS.index('<row r="2">'):].replace('2"', '9"')
            .replace("computers_total", "computers_broadband").replace("<v>12<", "<v>10<"))
    return book(tmp, "order.xlsx", rows=_SHEET_ROWS + row9 + '<row r="4"><c r="A4"><v>2020</v></c></row>')


def undefined_style(tmp: Path) -> Path:
    return book(tmp, "style.xlsx", rows=_SHEET_ROWS.replace('<c r="D2">', '<c r="D2" s="99">'))


# (case id, builder, exact prefix of the one error line, text it contains)
WORKBOOKS = [
    ("merged-cells-bomb", merged_cells_bomb, "{f}:1:*: ", "more than 100 merged ranges"),
    ("merged-cells-few-but-whole-sheet", merged_cells_few_but_huge, "{f}:2:year: ",
     "merged cells A2:XFD1048576: unmerge them"),
    ("merged-range-beyond-the-sheet", merged_range_beyond_the_sheet, "{f}:1:*: ",
     "'XFE2' is beyond Excel's last row or column"),
    ("row-numbered-10-to-the-11", row_ten_to_the_eleven, "{f}:3:*: ",
     "row number 100,000,000,000 is beyond Excel's last row (1,048,576)"),
    ("400-mb-shared-string", huge_shared_string, "{f}:1:*: ", "xl/sharedStrings.xml"),
    ("text-longer-than-excel-holds", long_shared_string, "{f}:1:*: ",
     "a text of more than 1,048,576 bytes"),
    ("billion-laughs", billion_laughs, "{f}:1:*: ", "a DOCTYPE or ENTITY declaration"),
    ("undefined-entity", undefined_entity, "{f}:1:*: ", "(ParseError: undefined entity: line 2"),
    ("shared-string-index-out-of-range", shared_string_index_out_of_range, "{f}:3:*: ",
     "a cell refers to shared text #7, and the file holds 1"),
    ("shared-string-negative-index", shared_string_negative_index, "{f}:3:*: ",
     "a cell refers to shared text #-1"),
    ("zip-bomb-sheet", zip_bomb_sheet, "{f}:1:*: ", "part xl/worksheets/sheet1.xml is compressed"),
    ("one-row-of-170000-cells", one_row_of_a_million_cells, "{f}:3:*: ",
     "row 3 holds more than 1,048,576 bytes of XML"),
    ("more-rows-than-excel", too_many_rows, "{f}:1:*: ", "more than 1,048,576 rows"),
    ("utf16-part", utf16_part, "{f}:1:*: ", "not UTF-8 XML"),
    ("column-beyond-xfd", column_beyond_xfd, "{f}:3:*: ", "the file is damaged"),
    ("a-million-elements-in-styles", style_bomb, "{f}:1:*: ", "more than 1,000,000 XML elements"),
    ("shared-strings-disguised-as-a-worksheet", shared_strings_disguised_as_a_worksheet,
     "{f}:1:*: ", "part xl/worksheets/sst.xml holds more than 1,000,000 XML elements, more than "
     "a part other than a worksheet may hold"),
    ("rows-out-of-order", rows_out_of_order, "{f}:9:*: ", "row 4 comes after row 9"),
    ("undefined-style", undefined_style, "{f}:2:value: ", "the cell's style is not defined in the file"),
]

MEMORY_CAP = 1 << 30  # address space of the importing process

# The peak is this process's own high-water mark (VmHWM): ru_maxrss can carry over the
# pytest parent's at fork, which would hide a small process's peak.
_CAPPED = """
import re, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
from ictindex.cli import main
try:
    main()
finally:
    try:
        with open("/proc/self/status") as f:
            peak = re.search(r"VmHWM:\\s*(\\d+) kB", f.read()).group(1)
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"PEAK_RSS_KIB={{peak}}", file=sys.stderr)
"""


def import_capped(db: Path, path: Path) -> tuple[subprocess.CompletedProcess, int]:
    """`ictindex import PATH` in a subprocess with its address space capped; (result, peak RSS)."""
    env = dict(os.environ, ICTINDEX_ACTOR="tester")
    proc = subprocess.run([sys.executable, "-c", _CAPPED.format(cap=MEMORY_CAP), "--db", str(db),
                           "import", str(path)],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    match = re.search(r"PEAK_RSS_KIB=(\d+)", proc.stderr)
    assert match, proc.stderr[-2000:]
    return proc, int(match.group(1)) * 1024


def test_the_corpus_grows_by_at_least_15_kinds():
    from test_hostile_inputs import CASES as EARLIER

    ids = {c.id for c in CASES} | {w[0] for w in WORKBOOKS}
    assert len(ids) == len(CASES) + len(WORKBOOKS) >= 15
    assert not ids & {c.id for c in EARLIER}


@pytest.fixture(scope="module")
def small_import_peak(tmp_path_factory, hostile_template) -> int:
    """Peak RSS of refusing a one-row CSV: what any workbook is measured against."""
    import shutil

    db = tmp_path_factory.mktemp("baseline") / "log.db"
    shutil.copy(hostile_template[0], db)
    proc, peak = import_capped(db, CORPUS / "nan.csv")
    assert proc.returncode == 2, proc.stderr
    return peak


@pytest.mark.slow
@pytest.mark.parametrize("case", WORKBOOKS, ids=[w[0] for w in WORKBOOKS])
def test_a_hostile_workbook_is_refused_in_bounded_memory(case, hostile_log, tmp_path, small_import_peak):
    _, build, prefix, text = case
    db, _ = hostile_log
    path = build(tmp_path)
    before = snapshot(db)
    proc, peak = import_capped(db, path)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines()
             if not line.startswith("PEAK_RSS_KIB=") and not line.endswith("nothing was recorded.")]
    prefix = prefix.replace("{f}", str(path))
    assert len(lines) == 1 and lines[0].startswith(prefix) and text in lines[0], proc.stderr[-3000:]
    assert snapshot(db) == before
    print(f"\n{case[0]}: peak RSS {peak >> 20} MiB, one-row CSV {small_import_peak >> 20} MiB")
    # A small multiple of a one-row CSV import's own footprint, whatever the file claims.
    assert peak < 3 * small_import_peak, (peak >> 20, small_import_peak >> 20)


@pytest.mark.slow
def test_the_worst_workbook_the_limits_let_through_stays_small(hostile_log, tmp_path, small_import_peak):
    """Just under the limits on what openpyxl loads whole: ~250,000 shared texts (a million XML
    elements), all held in memory while the sheet is read.  The bad last row makes the import
    read them all and refuse."""
    texts = "".join(f"<si><t>{i:x}</t></si>" for i in range(249_000))
    path = book(tmp_path, "worst.xlsx", shared=f'<?xml version="1.0"?><sst {_NS}>{texts}</sst>',
                rows=_SHEET_ROWS + '<row r="3"><c r="A3"><v>2020</v></c><c r="B3" t="s"><v>248999</v></c>'
                '<c r="C3" t="inlineStr"><is><t>computers_total</t></is></c><c r="D3"><v>1</v></c></row>')
    db, _ = hostile_log
    proc, peak = import_capped(db, path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert f"{path}:3:unit_id: unknown unit '{248_999:x}'" in proc.stderr.splitlines()
    print(f"\nworst workbook within the limits: peak RSS {peak >> 20} MiB, "
          f"one-row CSV {small_import_peak >> 20} MiB")
    assert peak < 3 * small_import_peak, (peak >> 20, small_import_peak >> 20)
