"""The site's robustness page (``site --robustness-samples N``): for every tier, the rank
interval of each unit under ±20 % weight variation (`engine.robustness`), as the chart of
`plugins.robustness_chart` and a table of the most and least robust ranks, with the command
that reproduces it."""

from __future__ import annotations

from html import escape
from typing import Any

from engine.robustness import Robustness
from plugins.robustness_chart import rank_interval_svg

WEIGHTS = "weights=±20%"
PAGE = "robustness.html"


def _rows(r: Robustness, ids: tuple[str, ...], site: Any) -> str:
    by_id = {u.unit_id: u for u in r.units}
    out = []
    for uid in ids:
        u = by_id[uid]
        out.append(f"<tr><td class=\"num\">{u.rank}</td><td>{site.unit_link(uid, '')}</td>"
                   f"<td class=\"num\">{u.median}</td><td class=\"num\">{u.p5}–{u.p95}</td>"
                   f"<td class=\"num\">{escape(str(u.keeps))}</td></tr>")
    return "".join(out)


def robustness_body(site: Any, results: list[Robustness], db_name: str, as_of: str) -> str:
    """The page body; `site` gives unit links (`unit_link`)."""
    parts = ["<h1>Độ vững của thứ hạng</h1>",
             "<p class=\"lede\">Thứ hạng của mỗi đơn vị thay đổi thế nào nếu trọng số các thành "
             "phần lệch ±20% so với bộ tiêu chí (chuẩn hoá lại về thang điểm): khoảng thứ hạng "
             "5–95%, trung vị, và tỷ lệ số mẫu giữ nguyên thứ hạng.</p>"]
    for r in results:
        head = ("<tr><th scope=\"col\" class=\"num\">Hạng</th><th scope=\"col\">Đơn vị</th>"
                "<th scope=\"col\" class=\"num\">Trung vị</th><th scope=\"col\" class=\"num\">"
                "5–95%</th><th scope=\"col\" class=\"num\">Giữ hạng</th></tr>")
        s = r.spearman
        command = (f"ictindex --db {db_name} robustness --year {r.year} --tier {r.tier} "
                   f"--samples {r.samples} --seed {r.seed} --vary {WEIGHTS} --as-of {as_of}")
        parts.append(
            f"<section id=\"tier-{escape(r.tier)}\"><h2>{escape(r.tier)} {r.year}</h2>"
            f"<p class=\"muted\">{r.samples} mẫu, hạt giống {r.seed} ({escape(r.generator)}); "
            f"tương quan Spearman với bảng xếp hạng: trung vị {escape(str(s.median))}, 5% "
            f"{escape(str(s.p5))}, thấp nhất {escape(str(s.min))}.</p>"
            f"<figure class=\"chart\">{rank_interval_svg(r)}<figcaption>Thanh: khoảng thứ hạng "
            f"5–95% của các mẫu; vạch: trung vị; chấm đỏ: thứ hạng công bố.</figcaption></figure>"
            f"<h3>Vững nhất</h3><div class=\"table-wrap\"><table><thead>{head}</thead><tbody>"
            f"{_rows(r, r.most_robust, site)}</tbody></table></div>"
            f"<h3>Kém vững nhất</h3><div class=\"table-wrap\"><table><thead>{head}</thead><tbody>"
            f"{_rows(r, r.least_robust, site)}</tbody></table></div>"
            f"<p>Tính lại: <code>{escape(command)}</code></p></section>")
    return "\n".join(parts)
