"""Building the static site: gather the replays, render pages, write files (see the package doc)."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re
from decimal import Decimal
from importlib import resources
from pathlib import Path, PurePosixPath
from string import Template
from typing import TYPE_CHECKING, Any

import attrs

from engine.asof import AsOf, parse_as_of
from engine.diff import ChangeEvent, RankingDiff, diff as diff_rankings
from engine.explain import explain as explain_unit
from engine.fold import EventRef
from engine.model import Methodology
from engine.result import Explanation
from events.types import TIERS, Choice, RankingPublished
from plugins import progress
from plugins.atomic import write_atomic
from plugins.errors import UsageError, file_problem
from plugins.replay import ENGINE_VERSION, Replay, replay

if TYPE_CHECKING:
    from plugins.app import Ictindex

__all__ = ["SiteResult", "build_site", "unit_id_of_slug", "unit_slug"]

TIER_VI = {"department": "Sở, ban, ngành", "district": "UBND cấp huyện",
           "commune": "UBND cấp xã", "province": "Tỉnh, thành phố"}

KIND_VI = {
    "submitted": "nộp số liệu",
    "corrected": "đính chính",
    "retracted": "rút lại",
    "unit_registered": "đăng ký đơn vị",
    "unit_renamed": "đổi tên đơn vị",
    "unit_retired": "thôi hoạt động (sáp nhập, giải thể)",
    "readopted": "áp dụng lại bộ tiêu chí khác",
}

STATUS_VI = {
    "current": "đang được tính",
    "overridden": "đã được đính chính",
    "superseded": "đã được thay bằng lần nộp sau",
    "retracted": "đã bị rút lại",
    "retraction": "lệnh rút lại",
}

CAUSE_VI = {
    "own_inputs": "số liệu của chính đơn vị thay đổi",
    "peers": "số liệu của các đơn vị khác thay đổi (tiêu chí so sánh giữa các đơn vị)",
    "edition": "bộ tiêu chí khác",
    "readopted": "năm được áp dụng lại theo bộ tiêu chí khác",
    "others_moved": "điểm của đơn vị không đổi; các đơn vị khác thay đổi điểm",
    "entered": "mới được xếp hạng",
    "left": "không còn được xếp hạng",
}

POLICY_VI = {
    "zero": "thiếu số liệu thì 0 điểm",
    "carry_forward": "thiếu số liệu thì dùng số liệu năm trước",
    "exclude_unit": "thiếu số liệu thì không xếp hạng đơn vị",
}

# Page names use [A-Za-z0-9_-] only.  A unit id's characters [A-Z0-9-] are written as
# themselves, so the sample's pages keep their names; every other run of characters becomes a
# group `_..._` in which a lowercase ASCII letter is itself and any other character (`_` too)
# is its decimal code point and a `-`.  No file system folds such a name onto another's
# (lowercase letters occur only inside groups, so `ab` and `AB` stay apart where case is
# ignored), and none holds a space, a dot or a character Windows reserves; the last character
# of a Windows device name (CON, NUL, COM1...) is written as a group.  `unit_id_of_slug` reads
# a name back, whatever its case: two ids never share a page.  A name longer than SLUG_MAX is
# cut and ends in `__` and 128 bits of the id's SHA-256 (two groups are never adjacent, so a
# name that is not cut never holds `__`).
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_GROUP = re.compile(r"_([a-z0-9-]+)_", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z]|[0-9]+-")
_DEVICES = frozenset(["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"]
                     + [f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789"])
SLUG_MAX = 120


def _group(run: str) -> str:
    return "_" + "".join(ch if ch in _LOWER else f"{ord(ch)}-" for ch in run) + "_"


def unit_slug(unit_id: str) -> str:
    """A unit's page name (without .html): injective, and safe on every file system."""
    parts: list[str] = []
    run = ""
    for ch in unit_id:
        if ch in _BARE:
            if run:
                parts.append(_group(run))
                run = ""
            parts.append(ch)
        else:
            run += ch
    if run:
        parts.append(_group(run))
    slug = "".join(parts)
    if slug.upper() in _DEVICES:
        slug = slug[:-1] + _group(slug[-1])
    if not slug or len(slug) > SLUG_MAX:
        digest = hashlib.sha256(unit_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        slug = slug[:SLUG_MAX - 34] + "__" + digest
    return slug


def unit_id_of_slug(slug: str) -> str | None:
    """The unit id a page name stands for, whatever its letter case; None for a cut name."""
    if "__" in slug:
        return None
    out: list[str] = []
    pos = 0
    for m in _GROUP.finditer(slug):
        out.append(slug[pos:m.start()].upper())
        for token in _TOKEN.findall(m.group(1).lower()):
            out.append(token if token in _LOWER else chr(int(token[:-1])))
        pos = m.end()
    out.append(slug[pos:].upper())
    return "".join(out)


def e(value: Any) -> str:
    """HTML-escaped text (quotes too: safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _q(d: Decimal, decimals: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-decimals))


def num(d: Decimal | None, decimals: int) -> str:
    return "—" if d is None else format(_q(d, decimals), "f")


def _scale_text(d: Decimal) -> str:
    return format(d.normalize(), "f") if d == d.to_integral_value() else format(d, "f")


def _ticks(scale: Decimal) -> list[Decimal]:
    """0 and round steps (1, 2, 2.5 or 5 times a power of ten) up to `scale`, at most 6."""
    if scale <= 0:
        return [Decimal(0)]
    k = scale.adjusted() - 1
    while True:
        for m in ("1", "2", "2.5", "5"):
            step = Decimal(m).scaleb(k)
            if scale / step <= 5:
                n = int(scale / step)
                return [(step * i).normalize() for i in range(n + 1)]
        k += 1


def _when(t: dt.datetime) -> str:
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.timezone.utc)
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%d/%m/%Y %H:%M") + " UTC"


def _value(v: Any) -> str:
    if v is None:
        return "không có"
    if v is True:
        return "có"
    if v is False:
        return "không"
    if type(v) is Choice:
        return v.choice
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def _read_text(*parts: str) -> str:
    return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


def _read_bytes(*parts: str) -> bytes:
    return resources.files(__package__).joinpath(*parts).read_bytes()


# -- what the pages show ---------------------------------------------------------------------


@attrs.frozen
class TierPage:
    tier: str
    replay: Replay
    methodology: Methodology
    edition_hash: str
    publication: RankingPublished | None
    publication_seq: int | None
    diff: RankingDiff | None
    note: str  # why there is no diff, when there is none


@attrs.frozen
class SiteResult:
    out: Path
    pages: tuple[str, ...]  # paths relative to `out`, index first
    tiers: tuple[str, ...]
    checkpoint: str  # SIZE:ROOT the pages were computed from (the latest of the tiers')
    units: int


class _Site:
    def __init__(self, app: "Ictindex", year: int, as_of: AsOf, db_name: str) -> None:
        self.app = app
        self.year = year
        self.as_of = as_of
        self.db_name = db_name
        self.tiers: list[TierPage] = []
        self.names: dict[str, str] = {}  # unit id -> name, every unit of the year
        self.page_of: dict[str, str] = {}  # unit id -> relative path of its page
        self.changed: dict[str, set[str]] = {}  # tier -> unit ids in its diff
        self.layout = Template(_read_text("templates", "page.html"))
        self.robustness = False  # a robustness page is built: tier sections link to it

    # -- gathering -----------------------------------------------------------------------------

    def gather(self) -> None:
        app, year, as_of = self.app, self.year, self.as_of
        full = app.state()
        published = as_of.kind == "published"
        state = None if published else app.state(as_of)
        view = full if published else state
        ys_view = view.year_state(year)
        for uid, info in ys_view.units.items():
            self.names[uid] = info.name
        for tier in TIERS:
            adoption = ys_view.adoption(tier)
            if adoption is None:
                continue
            pubs = ys_view.publications(tier)  # those recorded up to the as-of point
            pub_event = pubs[-1] if pubs else None
            if published and pub_event is None:
                continue  # nothing published for this tier: no published ranking to show
            r = replay(app, year, tier, as_of=as_of, state=state)
            entry = app.registry.edition(r.ranking.provenance.edition)
            pub: RankingPublished | None = pub_event.payload if pub_event is not None else None
            d, note = None, ""
            if pub is None:
                note = "Bảng xếp hạng này chưa được công bố."
            elif published:
                note = "Trang này hiển thị đúng kết quả đã công bố."
            else:
                old = replay(app, year, tier, as_of=AsOf(kind="seq", seq=pub.checkpoint_size))
                lo, hi = sorted((old.seq, r.seq))
                between = list(app.store.read(lo + 1, hi + 1)) if hi > lo else []
                d = diff_rankings(old.ranking, r.ranking, between, old_scores=old.scores,
                                  new_scores=r.scores)
                self.changed[tier] = {c.unit_id for c in d.changes}
            self.tiers.append(TierPage(
                tier=tier, replay=r, methodology=entry.methodology,
                edition_hash=entry.content_hash, publication=pub,
                publication_seq=pub_event.seq if pub_event is not None else None,
                diff=d, note=note))
            for uid in [x.unit_id for x in r.ranking.rows] + [x.unit_id for x in r.ranking.excluded]:
                self.page_of[uid] = f"units/{unit_slug(uid)}.html"
        if not self.tiers:
            what = "published ranking" if published else "tier with an adopted edition"
            raise UsageError(f"{year} has no {what} as of {as_of.describe()}: nothing to build")

    # -- helpers -------------------------------------------------------------------------------

    def checkpoint(self) -> tuple[int, str]:
        best = max(self.tiers, key=lambda t: t.replay.ranking.provenance.checkpoint_size or 0)
        p = best.replay.ranking.provenance
        return p.checkpoint_size or 0, p.checkpoint_root or ""

    def cmd(self, args: str) -> str:
        return f"ictindex --db {self.db_name} {args}"

    def unit_link(self, uid: str, root: str, *, anchor: str = "") -> str:
        name = self.names.get(uid, uid)
        path = self.page_of.get(uid)
        if path is None:
            return f"{e(name)} <span class=\"unit-id\">({e(uid)})</span>"
        return (f"<a href=\"{e(root + path + anchor)}\">{e(name)}</a> "
                f"<span class=\"unit-id\">({e(uid)})</span>")

    def parent_name(self, parent_id: str | None) -> str:
        if not parent_id:
            return ""
        return self.names.get(parent_id, parent_id)

    def band_class(self, m: Methodology, band: str | None) -> str:
        for i, b in enumerate(m.grading):
            if b.name_vi == band:
                return f"band-{min(i, 3)}"
        return "band-none"

    def band_html(self, m: Methodology, band: str | None) -> str:
        if band is None:
            return ""
        return f"<span class=\"band {self.band_class(m, band)}\">{e(band)}</span>"

    def page(self, *, title: str, body: str, root: str, current: str) -> str:
        size, rt = self.checkpoint()
        footer = (
            f"<p>Tạo bởi ictindex {e(ENGINE_VERSION)} từ sổ sự kiện tại điểm kiểm chứng "
            f"<span class=\"hash\">{size}:{e(rt[:16])}…</span>, tính đến: "
            f"{e(self.as_of_text())}. Mọi con số trên trang này được tính lại từ sổ sự kiện; "
            f"xem <a href=\"{root}verify.html\">cách kiểm chứng</a>.</p>")
        cur = {k: "" for k in ("index", "changes", "verify")}
        if current in cur:
            cur[current] = ' aria-current="page"'
        return self.layout.substitute(
            title=e(title), body=body, root=root, footer=footer, version=e(ENGINE_VERSION),
            site_title=e(f"Chỉ số ICT năm {self.year}"),
            current_index=cur["index"], current_changes=cur["changes"],
            current_verify=cur["verify"])

    def as_of_text(self) -> str:
        k = self.as_of.kind
        if k == "now":
            return "hiện tại (toàn bộ sổ sự kiện)"
        if k == "published":
            return "thời điểm công bố"
        if k == "seq":
            return f"sự kiện #{self.as_of.seq}"
        return _when(self.as_of.time)

    # -- charts --------------------------------------------------------------------------------

    def bar_chart(self, tp: TierPage, root: str) -> str:
        ranking = tp.replay.ranking
        m = tp.methodology
        rows = ranking.rows
        dec = ranking.decimals
        scale = ranking.scale
        label_w, bar_w, value_w, row_h, top = 330, 390, 70, 20, 24
        width = label_w + bar_w + value_w
        height = top + row_h * len(rows) + 8
        out = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" "
               f"role=\"img\" aria-labelledby=\"chart-{tp.tier}-title\">",
               f"<title id=\"chart-{tp.tier}-title\">{e(TIER_VI.get(tp.tier, tp.tier))}: "
               f"tổng điểm của {len(rows)} đơn vị (thang {e(_scale_text(scale))})</title>"]
        for value in _ticks(scale):
            x = label_w + bar_w * float(value / scale) if scale else label_w
            out.append(f"<line class=\"grid\" x1=\"{x:.1f}\" y1=\"{top - 6}\" x2=\"{x:.1f}\" "
                       f"y2=\"{height - 4}\"/>")
            tick = _scale_text(value)
            out.append(f"<text x=\"{x:.1f}\" y=\"{top - 10}\" font-size=\"11\" "
                       f"text-anchor=\"middle\">{e(tick)}</text>")
        for i, r in enumerate(rows):
            y = top + i * row_h
            share = (r.total / scale) if scale else Decimal(0)
            share = min(max(share, Decimal(0)), Decimal(1))
            w = float(share) * bar_w
            label = f"{r.rank}. {r.name}"
            short = label if len(label) <= 44 else label[:43] + "…"
            tooltip = f"{r.rank}. {r.name} ({r.unit_id}): {num(r.total, dec)}"
            if r.band:
                tooltip += f" — {r.band}"
            href = root + self.page_of[r.unit_id]
            out.append(f"<a href=\"{e(href)}\"><title>{e(tooltip)}</title>")
            out.append(f"<text x=\"{label_w - 8}\" y=\"{y + 14}\" font-size=\"13\" "
                       f"text-anchor=\"end\">{e(short)}</text>")
            out.append(f"<rect class=\"track\" x=\"{label_w}\" y=\"{y + 3}\" width=\"{bar_w}\" "
                       f"height=\"{row_h - 6}\"/>")
            out.append(f"<rect class=\"bar-{self.band_class(m, r.band)[5:]}\" x=\"{label_w}\" "
                       f"y=\"{y + 3}\" width=\"{w:.1f}\" height=\"{row_h - 6}\"/>")
            out.append(f"<text x=\"{label_w + bar_w + 6}\" y=\"{y + 14}\" font-size=\"13\">"
                       f"{e(num(r.total, dec))}</text></a>")
        out.append("</svg>")
        legend = ""
        if m.grading:
            items = []
            for i, b in enumerate(m.grading):
                lo = _q(b.min_share * scale, dec)
                items.append(f"<li><span class=\"band band-{min(i, 3)}\">{e(b.name_vi)}</span> "
                             f"từ {e(num(lo, dec))} điểm</li>")
            legend = f"<ul class=\"legend\">{''.join(items)}</ul>"
        return (f"<figure class=\"chart\">{''.join(out)}<figcaption>Tổng điểm, xếp theo thứ hạng; "
                f"màu theo xếp loại. Chọn một đơn vị để xem cách tính điểm.</figcaption>"
                f"{legend}</figure>")

    def component_chart(self, x: Explanation) -> str:
        comps = x.components
        label_w, bar_w, value_w, row_h = 250, 330, 110, 22
        width = label_w + bar_w + value_w
        height = row_h * len(comps) + 6
        out = [f"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" "
               f"role=\"img\" aria-labelledby=\"comp-chart-title\">",
               "<title id=\"comp-chart-title\">Điểm từng thành phần so với điểm tối đa</title>"]
        for i, c in enumerate(comps):
            y = i * row_h
            share = (c.points / c.max) if c.max else Decimal(0)
            share = min(max(share, Decimal(0)), Decimal(1))
            label = f"{c.code} {c.name_vi}"
            short = label if len(label) <= 33 else label[:32] + "…"
            out.append(f"<a href=\"#c-{e(c.code)}\"><title>{e(label)}: {e(num(c.points, x.decimals))}"
                       f" / {e(_scale_text(c.max))}</title>")
            out.append(f"<text x=\"{label_w - 8}\" y=\"{y + 15}\" font-size=\"13\" "
                       f"text-anchor=\"end\">{e(short)}</text>")
            out.append(f"<rect class=\"track\" x=\"{label_w}\" y=\"{y + 4}\" width=\"{bar_w}\" "
                       f"height=\"{row_h - 8}\"/>")
            out.append(f"<rect class=\"bar-1\" x=\"{label_w}\" y=\"{y + 4}\" "
                       f"width=\"{float(share) * bar_w:.1f}\" height=\"{row_h - 8}\"/>")
            out.append(f"<text x=\"{label_w + bar_w + 6}\" y=\"{y + 15}\" font-size=\"13\">"
                       f"{e(num(c.points, x.decimals))} / {e(_scale_text(c.max))}</text></a>")
        out.append("</svg>")
        return f"<figure class=\"chart\">{''.join(out)}</figure>"

    # -- pages ---------------------------------------------------------------------------------

    def index(self) -> str:
        root = ""
        size, rt = self.checkpoint()
        parts = [f"<h1>Kết quả đánh giá, xếp hạng mức độ ứng dụng công nghệ thông tin năm "
                 f"{self.year}</h1>",
                 f"<p class=\"lede\">Tính đến: {e(self.as_of_text())} · điểm kiểm chứng sổ sự "
                 f"kiện <a class=\"hash\" href=\"verify.html\">{size}:{e(rt[:16])}…</a></p>"]
        if len(self.tiers) > 1:
            parts.append("<ul class=\"toc\" aria-label=\"Các khối\">" + "".join(
                f"<li><a href=\"#tier-{t.tier}\">{e(TIER_VI.get(t.tier, t.tier))}</a></li>"
                for t in self.tiers) + "</ul>")
        for tp in self.tiers:
            parts.append(self.tier_section(tp, root))
        return self.page(title=f"Chỉ số ICT năm {self.year} — bảng xếp hạng", body="\n".join(parts),
                         root=root, current="index")

    def tier_section(self, tp: TierPage, root: str) -> str:
        r = tp.replay.ranking
        m = tp.methodology
        tier_def = m.tiers[tp.tier]
        dec = r.decimals
        p = r.provenance
        out = [f"<section id=\"tier-{tp.tier}\">",
               f"<h2>{e(TIER_VI.get(tp.tier, tp.tier))} ({len(r.rows)} đơn vị)</h2>",
               f"<p class=\"muted\">{e(m.title)}<br>Bộ tiêu chí <code>{e(p.edition)}</code>, "
               f"thang điểm {e(_scale_text(r.scale))}; mã băm nội dung "
               f"<span class=\"hash\">{e(p.content_hash[:16])}…</span></p>"]
        if tp.publication is not None:
            pub = tp.publication
            out.append(f"<p>Đã công bố theo Quyết định {e(pub.decision)}"
                       + (f" ngày {pub.date.strftime('%d/%m/%Y')}" if pub.date else "")
                       + f" (sự kiện #{tp.publication_seq}). ")
            if tp.diff is not None and tp.diff.changes:
                out.append(f"Từ khi công bố đến nay, {len(tp.diff.changes)} đơn vị thay đổi điểm "
                           f"hoặc thứ hạng: <a href=\"changes.html#tier-{tp.tier}\">xem thay đổi "
                           f"và lý do</a>.")
            elif tp.diff is not None:
                out.append("Từ khi công bố đến nay, không đơn vị nào thay đổi điểm hay thứ hạng.")
            out.append("</p>")
        else:
            out.append(f"<p>{e(tp.note)}</p>")
        out.append(self.bar_chart(tp, root))
        has_parent = any(row.parent_id for row in r.rows)
        head = ["<th scope=\"col\" class=\"num\">Hạng</th>", "<th scope=\"col\">Đơn vị</th>"]
        if has_parent:
            head.append("<th scope=\"col\">Trực thuộc</th>")
        if r.group_by:
            head.append("<th scope=\"col\">Nhóm</th>")
        for c in tier_def.components:
            head.append(f"<th scope=\"col\" class=\"num\"><abbr title=\"{e(c.name_vi)} (tối đa "
                        f"{e(_scale_text(c.max))})\">{e(c.code)}</abbr></th>")
        head.append(f"<th scope=\"col\" class=\"num\">Tổng ({e(_scale_text(r.scale))})</th>")
        head.append("<th scope=\"col\">Xếp loại</th>")
        body = []
        for row in r.rows:
            cells = [f"<td class=\"num\">{row.rank}</td>", f"<td>{self.unit_link(row.unit_id, root)}</td>"]
            if has_parent:
                cells.append(f"<td>{e(self.parent_name(row.parent_id))}</td>")
            if r.group_by:
                cells.append(f"<td>{e(row.group or '')}</td>")
            for c in tier_def.components:
                cells.append(f"<td class=\"num\">{e(num(row.components.get(c.code), dec))}</td>")
            cells.append(f"<td class=\"num\"><strong>{e(num(row.total, dec))}</strong></td>")
            cells.append(f"<td>{self.band_html(m, row.band)}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        out.append("<div class=\"table-wrap\"><table><caption class=\"muted\">Điểm từng thành "
                   "phần và tổng điểm. "
                   + " · ".join(f"{e(c.code)}: {e(c.name_vi)}" for c in tier_def.components)
                   + f"</caption><thead><tr>{''.join(head)}</tr></thead>"
                   f"<tbody>{''.join(body)}</tbody></table></div>")
        if self.robustness:
            out.append(f"<p><a href=\"{root}robustness.html#tier-{tp.tier}\">Độ vững của thứ "
                       f"hạng</a>: khoảng thứ hạng của mỗi đơn vị khi trọng số thay đổi.</p>")
        if r.excluded:
            out.append("<h3>Không xếp hạng</h3><ul>" + "".join(
                f"<li>{self.unit_link(x.unit_id, root)}: {e(x.reason)}</li>" for x in r.excluded)
                + "</ul>")
        out.append("</section>")
        return "\n".join(out)

    def unit_page(self, tp: TierPage, uid: str) -> str:
        root = "../"
        r = tp.replay
        x = explain_unit(r.scores, uid, ranking=r.ranking, provenance=r.ranking.provenance)
        m = tp.methodology
        dec = x.decimals
        tier_name = TIER_VI.get(tp.tier, tp.tier)
        parts = [f"<p class=\"breadcrumb\"><a href=\"../index.html\">Bảng xếp hạng</a> › "
                 f"<a href=\"../index.html#tier-{tp.tier}\">{e(tier_name)}</a></p>",
                 f"<h1>{e(x.name)} <span class=\"unit-id\">({e(uid)})</span></h1>"]
        sub = [f"{e(tier_name)}, năm {x.year}"]
        if x.parent_id:
            sub.append(f"trực thuộc {self.unit_link(x.parent_id, root)}")
        parts.append(f"<p class=\"lede\">{', '.join(sub)}</p>")
        n = len(r.ranking.rows)
        if x.excluded is not None:
            parts.append(f"<div class=\"card notice\"><p><strong>Không xếp hạng:</strong> "
                         f"{e(x.excluded)}</p></div>")
        else:
            parts.append(
                "<dl class=\"summary\">"
                f"<div><dt>Tổng điểm</dt><dd>{e(num(x.total, dec))} "
                f"<span class=\"muted\">/ {e(_scale_text(x.scale))}</span></dd></div>"
                f"<div><dt>Thứ hạng</dt><dd>{x.rank if x.rank is not None else '—'} "
                f"<span class=\"muted\">/ {n}</span></dd></div>"
                + (f"<div><dt>Xếp loại</dt><dd>{self.band_html(m, x.band)}</dd></div>" if x.band else "")
                + "</dl>")
        if tp.diff is not None and uid in self.changed.get(tp.tier, ()):
            ch = next(c for c in tp.diff.changes if c.unit_id == uid)
            parts.append(
                f"<div class=\"card notice\"><p><strong>Đã thay đổi sau khi công bố:</strong> "
                f"hạng {ch.old_rank or '—'} → {ch.new_rank or '—'}, tổng điểm "
                f"{e(num(ch.old_total, dec))} → {e(num(ch.new_total, dec))}. "
                f"<a href=\"../changes.html#u-{e(unit_slug(uid))}\">Xem lý do</a></p></div>")
        if x.excluded is None:
            how = "trung bình cộng các thành phần" if x.aggregate == "mean" else "tổng điểm các thành phần"
            where = ("điểm từng tiêu chí được làm tròn trước khi cộng"
                     if x.rounding_applies_to == "criterion" else "chỉ làm tròn điểm công bố")
            parts.append(f"<p class=\"muted\">Tổng điểm = {how}; {where} ({e(x.rounding_mode)}, "
                         f"{dec} chữ số thập phân). Bộ tiêu chí <code>{e(x.edition)}</code>: "
                         f"{e(x.edition_title)}.</p>")
            parts.append(self.component_chart(x))
            for c in x.components:
                parts.append(self.component_html(c, x))
        parts.append(self.unit_verify(tp, x))
        return self.page(title=f"{x.name} — Chỉ số ICT năm {x.year}", body="\n".join(parts),
                         root=root, current="")

    def component_html(self, c, x: Explanation) -> str:
        dec = x.decimals
        head = (f"<h2><span>{e(c.code)} {e(c.name_vi)}</span> <span class=\"points\">"
                f"{e(num(c.points, dec))} / {e(_scale_text(c.max))}</span></h2>")
        out = [f"<section class=\"component\" id=\"c-{e(c.code)}\">", head]
        if c.capped:
            out.append(f"<p class=\"muted\">Các tiêu chí cộng lại {e(num(c.sum, dec))} điểm, "
                       f"vượt mức tối đa nên tính {e(_scale_text(c.max))}.</p>")
        for k in c.criteria:
            out.append(f"<div class=\"criterion\" id=\"k-{e(k.code)}\">")
            out.append(f"<h3><span>{e(k.code)} {e(k.name_vi)}</span> <span class=\"points\">"
                       f"{e(num(k.points, dec))} / {e(_scale_text(k.max))}</span></h3>")
            facts = [f"<dt>Quy tắc</dt><dd><code>{e(k.rule)}</code></dd>",
                     f"<dt>Cách tính</dt><dd><code class=\"formula\">{e(k.formula)}</code></dd>"]
            if k.points_exact != k.points or k.rounded:
                facts.append(f"<dt>Điểm chưa làm tròn</dt><dd>{e(format(k.points_exact, 'f'))}</dd>")
            if k.peers:
                facts.append("<dt>So với</dt><dd>" + ", ".join(
                    f"{e(name)}: {e(_value(v))}" for name, v in k.peers.items()) + "</dd>")
            if k.missing:
                policy = POLICY_VI.get(k.missing_policy or "", k.missing_policy or "")
                facts.append(f"<dt>Thiếu số liệu</dt><dd class=\"missing\">{e(policy)} — "
                             f"{e(k.missing)}</dd>")
            out.append(f"<dl class=\"facts\">{''.join(facts)}</dl>")
            if k.inputs:
                out.append("<ul class=\"inputs\">")
                for inp in k.inputs:
                    out.append(self.input_html(inp))
                out.append("</ul>")
            out.append("</div>")
        out.append("</section>")
        return "\n".join(out)

    def input_html(self, inp) -> str:
        val = _value(inp.value)
        if inp.unit and inp.value is not None and not isinstance(inp.value, bool):
            val += f" {inp.unit}"
        status = ""
        if inp.status == "missing":
            status = " <span class=\"missing\">(thiếu số liệu)</span>"
        elif inp.status == "carried":
            status = f" <span class=\"muted\">(lấy từ năm {inp.from_year})</span>"
        name = f" — {e(inp.name_vi)}" if inp.name_vi else ""
        events = "".join(f"<li>{self.event_ref_html(ev)}</li>" for ev in inp.events)
        return (f"<li><code>{e(inp.indicator)}</code>{name}: <strong>{e(val)}</strong>{status}"
                + (f"<ol class=\"events\">{events}</ol>" if events else "") + "</li>")

    def event_ref_html(self, ev: EventRef) -> str:
        parts = [f"<strong>#{ev.seq}</strong> {e(KIND_VI.get(ev.kind, ev.kind))}"]
        if ev.kind != "retracted" and ev.value is not None:
            parts.append(f"giá trị <strong>{e(_value(ev.value))}</strong>")
        parts.append(f"bởi {e(ev.actor)}, {e(_when(ev.recorded_at))}")
        text = ", ".join(parts)
        extra = []
        if ev.evidence:
            extra.append(f"Căn cứ: {e(ev.evidence)}")
        if ev.reason:
            extra.append(f"Lý do: {e(ev.reason)}")
        if ev.authority:
            extra.append(f"Văn bản chấp thuận: {e(ev.authority)}")
        if ev.note:
            extra.append(f"Ghi chú: {e(ev.note)}")
        if ev.target:
            extra.append(f"{'Đính chính' if ev.kind == 'corrected' else 'Rút lại'} sự kiện "
                         f"<span class=\"hash\">{e(ev.target[:12])}…</span>")
        status = (f" <span class=\"status-{e(ev.status)}\">[{e(STATUS_VI.get(ev.status, ev.status))}]"
                  "</span>")
        return text + status + ("<br>" + " · ".join(extra) if extra else "")

    def unit_verify(self, tp: TierPage, x: Explanation) -> str:
        p = x.provenance
        as_of = self.as_of.describe().replace("seq ", "")
        if self.as_of.kind == "time":
            as_of = self.as_of.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        cmds = [self.cmd(f"explain {_shell(x.unit_id)} --year {x.year} --as-of {as_of}")]
        pub = tp.publication
        seq = None
        if pub is not None:
            for comp in x.components:
                for k in comp.criteria:
                    for inp in k.inputs:
                        for ev in inp.events:
                            if ev.seq <= pub.checkpoint_size and (seq is None or ev.seq < seq):
                                seq = ev.seq
            if seq is not None:
                cmds.append(self.cmd(f"prove {seq} --checkpoint {pub.checkpoint_size}:"
                                     f"{pub.checkpoint_root}"))
        text = ("<h2 id=\"kiem-chung\">Kiểm chứng</h2><p>Ai có bản sao sổ sự kiện đều có thể tính "
                "lại điểm của đơn vị này:</p>")
        if seq is not None:
            text = ("<h2 id=\"kiem-chung\">Kiểm chứng</h2><p>Ai có bản sao sổ sự kiện đều có thể "
                    "tính lại điểm của đơn vị này; lệnh thứ hai chứng minh số liệu "
                    f"#{seq} của đơn vị nằm trong điểm kiểm chứng đã công bố:</p>")
        facts = ""
        if p is not None:
            facts = (f"<dl class=\"facts\"><dt>Bộ tiêu chí</dt><dd><code>{e(p.edition)}</code>, "
                     f"mã băm <span class=\"hash\">{e(p.content_hash)}</span></dd>"
                     f"<dt>Điểm kiểm chứng</dt><dd class=\"hash\">{p.checkpoint_size}:"
                     f"{e(p.checkpoint_root or '')}</dd></dl>")
        return text + "".join(f"<pre class=\"cmd\">{e(c)}</pre>" for c in cmds) + facts

    def changes(self) -> str:
        root = ""
        parts = ["<h1>Thay đổi sau khi công bố, và lý do</h1>",
                 f"<p class=\"lede\">So sánh bảng xếp hạng đã công bố với kết quả tính đến "
                 f"{e(self.as_of_text())}. Mỗi thay đổi nêu các sự kiện (đính chính, rút lại, "
                 f"nộp bổ sung) đã gây ra nó.</p>"]
        for tp in self.tiers:
            tier_name = TIER_VI.get(tp.tier, tp.tier)
            parts.append(f"<section id=\"tier-{tp.tier}\"><h2>{e(tier_name)}</h2>")
            d = tp.diff
            if d is None:
                parts.append(f"<p>{e(tp.note)}</p></section>")
                continue
            pub = tp.publication
            parts.append(
                f"<p>Công bố theo Quyết định {e(pub.decision)} (sự kiện #{tp.publication_seq}, "
                f"điểm kiểm chứng <span class=\"hash\">{pub.checkpoint_size}:"
                f"{e(pub.checkpoint_root[:16])}…</span>). Từ đó đến nay: {d.events_between} sự "
                f"kiện của năm {d.year}; {len(d.changes)} đơn vị thay đổi, {d.unchanged} đơn vị "
                f"giữ nguyên.</p>")
            if not d.changes:
                parts.append("<p>Không đơn vị nào thay đổi điểm hay thứ hạng.</p></section>")
                continue
            dec = tp.replay.ranking.decimals
            comp_names = {c.code: c.name_vi for c in tp.methodology.tiers[tp.tier].components}
            ind_names = {i.code: i.name_vi for i in tp.methodology.indicators}
            for c in d.changes:
                parts.append(self.change_html(c, dec, comp_names, ind_names, root))
            parts.append("</section>")
        return self.page(title=f"Thay đổi sau công bố — Chỉ số ICT năm {self.year}",
                         body="\n".join(parts), root=root, current="changes")

    def change_html(self, c, dec: int, comp_names: dict, ind_names: dict, root: str) -> str:
        delta = ""
        if c.delta is not None and c.delta != 0:
            cls = "delta-up" if c.delta > 0 else "delta-down"
            delta = (f" <span class=\"{cls}\">({'+' if c.delta > 0 else ''}"
                     f"{e(num(c.delta, dec))})</span>")
        out = [f"<article class=\"change\" id=\"u-{e(unit_slug(c.unit_id))}\">",
               f"<h3>{self.unit_link(c.unit_id, root)}</h3>",
               f"<p>Hạng <strong>{c.old_rank or '—'} → {c.new_rank or '—'}</strong> · tổng điểm "
               f"<strong>{e(num(c.old_total, dec))} → {e(num(c.new_total, dec))}</strong>{delta}</p>",
               "<p>Vì: " + "; ".join(e(CAUSE_VI.get(x, x)) for x in c.causes) + "</p>"]
        if c.components or c.criteria:
            rows = [f"<tr><td>{e(k.code)} {e(comp_names.get(k.code, ''))}</td>"
                    f"<td class=\"num\">{e(num(k.old, dec))}</td>"
                    f"<td class=\"num\">{e(num(k.new, dec))}</td><td></td></tr>" for k in c.components]
            rows += [f"<tr><td>&nbsp;&nbsp;tiêu chí {e(k.code)}</td>"
                     f"<td class=\"num\">{e(num(k.old, dec + 2))}</td>"
                     f"<td class=\"num\">{e(num(k.new, dec + 2))}</td>"
                     f"<td>{e(CAUSE_VI.get(k.moved_by, k.moved_by))}</td></tr>" for k in c.criteria]
            out.append("<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Thành phần, "
                       "tiêu chí</th><th scope=\"col\" class=\"num\">Đã công bố</th>"
                       "<th scope=\"col\" class=\"num\">Hiện tại</th><th scope=\"col\">Vì</th>"
                       f"</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
        if c.events:
            out.append("<p>Sự kiện:</p><ol class=\"events\">" + "".join(
                f"<li>{self.change_event_html(ev, ind_names)}</li>" for ev in c.events) + "</ol>")
        out.append("</article>")
        return "\n".join(out)

    def change_event_html(self, ev: ChangeEvent, ind_names: dict) -> str:
        s = (f"<strong>#{ev.seq}</strong> {e(KIND_VI.get(ev.kind, ev.kind))} bởi {e(ev.actor)}, "
             f"{e(_when(ev.recorded_at))}")
        if ev.indicator is not None:
            s += f": <code>{e(ev.indicator)}</code>"
            if ev.indicator in ind_names:
                s += f" ({e(ind_names[ev.indicator])})"
            if ev.kind != "retracted":
                s += f" = <strong>{e(_value(ev.value))}</strong>"
        if ev.edition is not None:
            s += f": <code>{e(ev.edition)}</code>"
        if not ev.read:
            s += " <span class=\"muted\">[chỉ tiêu không tính điểm]</span>"
        extra = []
        if ev.target:
            extra.append(f"{'Đính chính' if ev.kind == 'corrected' else 'Rút lại'} sự kiện "
                         f"<span class=\"hash\">{e(ev.target[:12])}…</span>")
        if ev.evidence:
            extra.append(f"Căn cứ: {e(ev.evidence)}")
        if ev.reason:
            extra.append(f"Lý do: {e(ev.reason)}")
        if ev.authority:
            extra.append(f"Văn bản chấp thuận: {e(ev.authority)}")
        return s + ("<br>" + " · ".join(extra) if extra else "")

    def verify(self) -> str:
        size, rt = self.checkpoint()
        parts = ["<h1>Kiểm chứng</h1>",
                 "<p class=\"lede\">Mọi con số trên trang này được tính lại từ một sổ sự kiện chỉ "
                 "ghi thêm, không sửa, không xoá. Mỗi sự kiện là một lá của cây Merkle; "
                 "<em>điểm kiểm chứng</em> (số sự kiện và mã băm gốc) xác định toàn bộ nội dung "
                 "sổ đến thời điểm đó. Ai có bản sao sổ và điểm kiểm chứng đã công bố đều kiểm tra "
                 "được rằng sổ không bị sửa và kết quả được tính đúng.</p>",
                 "<h2 id=\"checkpoint\">Điểm kiểm chứng của trang này</h2>",
                 f"<p class=\"hash\"><strong>{size}:{e(rt)}</strong></p>",
                 "<p>Lệnh kiểm tra sổ sự kiện vẫn chứa nguyên vẹn điểm kiểm chứng này, tính lại "
                 "mọi mã băm và mọi kết quả đã công bố:</p>",
                 f"<pre class=\"cmd\">{e(self.cmd(f'verify --checkpoint {size}:{rt}'))}</pre>"]
        rows = []
        for tp in self.tiers:
            p = tp.replay.ranking.provenance
            rows.append(f"<tr><td>{e(TIER_VI.get(tp.tier, tp.tier))}</td><td><code>{e(p.edition)}"
                        f"</code></td><td class=\"hash\">{e(p.content_hash)}</td>"
                        f"<td class=\"hash\">{p.checkpoint_size}:{e(p.checkpoint_root or '')}</td></tr>")
        parts.append("<h2 id=\"tiers\">Từng khối</h2><div class=\"table-wrap\"><table><thead><tr>"
                     "<th scope=\"col\">Khối</th><th scope=\"col\">Bộ tiêu chí</th>"
                     "<th scope=\"col\">Mã băm bộ tiêu chí</th><th scope=\"col\">Điểm kiểm chứng"
                     f"</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>")
        pubs = [tp for tp in self.tiers if tp.publication is not None]
        if pubs:
            parts.append("<h2 id=\"publications\">Các kết quả đã công bố</h2>")
            for tp in pubs:
                pub = tp.publication
                cp = f"{pub.checkpoint_size}:{pub.checkpoint_root}"
                parts.append(
                    f"<h3 id=\"pub-{tp.tier}\">{e(TIER_VI.get(tp.tier, tp.tier))} — Quyết định "
                    f"{e(pub.decision)}</h3>"
                    f"<dl class=\"facts\"><dt>Sự kiện công bố</dt><dd>#{tp.publication_seq}</dd>"
                    f"<dt>Điểm kiểm chứng</dt><dd class=\"hash\">{e(cp)}</dd>"
                    f"<dt>Mã băm kết quả</dt><dd class=\"hash\">{e(pub.result_hash)}</dd></dl>"
                    "<p>Sổ vẫn chứa nguyên vẹn điểm kiểm chứng đã công bố:</p>"
                    f"<pre class=\"cmd\">{e(self.cmd(f'verify --checkpoint {cp}'))}</pre>"
                    "<p>Tính lại bảng xếp hạng đã công bố:</p>"
                    f"<pre class=\"cmd\">{e(self.cmd(f'rank --year {self.year} --tier {tp.tier} --as-of published'))}</pre>"
                    "<p>Một đơn vị kiểm tra số liệu của mình (sự kiện số SEQ) nằm trong điểm "
                    "kiểm chứng đã công bố:</p>"
                    f"<pre class=\"cmd\">{e(self.cmd(f'prove SEQ --checkpoint {cp}'))}</pre>")
        parts.append("<p class=\"muted\">Trang này được tạo bởi lệnh:</p>"
                     f"<pre class=\"cmd\">{e(self.cmd(self.build_command()))}</pre>")
        return self.page(title=f"Kiểm chứng — Chỉ số ICT năm {self.year}", body="\n".join(parts),
                         root="", current="verify")

    def build_command(self) -> str:
        as_of = ""
        if self.as_of.kind == "published":
            as_of = " --as-of published"
        elif self.as_of.kind == "seq":
            as_of = f" --as-of {self.as_of.seq}"
        elif self.as_of.kind == "time":
            as_of = f" --as-of {self.as_of.time.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        return f"site --year {self.year}{as_of} --out DIR"


def _shell(s: str) -> str:
    import shlex

    return shlex.quote(s)


def _db_name(app: "Ictindex") -> str:
    return app.store.name


def _robustness_page(site: _Site, samples: int, seed: int) -> str:
    from plugins.analysis import robustness
    from plugins.site.robustness_page import WEIGHTS, robustness_body

    results = [robustness(site.app, site.year, tp.tier, samples=samples, seed=seed,
                          vary=(WEIGHTS,), as_of=site.as_of) for tp in site.tiers]
    as_of = site.as_of
    cli_as_of = str(as_of.seq) if as_of.kind == "seq" else (
        as_of.describe()[5:] if as_of.kind == "time" else as_of.kind)
    body = robustness_body(site, results, site.db_name, _shell(cli_as_of))
    return site.page(title=f"Chỉ số ICT năm {site.year} — độ vững của thứ hạng", body=body,
                     root="", current="robustness")


def build_site(app: "Ictindex", year: int, out: str | Path, *, as_of: AsOf | str | None = None,
               db_name: str | None = None, show_progress: bool | None = None,
               robustness_samples: int = 0, robustness_seed: int = 1) -> SiteResult:
    """Write the site of `year` (as of `as_of`, default now) under the folder `out`; with
    `robustness_samples`, also the robustness page (`plugins.site.robustness_page`)."""
    if isinstance(as_of, str):
        as_of = parse_as_of(as_of)
    as_of = as_of or AsOf(kind="now")
    site = _Site(app, year, as_of, _shell(Path(db_name).name if db_name else _db_name(app)))
    site.gather()
    site.robustness = robustness_samples > 0
    units: list[tuple[TierPage, str]] = []
    for tp in site.tiers:
        r = tp.replay.ranking
        units.extend((tp, uid) for uid in [x.unit_id for x in r.rows] + [x.unit_id for x in r.excluded])
    out = Path(out)
    files: dict[str, bytes] = {}
    with progress.bar(len(units) + 3, label="Building site", force=show_progress) as bar:
        files["index.html"] = site.index().encode("utf-8")
        bar.update(1)
        files["changes.html"] = site.changes().encode("utf-8")
        bar.update(1)
        files["verify.html"] = site.verify().encode("utf-8")
        bar.update(1)
        if robustness_samples > 0:
            files["robustness.html"] = _robustness_page(site, robustness_samples,
                                                        robustness_seed).encode("utf-8")
        for tp, uid in units:
            files[site.page_of[uid]] = site.unit_page(tp, uid).encode("utf-8")
            bar.update(1)
    files["assets/site.css"] = _read_bytes("static", "site.css")
    files["assets/favicon.svg"] = _read_bytes("static", "favicon.svg")
    # Every page before the index, each written whole: a failure part-way leaves the previous
    # index (whose pages are all still there) or the new one with all of its pages.
    for rel in sorted(files, key=lambda rel: rel == "index.html"):
        path = out.joinpath(*PurePosixPath(rel).parts)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(file_problem(path.parent, err, "create the folder")) from None
        write_atomic(path, files[rel])
    size, rt = site.checkpoint()
    pages = tuple(k for k in files if k.endswith(".html"))
    return SiteResult(out=out, pages=pages, tiers=tuple(t.tier for t in site.tiers),
                      checkpoint=f"{size}:{rt}", units=len(units))
