"""Write docs/examples/year/: the 2021 sheets as the units send them back, filled in.

docs/year.md imports them.  Each is the sheet `ictindex template` writes for a tier of 2021
(the edition local-ict@2020, on the BR-VT sample log), with the column Giá trị filled the way
an officer types it: the sample's illustrative 2020 values again, yes/no as `có`/`không`,
categories by their Vietnamese labels, numbers as numbers.  The same script gives the same
bytes, so the files can be checked and regenerated:

    .venv/bin/python tests/docs/make_year_files.py [OUT_DIR]
"""

from __future__ import annotations

import csv
import io
import sys
import tempfile
import zipfile
from decimal import Decimal
from pathlib import Path

YEAR = 2021
EDITION = "local-ict@2020"
OUT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "year"
# tier -> the filled sheet's name (đã điền: filled in)
FILES = {"department": "da-dien-2021-so.xlsx", "district": "da-dien-2021-huyen.xlsx",
         "commune": "da-dien-2021-xa.xlsx"}


def values_2020() -> dict[tuple[str, str], tuple[str, str]]:
    """(unit, indicator) -> (value, evidence) of the sample's 2020 submissions."""
    from ictindex.sample import SUBMISSIONS_CSV

    rows = csv.DictReader(io.StringIO(Path(SUBMISSIONS_CSV).read_text(encoding="utf-8")))
    return {(r["unit_id"], r["indicator"]): (r["value"], r["evidence"]) for r in rows}


def typed(value: str, indicator) -> object:
    """The value as an officer types it in the cell."""
    from engine.values import allowed_values

    if indicator.type == "yes_no":
        return dict(zip(("yes", "no"), allowed_values(indicator)))[value]
    if indicator.type == "category":
        return dict(zip(indicator.categories, allowed_values(indicator)))[value]
    number = Decimal(value)
    return int(number) if number == number.to_integral_value() else float(number)


def deflated(xlsx: bytes) -> bytes:
    """The workbook compressed, for the repository: the annexes are stored uncompressed
    (deflate differs between zlib builds), which makes these sheets ten times bigger.  The
    entries, their order and their times are kept; `entries` compares what they hold."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for entry in src.infolist():
            dst.writestr(entry, src.read(entry), compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def entries(path: Path) -> list[tuple[str, bytes]]:
    """What a workbook holds, whatever its compression: each entry's name and bytes."""
    with zipfile.ZipFile(path) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def write(out: Path) -> list[Path]:
    from openpyxl import load_workbook

    from ictindex.app import Ictindex
    from ictindex.export import reproducible_xlsx
    from ictindex.sample import build_sample

    out.mkdir(parents=True, exist_ok=True)
    values = values_2020()
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        with Ictindex.open(Path(tmp) / "brvt.db") as app:
            build_sample(app)
            app.adopt(EDITION, YEAR, list(FILES), actor="so-tttt")
            indicators = {i.code: i for i in app.registry.edition(EDITION).methodology.indicators}
            for tier, name in FILES.items():
                blank = Path(tmp) / f"{tier}.xlsx"
                app.template(YEAR, tier, blank)
                wb = load_workbook(blank)
                ws = wb.active
                header = [c.value for c in ws[1]]
                unit_col, code_col = header.index("Mã đơn vị"), header.index("Mã chỉ số")
                value_col, evidence_col = header.index("Giá trị"), header.index("Minh chứng")
                for row in ws.iter_rows(min_row=2):
                    value, evidence = values[row[unit_col].value, row[code_col].value]
                    row[value_col].value = typed(value, indicators[row[code_col].value])
                    # the reports on a year are dated early the next year
                    row[evidence_col].value = evidence.replace(f"/{YEAR}", f"/{YEAR + 1}")
                (out / name).write_bytes(deflated(reproducible_xlsx(wb)))
                written.append(out / name)
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(f"wrote {path}")
