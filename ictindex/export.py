"""The annex of a decision: a tier's ranking as provinces publish it, in XLSX or CSV.

One row per ranked unit: rank, unit code and name, the points of every component in the
edition's order, the total and the grading band.  Vietnamese headers by default (`lang="en"`
for English); numbers inside text (a maximum in a header, the About sheet's counts) are written
as people of that language write them (`ictindex.output.number_text`: 2,5 and 1.250 in
Vietnamese, 2.5 and 1,250 in English).  Points are written as numbers (XLSX cells with the edition's decimals as their
number format; CSV text with exactly the edition's decimals), so a spreadsheet sums them.

What the table was computed from (edition and its content hash, the log checkpoint, the as-of
point, the engine version) goes into a second sheet ("Thông tin" / "About") and the workbook's
properties; `export_annex` also returns it for the command to print.

No exported file can run a formula: every *text* cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return is written with a leading apostrophe (OWASP's advice against
CSV injection), in CSV and XLSX alike.  Numbers stay numbers.

CSV is UTF-8 with a byte-order mark, so that Excel shows the diacritics, and CRLF line ends.
Both are byte-reproducible: the same annex gives the same bytes wherever and whenever it is
written (the XLSX carries no save time; see `reproducible_xlsx`).
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from engine.model import Methodology
from engine.result import Ranking
from engine.text import scale_text
from ictindex.atomic import write_atomic
from ictindex.output import FORMULA_CHARS, neutralise, number_text

if TYPE_CHECKING:
    from engine.robustness import Robustness
    from ictindex.app import Ictindex

__all__ = [
    "FORMULA_CHARS",
    "Annex",
    "annex",
    "export_annex",
    "format_from_path",
    "neutralise",
    "write_csv",
    "write_xlsx",
]

LANGS = ("vi", "en")

TIER_NAMES = {
    "vi": {"department": "Sở, ban, ngành", "district": "UBND cấp huyện",
           "commune": "UBND cấp xã", "province": "Tỉnh, thành phố"},
    "en": {"department": "Departments", "district": "District People's Committees",
           "commune": "Commune People's Committees", "province": "Provinces"},
}

LABELS = {
    "vi": {
        "rank": "Xếp hạng", "unit_id": "Mã đơn vị", "name": "Tên đơn vị", "group": "Nhóm",
        "total": "Tổng điểm", "band": "Xếp loại", "note": "Ghi chú",
        "not_ranked": "Không xếp hạng", "sheet": "Phụ lục", "about": "Thông tin",
        "field": "Mục", "value": "Giá trị",
        "title": "Kết quả xếp hạng Chỉ số {index} năm {year}: {tier}",
        "year": "Năm", "tier": "Khối", "edition": "Bộ tiêu chí (phiên bản)",
        "edition_title": "Tên bộ tiêu chí", "content_hash": "Mã băm nội dung bộ tiêu chí",
        "checkpoint": "Điểm kiểm chứng sổ sự kiện (số sự kiện:gốc Merkle)",
        "as_of": "Tính đến", "engine": "Phiên bản ictindex", "plugin": "Gói cung cấp bộ tiêu chí",
        "decimals": "Số chữ số thập phân", "tie_rule": "Quy tắc đồng hạng",
        "units": "Số đơn vị được xếp hạng", "excluded": "Đơn vị không xếp hạng",
        "verify": "Lệnh kiểm chứng",
    },
    "en": {
        "rank": "Rank", "unit_id": "Unit code", "name": "Unit", "group": "Group",
        "total": "Total", "band": "Grade", "note": "Note",
        "not_ranked": "Not ranked", "sheet": "Annex", "about": "About",
        "field": "Field", "value": "Value",
        "title": "{index} ranking {year}: {tier}",
        "year": "Year", "tier": "Tier", "edition": "Edition",
        "edition_title": "Edition title", "content_hash": "Edition content hash",
        "checkpoint": "Log checkpoint (events:Merkle root)",
        "as_of": "As of", "engine": "ictindex version", "plugin": "Plugin providing the edition",
        "decimals": "Decimals", "tie_rule": "Tie rule",
        "units": "Units ranked", "excluded": "Units not ranked",
        "verify": "Command that verifies it",
    },
}


def format_from_path(path: str | Path) -> str | None:
    suffix = Path(path).suffix.lower()
    return {".xlsx": "xlsx", ".csv": "csv"}.get(suffix)


@attrs.frozen
class Annex:
    """The annex as a table: headers, rows of numbers and texts, and what produced it."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]  # int / Decimal / str / None cells
    number_columns: frozenset[int]  # columns that hold points (formatted with `decimals`)
    decimals: int
    about: tuple[tuple[str, str], ...]  # (label, value) pairs
    sheet: str
    about_sheet: str
    lang: str
    ranking: Ranking


