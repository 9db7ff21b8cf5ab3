"""Issue 17: the projections follow merges and splits as a full replay does."""

from __future__ import annotations

import datetime as dt

from ictindex.app import Ictindex
from ictindex.projections import Projections
from ictindex.projections_check import check_projections
from ictindex.replay import replay

YEAR = 2021  # the small log's second year: a change effective in it moves its ranking
DATE = dt.date(YEAR, 7, 1)


def _units_of(app: Ictindex, tier: str) -> list[str]:
    return sorted(u for u, info in app.state().year_state(YEAR - 1).units.items()
                  if info.tier == tier)


def test_projections_match_a_full_replay_after_a_merge_and_a_split(log_copy):
    with Ictindex.open(log_copy) as app:
        Projections(app).rebuild()
    with Ictindex.open(log_copy) as app:  # attached: kept current on every append
        tier = "commune"
        first, second, third = _units_of(app, tier)[:3]
        app.merge_units([first, second], "MERGED", name="Xã gộp", date=DATE, reason="r",
                        authority="a", actor="t")
        result = check_projections(app)
        assert result.ok, result.problems
        app.split_unit(third, ["S1:Xã tách một", "S2:Xã tách hai"], date=DATE, reason="r",
                       authority="a", actor="t")
        result = check_projections(app)
        assert result.ok, result.problems
        got = [u for _, u, _, _ in Projections(app).ranking(YEAR, tier)]
        want = [row.unit_id for row in replay(app, YEAR, tier).ranking.rows]
        assert got == want
        assert not {first, second, third} & set(got)
