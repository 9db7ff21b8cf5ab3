"""`verify`'s check of the projections (`ictindex.projections`): every projected value, criterion
point, total and rank against a full replay of the log."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from engine.fold import cell_value
from ictindex.projections import TIERS, Projections, Warm, value_text

if TYPE_CHECKING:
    from ictindex.app import Ictindex

__all__ = ["ProjectionCheck", "check_projections"]


class ProjectionCheck(msgspec.Struct, frozen=True, kw_only=True):
    """`verify`'s comparison of the projections with a full replay."""

    ok: bool
    present: bool
    last_seq: int | None
    checked: int = 0  # units compared
    problems: tuple[str, ...] = ()


def check_projections(app: "Ictindex", limit: int = 20) -> ProjectionCheck:
    """Compare every projected value, point, total and rank with a full replay of the log."""
    proj = Projections(app)
    if not proj.exists():
        return ProjectionCheck(ok=True, present=False, last_seq=None)
    last = proj.last_seq()
    log_last = app.store.last_seq()
    problems: list[str] = []
    if last != log_last:
        problems.append(f"the projections reflect the log up to #{last}, the log ends at "
                        f"#{log_last}: run `ictindex projections rebuild`")
        return ProjectionCheck(ok=False, present=True, last_seq=last, problems=tuple(problems))
    db = proj.reader()
    checked = 0
    state = app.state()
    years = set(state.years()) | {y for (y,) in db.execute("SELECT DISTINCT year FROM proj_totals")}
    for y in sorted(years):
        warm = Warm(y, state, {}, log_last)
        for tier in TIERS:
            proj.score_warm(warm, tier)
        ys = state.year_state(y)
        expected_values = {(uid, code): value_text(cell_value(c))
                           for uid, cells in ys.cells.items() for code, c in cells.items()
                           if cell_value(c) is not None}
        got_values = {(u, i): v for u, i, v in db.execute(
            "SELECT unit_id, indicator, value FROM proj_values WHERE year = ?", (y,))}
        if got_values != expected_values:
            bad = sorted(set(got_values.items()) ^ set(expected_values.items()))[:3]
            problems.append(f"{y}: current values differ from the replay (e.g. {bad})")
        for tier in TIERS:
            t = warm.tiers.get(tier)
            got = {uid: (ed, total, pub, rank) for uid, ed, total, pub, rank in db.execute(
                "SELECT unit_id, edition, total, published, rank FROM proj_totals "
                "WHERE year = ? AND tier = ?", (y, tier))}
            points = {}
            for uid, code, pts in db.execute("SELECT unit_id, criterion, points FROM proj_points "
                                             "WHERE year = ? AND tier = ?", (y, tier)):
                points[(uid, code)] = pts
            if t is None:
                if got:
                    problems.append(f"{y} {tier}: projected, but the replay ranks nothing")
                continue
            codes = [s.criterion.code for s in t.scores.criteria]
            want = {}
            want_points = {}
            for row in t.ranking.rows:
                u = t.scores.units[row.unit_id]
                want[row.unit_id] = (t.edition, str(u.total), str(u.published_total), row.rank)
                for code, x in zip(codes, u.exact):
                    want_points[(row.unit_id, code)] = "none" if x is None else str(x)
            checked += len(want)
            if got != want:
                diff = sorted(uid for uid in set(got) | set(want) if got.get(uid) != want.get(uid))
                problems.append(f"{y} {tier}: {len(diff)} unit(s) differ from the replay, first "
                                f"{diff[0]}: projected {got.get(diff[0])}, replay {want.get(diff[0])}")
            if points != want_points:
                diff = sorted(k for k in set(points) | set(want_points)
                              if points.get(k) != want_points.get(k))
                problems.append(f"{y} {tier}: {len(diff)} criterion point(s) differ from the "
                                f"replay, first {diff[0]}")
            if len(problems) >= limit:
                break
    return ProjectionCheck(ok=not problems, present=True, last_seq=last, checked=checked,
                           problems=tuple(problems))
