"""The rank-interval chart of a robustness run, as a stand-alone SVG (no script, no fonts to
fetch): one row per unit in published order, a bar from its 5 % to its 95 % rank, a tick at
the median and a dot at the published rank.  Same result → same bytes.  The geometry is
worked out here; the markup is the template ictindex/site/templates/rank_interval.svg.
In English for `robustness --chart`; the site asks for its Vietnamese words and numbers."""

from __future__ import annotations

from typing import Any

from engine.robustness import Robustness
from ictindex.output import number_text
from ictindex.site.templating import environment

_ROW = 12
_LEFT = 250
_PLOT = 520
_TOP = 46


def _words(r: Robustness, lang: str | None) -> tuple[str, str, Any]:
    """Title, legend and a unit's tooltip: English (`lang` None), else Vietnamese with the
    numbers as `lang` writes them."""
    if lang is None:
        return ((f"{r.tier} {r.year}: rank intervals (5–95 %) over {r.samples} samples, "
                 f"seed {r.seed} — {r.provenance.edition}"),
                "bar: 5–95 % of the sampled ranks; tick: median; dot: published rank",
                lambda u: (f"{u.unit_id}: rank {u.rank}, median {u.median}, 5–95 % {u.p5}–{u.p95}, "
                           f"keeps its rank in {u.keeps} of the samples"))

    def n(v: Any) -> str:
        return "—" if v is None else number_text(v, lang)

    return ((f"{r.tier} {r.year}: khoảng thứ hạng (5–95%) qua {n(r.samples)} mẫu, "
             f"hạt giống {r.seed} — {r.provenance.edition}"),
            "thanh: 5–95% các thứ hạng của mẫu; vạch: trung vị; chấm: thứ hạng công bố",
            lambda u: (f"{u.unit_id}: hạng {u.rank}, trung vị {n(u.median)}, 5–95% {n(u.p5)}–"
                       f"{n(u.p95)}, giữ nguyên thứ hạng ở tỷ lệ {n(u.keeps)} số mẫu"))


def rank_interval_chart(r: Robustness, lang: str | None = None) -> dict[str, Any]:
    """The chart's numbers and labels (plain data); `lang` as for `rank_interval_svg`."""
    title, legend, tooltip = _words(r, lang)
    units = r.units
    worst = max([u.rank for u in units] + [u.p95 or 0 for u in units] + [1])
    bottom = _TOP + _ROW * len(units)

    def x(rank: int) -> str:
        return f"{_LEFT + (rank - 1) * _PLOT / max(1, worst - 1):.1f}" if worst > 1 else f"{_LEFT}"

    rows = []
    for k, u in enumerate(units):
        y = _TOP + _ROW * k + _ROW / 2
        interval = u.p5 is not None and u.p95 is not None and u.median is not None
        rows.append({
            "u": u, "tooltip": tooltip(u), "label": f"{u.rank}. {u.name}", "label_y": f"{y + 3:.1f}", "y": f"{y:.1f}",
            "y_lo": f"{y - 4:.1f}", "y_hi": f"{y + 4:.1f}", "interval": interval,
            "x5": x(u.p5) if interval else "", "x95": x(u.p95) if interval else "",
            "xm": x(u.median) if interval else "", "xr": x(u.rank)})
    return {
        "title": title, "legend": legend,
        "width": _LEFT + _PLOT + 30, "height": bottom + 30,
        "grid_top": _TOP - 6, "grid_bottom": bottom, "tick_y": bottom + 14, "label_x": _LEFT - 8,
        "ticks": [{"x": x(rank), "rank": rank} for rank in sorted({1, worst, *range(10, worst, 10)})],
        "units": rows,
    }


def rank_interval_svg(r: Robustness, lang: str | None = None) -> str:
    """The chart as SVG text: English words (`robustness --chart`), or with `lang` ("vi" or
    "en", how numbers are written) the site's Vietnamese words."""
    return environment().get_template("rank_interval.svg").render(c=rank_interval_chart(r, lang))
