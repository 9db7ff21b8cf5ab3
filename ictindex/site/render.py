"""The site's pages from the gathered data (`ictindex.site.data`): Jinja2 templates
(ictindex/site/templates, autoescape on), with the numbers and words they need worked out here."""

from __future__ import annotations

import re
import shlex
from decimal import Decimal
from typing import Any

import jinja2
from markupsafe import Markup

from engine.model import Methodology
from engine.result import Explanation
from engine.score import NO_DATA
from engine.text import fixed, scale_text, when_text_vi
from ictindex.output import number_text, numbers_in_text
from ictindex.replay import ENGINE_VERSION
from ictindex.site.data import SiteData, TierPage
from ictindex.site.names import unit_slug
from ictindex.site.templating import environment

__all__ = ["FORMULA_TERMS_VI", "PEERS_VI", "TIER_VI", "Renderer", "formula_vi"]

TIER_VI = {"department": "Sở, ban, ngành", "district": "UBND cấp huyện",
           "commune": "UBND cấp xã", "province": "Tỉnh, thành phố"}

KIND_VI = {
    "submitted": "nộp số liệu",
    "corrected": "đính chính",
    "retracted": "rút lại",
    "unit_registered": "đăng ký đơn vị",
    "unit_renamed": "đổi tên đơn vị",
    "unit_retired": "thôi hoạt động (sáp nhập, giải thể)",
    "units_merged": "sáp nhập đơn vị",
    "unit_split": "chia tách đơn vị",
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


# The words of the built-in rule kinds' formulas (`engine.rules`), in Vietnamese; a rule kind
# adds its own with an optional `terms_vi` mapping (docs/methodologies.md, "Writing a rule kind").
FORMULA_TERMS_VI = {
    "yes": "có", "no": "không", "missing": "thiếu số liệu", "input": "chỉ tiêu",
    "base": "điểm nền", "best case:": "trường hợp tốt nhất:",
    "no case holds": "không trường hợp nào đạt", "capped at": "giới hạn ở",
    "assessed": "chấm", "of": "trên", "(best)": "(tốt nhất)",
    "best of the tier is": "giá trị tốt nhất của khối là",
    "is the best possible value": "là giá trị tốt nhất có thể",
    "all units of the tier have": "mọi đơn vị trong khối đều có",
    "against": "so với", "for all others": "của mọi đơn vị khác",
    "no denominator": "không có mẫu số", "standard deviation": "độ lệch chuẩn",
    "informational:": "chỉ để tham khảo:", "not scored": "không tính điểm",
    "clamped to": "giới hạn trong", "in": "thuộc", "not in": "không thuộc",
}


# The names of the peer values relative rules compare with (`Outcome.peers`).
PEERS_VI = {"best": "giá trị tốt nhất", "min": "nhỏ nhất", "max": "lớn nhất",
            "mean": "trung bình", "sd": "độ lệch chuẩn"}


def formula_vi(formula: str, terms: dict[str, str], lang: str = "vi") -> str:
    """A rule's formula with its numbers filled in (`Outcome.formula`), its words in Vietnamese
    (`terms`, longest first; a category in “quotes” is left as written) and its numbers as
    people of `lang` write them."""
    if terms:
        words = sorted(terms, key=len, reverse=True)
        pattern = re.compile("(“[^”]*”)|(?<![\\w“])(" + "|".join(map(re.escape, words)) + ")(?![\\w”])")
        formula = pattern.sub(lambda m: m.group(1) or terms[m.group(2)], formula)
    return numbers_in_text(formula, lang)


def ticks(scale: Decimal) -> list[Decimal]:
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


def _share(part: Decimal, whole: Decimal) -> float:
    share = (part / whole) if whole else Decimal(0)
    return float(min(max(share, Decimal(0)), Decimal(1)))


def _short(label: str, most: int) -> str:
    return label if len(label) <= most else label[:most - 1] + "…"


def _environment(lang: str) -> jinja2.Environment:
    env = environment(lang)
    env.globals.update(tier_vi=TIER_VI, kind_vi=KIND_VI, status_vi=STATUS_VI,
                       cause_vi=CAUSE_VI, policy_vi=POLICY_VI, version=ENGINE_VERSION)
    return env


class Renderer:
    """Renders the pages of one gathered site; the methods are what the templates call."""

    def __init__(self, site: SiteData, lang: str = "vi") -> None:
        self.site = site
        self.lang = lang  # how numbers are written: "vi" 84,03 and 1.250, "en" 84.03 and 1,250
        self.env = _environment(lang)
        self.env.filters["formula"] = self.formula

    def render(self, template: str, *, title: str, root: str, current: str, **context: Any) -> str:
        size, root_hash = self.site.checkpoint()
        return self.env.get_template(template).render(
            site=self.site, view=self, title=title, root=root, current=current, size=size,
            root_hash=root_hash, **context)

    # -- the pages -----------------------------------------------------------------------------

    def index(self) -> str:
        return self.render("index.html", title=f"Chỉ số ICT năm {self.site.year} — bảng xếp hạng",
                           root="", current="index")

    def changes(self) -> str:
        return self.render("changes.html", title=f"Thay đổi sau công bố — Chỉ số ICT năm {self.site.year}",
                           root="", current="changes")

    def verify(self) -> str:
        return self.render("verify.html", title=f"Kiểm chứng — Chỉ số ICT năm {self.site.year}",
                           root="", current="verify")

    def unit_page(self, tp: TierPage, uid: str, x: Explanation, proof: Any = None) -> str:
        """A unit's page; `proof` (ictindex.site.proof.UnitProof) adds its events' proofs."""
        change = None
        if tp.diff is not None and uid in self.site.changed.get(tp.tier, ()):
            change = next(c for c in tp.diff.changes if c.unit_id == uid)
        commands, seq = self.unit_commands(tp, x)
        return self.render("unit.html", title=f"{x.name} — Chỉ số ICT năm {x.year}", root="../",
                           current="", tp=tp, uid=uid, x=x, change=change, commands=commands,
                           proved_seq=seq, proof=proof,
                           lineage=self.site.lineage.get(uid, ()))

    def robustness(self, results: list, charts: list[str], as_of: str, weights: str) -> str:
        """The robustness page: per tier's result its rank-interval chart (SVG text)."""
        return self.render("robustness.html",
                           title=f"Chỉ số ICT năm {self.site.year} — độ vững của thứ hạng",
                           root="", current="robustness", as_of=as_of, weights=weights,
                           sections=[(r, Markup(svg)) for r, svg in zip(results, charts)])

    # -- words and commands --------------------------------------------------------------------

    def as_of_text(self) -> str:
        as_of = self.site.as_of
        if as_of.kind == "now":
            return "hiện tại (toàn bộ sổ sự kiện)"
        if as_of.kind == "published":
            return "thời điểm công bố"
        if as_of.kind == "seq":
            return f"sự kiện #{as_of.seq}"
        return when_text_vi(as_of.time)

    def num(self, d: Decimal | None, decimals: int) -> str:
        return number_text(fixed(d, decimals), self.lang)

    def rule_name(self, rule: str) -> str:
        """A rule kind's Vietnamese name (its optional `name_vi`), else its name."""
        kind = self.site.app.registry.rules.get(rule)
        return getattr(kind, "name_vi", "") or rule

    def rule_formula(self, rule: str) -> str:
        """A rule kind's formula explained in Vietnamese (its optional `formula_vi`), else its
        description."""
        kind = self.site.app.registry.rules.get(rule)
        return getattr(kind, "formula_vi", "") or getattr(kind, "description", "")

    def terms(self, rule: str) -> dict[str, str]:
        """The Vietnamese words of a rule kind's formulas: the built-in ones and its own
        (its optional `terms_vi`)."""
        kind = self.site.app.registry.rules.get(rule)
        return {**FORMULA_TERMS_VI, **(getattr(kind, "terms_vi", None) or {})}

    def formula(self, text: str, rule: str) -> str:
        return formula_vi(text, self.terms(rule), self.lang)

    def peer_name(self, rule: str, name: str) -> str:
        return self.terms(rule).get(name) or PEERS_VI.get(name, name)

    def missing_vi(self, k: Any) -> str:
        """What the missing-data policy did to a criterion's inputs (`CriterionTrace.missing`
        says it in English), from the inputs' statuses."""
        carried = [i for i in k.inputs if i.status == "carried"]
        missing = [i.indicator for i in k.inputs if i.status == "missing"]
        parts = [f"{i.indicator} lấy từ năm {i.from_year}" for i in carried]
        if missing:
            then = {"carry_forward": "thiếu cả năm nay và năm trước: 0 điểm",
                    "exclude_unit": "thiếu: không xếp hạng đơn vị"}.get(k.missing_policy or "",
                                                                      "thiếu: 0 điểm")
            parts.append(f"{', '.join(missing)} {then}")
        return "; ".join(parts)

    def reason_vi(self, reason: str) -> str:
        """Why a unit is not ranked (`engine.score`'s words), in Vietnamese."""
        if reason == NO_DATA:
            return "không có số liệu nào trong năm"
        head = "missing data (policy exclude_unit): "
        if reason.startswith(head):
            return ("thiếu số liệu (quy tắc: thiếu số liệu thì không xếp hạng đơn vị): "
                    + reason[len(head):])
        return reason

    def cmd(self, args: str) -> str:
        return f"ictindex --db {self.site.db_name} {args}"

    def build_command(self) -> str:
        as_of, s = "", self.site
        if s.as_of.kind == "published":
            as_of = " --as-of published"
        elif s.as_of.kind == "seq":
            as_of = f" --as-of {s.as_of.seq}"
        elif s.as_of.kind == "time":
            as_of = f" --as-of {s.as_of.time.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        sign = " --sign KEY" if s.proof is not None and s.proof.signer is not None else ""
        return f"site --year {s.year}{as_of} --out DIR{sign}"

    def unit_commands(self, tp: TierPage, x: Explanation) -> tuple[list[str], int | None]:
        """The commands that recompute a unit's score, and prove its earliest published input
        (that input's seq, or None)."""
        as_of = self.site.as_of.describe().replace("seq ", "")
        if self.site.as_of.kind == "time":
            as_of = self.site.as_of.time.strftime("%Y-%m-%dT%H:%M:%SZ")
        cmds = [self.cmd(f"explain {shlex.quote(x.unit_id)} --year {x.year} --as-of {as_of}")]
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
        return cmds, seq

    def band_class(self, m: Methodology, band: str | None) -> str:
        for i, b in enumerate(m.grading):
            if b.name_vi == band:
                return f"band-{min(i, 3)}"
        return "band-none"

    def slug(self, unit_id: str) -> str:
        return unit_slug(unit_id)

    def names_of(self, items: Any) -> dict[str, str]:
        """Code -> Vietnamese name of components or indicators."""
        return {i.code: i.name_vi for i in items}

    def parent_name(self, parent_id: str | None) -> str:
        if not parent_id:
            return ""
        return self.site.names.get(parent_id, parent_id)

    # -- the charts' geometry ------------------------------------------------------------------

    # Both charts put each row's label on its own line above its bar, and the value as text
    # right of the bar's track: 400 units wide, so that on a 390 px phone the text stays near
    # its written size and nothing is cut off; bars are drawn against the row's maximum.

    def bar_chart(self, tp: TierPage, root: str) -> dict[str, Any]:
        ranking = tp.replay.ranking
        m = tp.methodology
        dec, scale = ranking.decimals, ranking.scale
        bar_w, value_w, row_h, top = 320, 80, 38, 28
        height = top + row_h * len(ranking.rows) + 4
        rows = []
        for i, r in enumerate(ranking.rows):
            y = top + i * row_h
            tooltip = f"{r.rank}. {r.name} ({r.unit_id}): {self.num(r.total, dec)}"
            if r.band:
                tooltip += f" — {r.band}"
            rows.append({"href": root + self.site.page_of[r.unit_id], "tooltip": tooltip,
                         "label": _short(f"{r.rank}. {r.name}", 48), "text_y": y + 14,
                         "bar_y": y + 19, "value_y": y + 31,
                         "w": f"{_share(r.total, scale) * bar_w:.1f}",
                         "band": self.band_class(m, r.band)[5:], "value": self.num(r.total, dec)})
        return {
            "tier": tp.tier, "tier_name": TIER_VI.get(tp.tier, tp.tier),
            "scale": number_text(scale_text(scale), self.lang),
            "width": bar_w + value_w, "height": height,
            "grid_top": top - 6, "grid_bottom": height - 4, "tick_y": top - 12,
            "ticks": [{"x": f"{bar_w * float(v / scale) if scale else 0:.1f}",
                       "anchor": "start" if v == 0 else "middle",
                       "label": number_text(scale_text(v), self.lang)} for v in ticks(scale)],
            "label_x": 0, "bar_x": 0, "bar_w": bar_w, "bar_h": 14,
            "value_x": bar_w + 6, "rows": rows,
            "legend": [{"index": min(i, 3), "name": b.name_vi,
                        "low": self.num(b.min_share * scale, dec)}
                       for i, b in enumerate(m.grading)],
        }

    def component_chart(self, x: Explanation) -> dict[str, Any]:
        bar_w, value_w, row_h = 290, 110, 38
        rows = []
        for i, c in enumerate(x.components):
            y = i * row_h
            label = f"{c.code} {c.name_vi}"
            rows.append({"code": c.code, "label": label, "short": _short(label, 48),
                         "value": f"{self.num(c.points, x.decimals)} / "
                                  f"{number_text(scale_text(c.max), self.lang)}",
                         "text_y": y + 14, "bar_y": y + 19, "value_y": y + 31,
                         "w": f"{_share(c.points, c.max) * bar_w:.1f}"})
        return {"width": bar_w + value_w, "height": row_h * len(x.components) + 4,
                "label_x": 0, "bar_x": 0, "bar_w": bar_w, "bar_h": 14,
                "value_x": bar_w + 6, "rows": rows}
