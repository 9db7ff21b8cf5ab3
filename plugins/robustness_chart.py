"""The rank-interval chart of a robustness run, as a stand-alone SVG (no script, no fonts to
fetch): one row per unit in published order, a bar from its 5 % to its 95 % rank, a tick at
the median and a dot at the published rank.  Same result → same bytes."""

from __future__ import annotations

from html import escape

from engine.robustness import Robustness

_ROW = 12
_LEFT = 250
_PLOT = 520
_TOP = 46


def rank_interval_svg(r: Robustness) -> str:
    units = r.units
    worst = max([u.rank for u in units] + [u.p95 or 0 for u in units] + [1])
    height = _TOP + _ROW * len(units) + 30
    width = _LEFT + _PLOT + 30

    def x(rank: int) -> str:
        return f"{_LEFT + (rank - 1) * _PLOT / max(1, worst - 1):.1f}" if worst > 1 else f"{_LEFT}"

    title = (f"{r.tier} {r.year}: rank intervals (5–95 %) over {r.samples} samples, seed {r.seed}"
             f" — {r.provenance.edition}")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="10" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        '<rect width="100%" height="100%" fill="#fff"/>',
        f'<text x="8" y="16" font-size="12">{escape(title)}</text>',
        f'<text x="8" y="32" fill="#555">bar: 5–95 % of the sampled ranks; '
        f'tick: median; dot: published rank</text>',
    ]
    for rank in sorted({1, worst, *range(10, worst, 10)}):
        out.append(f'<line x1="{x(rank)}" y1="{_TOP - 6}" x2="{x(rank)}" '
                   f'y2="{_TOP + _ROW * len(units)}" stroke="#ddd"/>')
        out.append(f'<text x="{x(rank)}" y="{_TOP + _ROW * len(units) + 14}" '
                   f'text-anchor="middle" fill="#555">{rank}</text>')
    for k, u in enumerate(units):
        y = _TOP + _ROW * k + _ROW / 2
        label = f"{u.rank}. {u.name}"
        out.append(f'<text x="{_LEFT - 8}" y="{y + 3:.1f}" text-anchor="end">{escape(label)}</text>')
        if u.p5 is not None and u.p95 is not None and u.median is not None:
            out.append(f'<line x1="{x(u.p5)}" y1="{y:.1f}" x2="{x(u.p95)}" y2="{y:.1f}" '
                       f'stroke="#4a7ab5" stroke-width="5" stroke-linecap="round">'
                       f'<title>{escape(u.unit_id)}: rank {u.rank}, median {u.median}, '
                       f'5–95 % {u.p5}–{u.p95}, keeps its rank in {u.keeps} of the samples'
                       f'</title></line>')
            out.append(f'<line x1="{x(u.median)}" y1="{y - 4:.1f}" x2="{x(u.median)}" '
                       f'y2="{y + 4:.1f}" stroke="#123" stroke-width="1.5"/>')
        out.append(f'<circle cx="{x(u.rank)}" cy="{y:.1f}" r="2.5" fill="#c33"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
