"""The rank-interval chart of a robustness run, as a stand-alone SVG (no script, no fonts to
fetch): one row per unit in published order, a bar from its 5 % to its 95 % rank, a tick at
the median and a dot at the published rank.  Same result → same bytes.  The geometry is
worked out here; the markup is the template ictindex/site/templates/rank_interval.svg."""

from __future__ import annotations

from typing import Any

from engine.robustness import Robustness
from ictindex.site.templating import environment

_ROW = 12
_LEFT = 250
_PLOT = 520
_TOP = 46


def rank_interval_chart(r: Robustness) -> dict[str, Any]:
    """The chart's numbers and labels (plain data)."""
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
            "u": u, "label": f"{u.rank}. {u.name}", "label_y": f"{y + 3:.1f}", "y": f"{y:.1f}",
            "y_lo": f"{y - 4:.1f}", "y_hi": f"{y + 4:.1f}", "interval": interval,
            "x5": x(u.p5) if interval else "", "x95": x(u.p95) if interval else "",
            "xm": x(u.median) if interval else "", "xr": x(u.rank)})
    return {
        "title": (f"{r.tier} {r.year}: rank intervals (5–95 %) over {r.samples} samples, "
                  f"seed {r.seed} — {r.provenance.edition}"),
        "width": _LEFT + _PLOT + 30, "height": bottom + 30,
        "grid_top": _TOP - 6, "grid_bottom": bottom, "tick_y": bottom + 14, "label_x": _LEFT - 8,
        "ticks": [{"x": x(rank), "rank": rank} for rank in sorted({1, worst, *range(10, worst, 10)})],
        "units": rows,
    }


def rank_interval_svg(r: Robustness) -> str:
    return environment().get_template("rank_interval.svg").render(c=rank_interval_chart(r))
