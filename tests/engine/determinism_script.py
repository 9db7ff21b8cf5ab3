"""Run by test_determinism.py in fresh processes with different PYTHONHASHSEED, TZ and LC_ALL:
builds a log in memory, folds, scores, ranks, explains and diffs it, and prints the canonical
JSON and the texts.  Every process must print the same bytes."""

from __future__ import annotations

import locale
import sys
import time

try:
    locale.setlocale(locale.LC_ALL, "")
except locale.Error:
    pass
if hasattr(time, "tzset"):
    time.tzset()

from engine_testkit import Log, mini_edition, provenance, run  # noqa: E402

from engine.diff import diff, render_diff_text  # noqa: E402
from engine.explain import explain, render_text  # noqa: E402
from engine.result import canonical_bytes, result_hash  # noqa: E402


def main() -> None:
    log = Log()
    names = ["Xã Phước Hưng", "Xã Cù Bị", "Thị trấn Đất Đỏ", "Phường Thắng Nhì", "Xã Long Mỹ",
             "Xã Bình Châu", "Xã Hòa Long", "Xã Suối Rao"]
    for i, name in enumerate(names):
        log.register(f"265{i:02d}", name, tier="commune", parent_id="75" + str(i % 3))
    subs = {}
    for i in range(len(names)):
        uid = f"265{i:02d}"
        subs[uid] = log.submit_all(2020, uid, {
            "pc": f"0.{(37 * i) % 100:02d}", "bw": str((i * 7) % 5 + 1), "net": i % 3 != 0,
            "head": {"choice": ["chairman", "deputy", "none"][i % 3]}, "lead": f"{(i * 13) % 50 / 10}",
        }, evidence=f"{i}/BC-UBND")
    ed = mini_edition(tier="commune", group_by="parent_id")
    a = len(log.events)
    old_scores, old = run(log.events, ed, tier="commune", prov=provenance(ed, as_of=f"seq {a}"))
    log.correct(subs["26503"]["lead"], "5", reason="Hội đồng thẩm định chấm lại", authority="QĐ 1018/QĐ-UBND")
    log.retract(subs["26505"]["net"], reason="không có minh chứng")
    scores, ranking = run(log.events, ed, tier="commune", prov=provenance(ed, as_of="now"))
    out = sys.stdout.buffer
    out.write(canonical_bytes(ranking) + b"\n")
    out.write(result_hash(ranking).encode() + b"\n")
    for uid in ("26503", "26505"):
        x = explain(scores, uid, ranking=ranking)
        out.write(canonical_bytes(x) + b"\n")
        out.write(render_text(x).encode("utf-8"))
    d = diff(old, ranking, log.events[a:], old_scores=old_scores, new_scores=scores)
    out.write(canonical_bytes(d) + b"\n")
    out.write(render_diff_text(d).encode("utf-8"))


if __name__ == "__main__":
    main()
