"""The plot in docs/performance.md: seconds against units and against years, from the JSON
reports of several `ictindex bench --format json` runs, as a plain SVG (no dependency).

    python -m ictindex.bench.bench_plot REPORT.json... > docs/performance-scaling.svg
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["plot_svg", "scaling_svg"]


def plot_svg(panels: list[tuple[str, str, list[tuple[float, dict[str, float]]]]],
             width: int = 360, height: int = 240) -> str:
    """A plain-text SVG of side-by-side line charts (no dependency).

    `panels`: (title, x label, [(x, {series name: seconds})]).
    """
    colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
    pad_l, pad_b, pad_t, pad_r = 52, 40, 28, 12
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * len(panels)}" '
           f'height="{height + 70}" font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>']
    names: list[str] = []
    for _, _, pts in panels:
        for _, series in pts:
            for name in series:
                if name not in names:
                    names.append(name)
    for k, (title, xlabel, pts) in enumerate(panels):
        ox = k * width
        xs = [x for x, _ in pts]
        ys = [v for _, s in pts for v in s.values()]
        x0, x1 = min(xs), max(xs)
        y1 = max(ys) * 1.1 if ys else 1
        w, h = width - pad_l - pad_r, height - pad_t - pad_b

        def px(x: float) -> float:
            return ox + pad_l + (0 if x1 == x0 else (x - x0) / (x1 - x0) * w)

        def py(y: float) -> float:
            return pad_t + h - y / y1 * h

        out.append(f'<text x="{ox + width / 2}" y="16" text-anchor="middle" '
                   f'font-weight="bold">{title}</text>')
        out.append(f'<line x1="{ox + pad_l}" y1="{pad_t + h}" x2="{ox + pad_l + w}" '
                   f'y2="{pad_t + h}" stroke="black"/>')
        out.append(f'<line x1="{ox + pad_l}" y1="{pad_t}" x2="{ox + pad_l}" y2="{pad_t + h}" '
                   'stroke="black"/>')
        for i in range(5):
            v = y1 * i / 4
            out.append(f'<text x="{ox + pad_l - 4}" y="{py(v) + 4:.1f}" text-anchor="end">'
                       f'{v:.2g}</text>')
            out.append(f'<line x1="{ox + pad_l}" y1="{py(v):.1f}" x2="{ox + pad_l + w}" '
                       f'y2="{py(v):.1f}" stroke="#ddd"/>')
        for x in xs:
            out.append(f'<text x="{px(x):.1f}" y="{pad_t + h + 14}" text-anchor="middle">'
                       f'{x:g}</text>')
        out.append(f'<text x="{ox + pad_l + w / 2}" y="{pad_t + h + 30}" '
                   f'text-anchor="middle">{xlabel}</text>')
        out.append(f'<text x="{ox + 12}" y="{pad_t + h / 2}" text-anchor="middle" '
                   f'transform="rotate(-90 {ox + 12} {pad_t + h / 2})">seconds</text>')
        for j, name in enumerate(names):
            line = [(px(x), py(s[name])) for x, s in pts if name in s]
            if not line:
                continue
            color = colors[j % len(colors)]
            coords = " ".join(f"{a:.1f},{b:.1f}" for a, b in line)
            out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" '
                       'stroke-width="2"/>')
            for a, b in line:
                out.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}"/>')
    for j, name in enumerate(names):
        x = 10 + j * 150
        y = height + 40 - (0 if j < 4 else -16)
        x = 10 + (j % 4) * 170
        out.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
                   f'fill="{colors[j % len(colors)]}"/>')
        out.append(f'<text x="{x + 14}" y="{y}">{name}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def scaling_svg(reports: list[dict[str, Any]]) -> str:
    """Two panels from bench reports: seconds against units (1-year runs) and against years
    (runs at the smallest unit count with several years: the replay of their last year)."""
    def series(r: dict[str, Any]) -> dict[str, float]:
        ph = {p["phase"]: p for p in r["phases"]}
        out = {"replay floor": ph["cold_replay"]["floor_seconds"],
               "cold replay (one year)": ph["cold_replay"]["seconds"],
               "verify (whole log)": ph["verify"]["seconds"]}
        if "correction" in ph:
            out["one correction + rank + diff"] = ph["correction"]["seconds"]
        return out

    one_year = sorted((r for r in reports if r["params"]["years"] == 1),
                      key=lambda r: r["params"]["units"])
    small = min((r["params"]["units"] for r in reports), default=0)
    by_years = sorted((r for r in reports if r["params"]["units"] == small),
                      key=lambda r: r["params"]["years"])
    return plot_svg([
        ("1 year, growing units", "units", [(r["params"]["units"], series(r)) for r in one_year]),
        (f"{small} units, growing years", "years in the log",
         [(r["params"]["years"], series(r)) for r in by_years]),
    ])


if __name__ == "__main__":  # python -m ictindex.bench.bench_plot REPORT.json... > plot.svg
    if len(sys.argv) > 1:
        sys.stdout.write(scaling_svg([json.loads(Path(f).read_text()) for f in sys.argv[1:]]))
    else:
        sys.exit("usage: python -m ictindex.bench.bench_plot REPORT.json... > plot.svg")