def _band(methodology: Methodology, band_vi: str | None, lang: str) -> str:
    if band_vi is None:
        return ""
    if lang == "en":
        for b in methodology.grading:
            if b.name_vi == band_vi:
                return b.name_en
    return band_vi


def as_of_text(as_of: str, lang: str) -> str:
    """A provenance's as-of point (`AsOf.describe`) in words of `lang`."""
    if lang != "vi":
        return as_of
    kind, _, rest = as_of.partition(" ")
    if kind == "seq":
        return f"sự kiện #{rest}"
    if kind == "time":
        return f"thời điểm {rest}"
    return {"now": "hiện tại", "published": "thời điểm công bố"}.get(as_of, as_of)


def _points(d: Decimal, decimals: int) -> str:
    return format(d.quantize(Decimal(1).scaleb(-decimals)), "f")


def verify_command(db_name: str | None, size: int | None, root: str | None) -> str:
    """The command that checks the log still extends a checkpoint (the log file by its name)."""
    db = f"--db {_shell_quote(Path(db_name).name)} " if db_name else ""
    return f"ictindex {db}verify --checkpoint {size}:{root}"


def _shell_quote(s: str) -> str:
    import shlex

    return shlex.quote(s)


def annex(ranking: Ranking, methodology: Methodology, *, lang: str = "vi",
          edition_title: str | None = None, db_name: str | None = None) -> Annex:
    """The table of `ranking` as an annex, with headers in `lang`."""
    if lang not in LANGS:
        raise ValueError(f"unknown language {lang!r} (one of: {', '.join(LANGS)})")
    L = LABELS[lang]
    tier_def = methodology.tiers[ranking.tier]
    dec = ranking.decimals
    comps = [c for c in tier_def.components]
    codes = [c.code for c in comps]
    # Components a ranking has that the edition does not list (should not happen) go last.
    extra = sorted({k for r in ranking.rows for k in r.components} - set(codes))
    grouped = ranking.group_by is not None
    headers = [L["rank"], L["unit_id"], L["name"]]
    if grouped:
        headers.append(L["group"])
    for c in comps:
        name = c.name_vi if lang == "vi" else c.name_en
        headers.append(f"{c.code}. {name} ({number_text(scale_text(c.max), lang)})")
    headers.extend(extra)
    first_number = len(headers) - len(codes) - len(extra)
    headers.extend([f"{L['total']} ({number_text(scale_text(ranking.scale), lang)})", L["band"]])
    has_excluded = bool(ranking.excluded)
    if has_excluded:
        headers.append(L["note"])
    rows: list[tuple[Any, ...]] = []
    for r in ranking.rows:
        row: list[Any] = [r.rank, r.unit_id, r.name]
        if grouped:
            row.append(r.group or "")
        row.extend(r.components.get(code) for code in codes + extra)
        row.extend([r.total, _band(methodology, r.band, lang)])
        if has_excluded:
            row.append("")
        rows.append(tuple(row))
    for e in ranking.excluded:
        row = [None, e.unit_id, e.name]
        if grouped:
            row.append("")
        row.extend([None] * (len(codes) + len(extra) + 1))
        row.append(L["not_ranked"])
        row.append(e.reason)
        rows.append(tuple(row))
    numbers = frozenset(range(first_number, first_number + len(codes) + len(extra) + 1))
    p = ranking.provenance
    index = ("ICT" if lang == "vi" else "ICT Index") if "ict" in methodology.name else (
        "DTI" if "dti" in methodology.name else methodology.id)
    title = L["title"].format(index=index, year=ranking.year, tier=TIER_NAMES[lang][ranking.tier])
    about = [
        (L["year"], str(ranking.year)),
        (L["tier"], f"{TIER_NAMES[lang][ranking.tier]} ({ranking.tier})"),
        (L["edition"], p.edition),
        (L["edition_title"], edition_title or methodology.title),
        (L["content_hash"], p.content_hash),
        (L["checkpoint"], f"{p.checkpoint_size}:{p.checkpoint_root or ''}"),
        (L["as_of"], as_of_text(p.as_of, lang)),
        (L["engine"], p.engine_version),
        (L["plugin"], f"{p.plugin} {p.plugin_version}".strip()),
        (L["decimals"], number_text(ranking.decimals, lang)),
        (L["tie_rule"], ranking.tie_rule),
        (L["units"], number_text(len(ranking.rows), lang)),
    ]
    if ranking.excluded:
        about.append((L["excluded"], "; ".join(f"{e.unit_id} {e.name}: {e.reason}"
                                              for e in ranking.excluded)))
    if p.checkpoint_size:
        about.append((L["verify"], verify_command(db_name, p.checkpoint_size, p.checkpoint_root)))
    return Annex(title=title, headers=tuple(headers), rows=tuple(rows), number_columns=numbers,
                 decimals=dec, about=tuple(about), sheet=L["sheet"], about_sheet=L["about"],
                 lang=lang, ranking=ranking)


# -- CSV -------------------------------------------------------------------------------------


def _csv_cell(value: Any, decimals: int) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return neutralise(str(value).lower())
    if isinstance(value, Decimal):
        return _points(value, decimals)
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def csv_text(a: Annex) -> str:
    """The annex as CSV text (no BOM): one header row, one row per unit."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([neutralise(h) for h in a.headers])
    for row in a.rows:
        w.writerow([_csv_cell(v, a.decimals) for v in row])
    return buf.getvalue()


def write_csv(a: Annex, out: str | Path) -> None:
    write_atomic(out, b"\xef\xbb\xbf" + csv_text(a).encode("utf-8"))


# -- XLSX ------------------------------------------------------------------------------------


def _text(value: str):
    """An openpyxl cell value that is always text, never a formula."""
    return neutralise(value)


def write_xlsx(a: Annex, out: str | Path) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = a.sheet
    number_format = "0" if a.decimals == 0 else "0." + "0" * a.decimals
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDE7F0")
    for col, h in enumerate(a.headers, start=1):
        c = ws.cell(row=1, column=col)
        _set_text(c, h)
        c.font = bold
        c.fill = head_fill
        c.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for r, row in enumerate(a.rows, start=2):
        for col, v in enumerate(row, start=1):
            c = ws.cell(row=r, column=col)
            if v is None:
                continue
            if isinstance(v, bool):
                _set_text(c, str(v).lower())
            elif isinstance(v, Decimal):
                c.value = v
                c.number_format = number_format
            elif isinstance(v, int):
                c.value = v
                c.number_format = "0"
            else:
                _set_text(c, str(v))
    # The header row (and the rank, code and name columns) stay visible when scrolling.
    ws.freeze_panes = ws.cell(row=2, column=4)
    last = get_column_letter(len(a.headers))
    ws.auto_filter.ref = f"A1:{last}{max(1, len(a.rows) + 1)}"
    ws.row_dimensions[1].height = 60
    for col, h in enumerate(a.headers, start=1):
        values = [h] + [_display(row[col - 1], a.decimals) for row in a.rows]
        if col - 1 in a.number_columns:
            width = 11
        else:
            width = min(48, max(8, max(len(v) for v in values) + 2))
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True

    info = wb.create_sheet(a.about_sheet)
    L = LABELS[a.lang]
    _set_text(info.cell(row=1, column=1), L["field"])
    _set_text(info.cell(row=1, column=2), L["value"])
    info.cell(row=1, column=1).font = bold
    info.cell(row=1, column=2).font = bold
    _set_text(info.cell(row=2, column=1), a.title)
    info.cell(row=2, column=1).font = bold
    for r, (k, v) in enumerate(a.about, start=3):
        _set_text(info.cell(row=r, column=1), k)
        _set_text(info.cell(row=r, column=2), v)
    info.column_dimensions["A"].width = 44
    info.column_dimensions["B"].width = 90
    info.freeze_panes = "A2"

    p = a.ranking.provenance
    props = wb.properties
    props.title = a.title
    props.subject = f"{a.ranking.year} {a.ranking.tier} — {p.edition}"
    props.creator = "ictindex"
    props.keywords = (f"ictindex; {p.edition}; edition-hash {p.content_hash}; "
                      f"checkpoint {p.checkpoint_size}:{p.checkpoint_root or ''}")
    props.description = "\n".join(f"{k}: {v}" for k, v in a.about)
    props.category = "ICT Index annex"
    props.identifier = f"{p.checkpoint_size}:{p.checkpoint_root or ''}"
    props.version = p.engine_version
    write_atomic(out, reproducible_xlsx(wb))


def reproducible_xlsx(wb) -> bytes:
    """The workbook's bytes, the same for the same annex on any machine at any time.

    `Workbook.save` stamps the save time into the properties and every zip entry, and deflate
    streams differ between zlib builds (zlib-ng, for one).  So: the zip format's earliest time
    as the created/modified time (the About sheet says what the table was computed from) and
    as every entry's time, entries stored uncompressed, in openpyxl's order.
    """
    import datetime as dt
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    wb.properties.created = wb.properties.modified = dt.datetime(1980, 1, 1)
    staged = io.BytesIO()
    with zipfile.ZipFile(staged, "w", zipfile.ZIP_STORED) as archive:
        ExcelWriter(wb, archive).save()
    out = io.BytesIO()
    with zipfile.ZipFile(staged) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for entry in src.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(entry))
    return out.getvalue()


def _set_text(cell, value: str) -> None:
    cell.value = _text(value)
    cell.data_type = "s"  # never "f": openpyxl would otherwise take "=..." as a formula


def _display(v: Any, decimals: int) -> str:
    if v is None:
        return ""
    if isinstance(v, Decimal):
        return _points(v, decimals)
    return str(v)


# -- the whole job ---------------------------------------------------------------------------


@attrs.frozen
class ExportResult:
    path: Path
    format: str
    annex: Annex


def export_annex(app: "Ictindex", year: int, tier: str, out: str | Path, *,
                 fmt: str | None = None, as_of: str | None = None, lang: str = "vi",
                 edition: str | None = None, allow_changed_edition: bool = False,
                 db_name: str | None = None) -> ExportResult:
    """Replay `tier` of `year` as of `as_of` and write its annex to `out` (XLSX or CSV)."""
    from ictindex import replay
    from ictindex.errors import UsageError

    fmt = fmt or format_from_path(out)
    if fmt not in ("xlsx", "csv"):
        raise UsageError(f"cannot tell the format of {out}: name it .xlsx or .csv, or pass --format")
    if lang not in LANGS:
        raise UsageError(f"unknown language {lang!r} (one of: {', '.join(LANGS)})")
    r = replay.replay(app, year, tier, as_of=as_of, edition=edition,
                      allow_changed_edition=allow_changed_edition)
    entry = app.registry.edition(r.ranking.provenance.edition)
    a = annex(r.ranking, entry.methodology, lang=lang, db_name=db_name)
    out = Path(out)
    if fmt == "xlsx":
        write_xlsx(a, out)
    else:
        write_csv(a, out)
    return ExportResult(path=out, format=fmt, annex=a)


# -- robustness annex ------------------------------------------------------------------------

ROBUSTNESS_LABELS = {
    "vi": {"sheet": "Độ vững thứ hạng", "rank": "Xếp hạng", "unit_id": "Mã đơn vị",
           "name": "Tên đơn vị", "median": "Trung vị thứ hạng", "p5": "Thứ hạng 5%",
           "p95": "Thứ hạng 95%", "keeps": "Tỷ lệ mẫu giữ nguyên thứ hạng",
           "ranked_in": "Số mẫu được xếp hạng"},
    "en": {"sheet": "Rank robustness", "rank": "Rank", "unit_id": "Unit code", "name": "Unit",
           "median": "Median rank", "p5": "5% rank", "p95": "95% rank",
           "keeps": "Share of samples keeping the rank", "ranked_in": "Samples ranked in"},
}


ROBUSTNESS_ABOUT = {
    "vi": {"year_tier": "Năm / khối", "edition": "Bộ tiêu chí (phiên bản)",
           "content_hash": "Mã băm nội dung bộ tiêu chí",
           "checkpoint": "Điểm kiểm chứng sổ sự kiện", "as_of": "Tính đến", "samples": "Số mẫu",
           "seed": "Hạt giống", "generator": "Bộ sinh số ngẫu nhiên",
           "weights": "Trọng số thay đổi", "missing": "Quy tắc thiếu số liệu",
           "ties": "Quy tắc đồng hạng", "spearman": "Tương quan Spearman: trung vị / 5% / thấp nhất",
           "most": "Vững nhất", "least": "Kém vững nhất", "engine": "Phiên bản ictindex"},
    "en": {"year_tier": "year / tier", "edition": "edition", "content_hash": "edition content hash",
           "checkpoint": "checkpoint", "as_of": "as of", "samples": "samples", "seed": "seed",
           "generator": "generator", "weights": "weights", "missing": "missing-data policies",
           "ties": "tie rules", "spearman": "Spearman median / 5% / min", "most": "most robust",
           "least": "least robust", "engine": "engine"},
}


def write_robustness_xlsx(r: "Robustness", out: str | Path, *, lang: str = "vi") -> None:
    """The annex sheet of a robustness run (`engine.robustness`): one row per unit in published
    order, and an About sheet with the edition, checkpoint, seed, generator and alternatives.
    Byte-reproducible like the ranking annex."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    L = ROBUSTNESS_LABELS[lang]
    wb = Workbook()
    ws = wb.active
    ws.title = L["sheet"]
    keys = ("rank", "unit_id", "name", "median", "p5", "p95", "keeps", "ranked_in")
    for col, key in enumerate(keys, start=1):
        _set_text(ws.cell(row=1, column=col), L[key])
        ws.cell(row=1, column=col).font = Font(bold=True)
    for row, u in enumerate(r.units, start=2):
        for col, key in enumerate(keys, start=1):
            v = getattr(u, key)
            c = ws.cell(row=row, column=col)
            if isinstance(v, str):
                _set_text(c, v)
            elif v is not None:
                c.value = v
                c.number_format = "0.0000" if key == "keeps" else "0"
    ws.freeze_panes = "D2"
    for col, width in zip("ABCDEFGH", (9, 11, 40, 12, 11, 11, 16, 12)):
        ws.column_dimensions[col].width = width
    p = r.provenance
    A = ROBUSTNESS_ABOUT[lang]
    about = [
        (A["year_tier"], f"{r.year} {r.tier}"),
        (A["edition"], p.edition), (A["content_hash"], p.content_hash),
        (A["checkpoint"], f"{p.checkpoint_size}:{p.checkpoint_root or ''}"),
        (A["as_of"], as_of_text(p.as_of, lang)),
        (A["samples"], number_text(r.samples, lang)), (A["seed"], str(r.seed)),
        (A["generator"], r.generator),
        (A["weights"], f"±{number_text((r.width * 100).normalize(), lang)}%"),
        (A["missing"], ", ".join(r.missing)), (A["ties"], ", ".join(r.ties)),
        (A["spearman"],
         " / ".join("" if v is None else number_text(v, lang)
                    for v in (r.spearman.median, r.spearman.p5, r.spearman.min))),
        (A["most"], ", ".join(r.most_robust)), (A["least"], ", ".join(r.least_robust)),
        (A["engine"], p.engine_version),
    ]
    info = wb.create_sheet("Thông tin" if lang == "vi" else "About")
    for row, (k, v) in enumerate(about, start=1):
        _set_text(info.cell(row=row, column=1), k)
        _set_text(info.cell(row=row, column=2), v)
    info.column_dimensions["A"].width = 30
    info.column_dimensions["B"].width = 90
    wb.properties.title = f"{L['sheet']} — {r.tier} {r.year}"
    wb.properties.creator = "ictindex"
    Path(out).write_bytes(reproducible_xlsx(wb))
