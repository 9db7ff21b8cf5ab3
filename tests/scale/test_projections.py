"""Projections (proj_* tables) against full replays: after any sequence of submissions,
corrections and retractions they give exactly the same points, totals and ranks."""

from __future__ import annotations

import shutil
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cells import Submitted, cell_seqs
from events.types import IndicatorSubmitted
from ictindex.app import Ictindex
from ictindex.errors import UsageError
from ictindex.projections import TABLES, Projections
from ictindex.projections_check import check_projections
from ictindex.replay import replay

YEAR = 2021

ops = st.lists(st.tuples(st.sampled_from(["correct", "retract", "submit", "batch", "correct",
                                          "registry"]),
                         st.integers(0, 10_000), st.integers(-3, 3)), min_size=1, max_size=6)


def _apply(app: Ictindex, op: str, pick: int, delta: int) -> None:
    state = app.state()
    ys = state.year_state(YEAR)
    cells = [(u, c, cell) for u in sorted(ys.cells) for c, cell in sorted(ys.cells[u].items())]
    uid, code, cell = cells[pick % len(cells)]
    events = sorted(state.source(cell_seqs(cell)).values(), key=lambda e: e.seq)
    try:
        if op == "registry":  # a unit renamed, or retired after 2020: the registry moves
            from events.types import UnitRenamed, UnitRetired

            payload = (UnitRenamed(unit_id=uid, name=f"renamed {delta}", from_year=YEAR)
                       if delta >= 0 else UnitRetired(unit_id=uid, last_year=YEAR - 1))
            app.store.append([payload], actor="test")
        elif op == "retract":
            app.retract(events[-1].seq, reason="test")
        elif op == "submit":
            if ys.value(uid, code) is None:
                sub = next(e for e in events if type(e.payload) is IndicatorSubmitted)
                v = sub.payload.value
                app.submit(YEAR, uid, code, "yes" if v is True else "no" if v is False else
                           v.choice if hasattr(v, "choice") else str(v))
        else:
            v = ys.value(uid, code)
            sub = next(e for e in reversed(events) if type(e.payload) is IndicatorSubmitted)
            if isinstance(v, Decimal):
                raw = str(max(Decimal(0), v + delta))
            elif isinstance(v, bool):
                raw = "no" if v else "yes"
            else:
                return
            if op == "batch":  # several corrections in one batch (one transaction)
                from ictindex import importing

                payloads = [importing.check_correction(state, app.registry, sub, raw, reason="t")]
                other_uid, _, other = cells[(pick * 7 + 3) % len(cells)]
                if type(other) is Submitted and isinstance(other.value, Decimal) \
                        and other_uid != uid:
                    other = app.store.get(other.seq)
                    payloads.append(importing.check_correction(
                        state, app.registry, other, str(other.payload.value + 1), reason="t"))
                app.store.append(payloads, actor="test")
            else:
                app.correct(sub.seq, raw, reason="test")
    except UsageError:
        pass  # an operation the application refuses (e.g. a no-op correction)


@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(ops)
def test_projections_match_a_full_replay_after_any_sequence(small_log, tmp_path_factory, sequence):
    path = tmp_path_factory.mktemp("p") / "log.db"
    shutil.copy(small_log, path)
    with Ictindex.open(path) as app:
        Projections(app).rebuild()
    with Ictindex.open(path) as app:  # a new process: attached because the tables exist
        for op in sequence:
            _apply(app, *op)
            result = check_projections(app)
            assert result.ok, result.problems
        # the ranking as read from the tables is the replay's
        for tier in ("department", "district", "commune"):
            got = [(r, u, p) for r, u, p, _ in Projections(app).ranking(YEAR, tier)]
            want = [(row.rank, row.unit_id, str(row.total))
                    for row in replay(app, YEAR, tier).ranking.rows]
            assert got == want


def test_drop_rebuild_and_stale_detection(log_copy):
    with Ictindex.open(log_copy) as app:
        proj = Projections(app)
        assert not check_projections(app).present
        proj.rebuild()
        assert proj.exists() and check_projections(app).ok
        proj.drop()
        assert not proj.exists()
        names = {r[0] for r in app.store.db.execute("SELECT name FROM sqlite_master")}
        assert not names & set(TABLES)
        proj.rebuild()
    # a writer that does not keep them current leaves them behind: verify says so
    with Ictindex.open(log_copy) as app:
        app.store.on_append.clear()
        app.store.before_commit.clear()
        ys = app.state().year_state(YEAR)
        uid = sorted(ys.cells)[0]
        code = sorted(ys.cells[uid])[0]
        app.retract(cell_seqs(ys.cells[uid][code])[-1], reason="t")
        result = check_projections(app)
        assert not result.ok and "rebuild" in result.problems[0]
        # and later appends leave them alone rather than half-update them
        Projections(app).attach()
        assert not check_projections(app).ok
        Projections(app).rebuild()
        assert check_projections(app).ok


def test_a_rolled_back_batch_leaves_projections_and_warm_state_exact(log_copy):
    with Ictindex.open(log_copy) as app:
        proj = Projections(app).attach()
        proj.rebuild()

        def boom(conn):
            raise RuntimeError("crash before commit")

        ys = proj.warm[YEAR].state.year_state(YEAR)
        uid = sorted(ys.cells)[1]
        code, cell = next((c, x) for c, x in sorted(ys.cells[uid].items())
                          if type(x) is Submitted and isinstance(x.value, Decimal))
        app.store.before_commit.append(boom)
        try:
            app.correct(cell.seq, str(cell.value + 5), reason="t")
        except RuntimeError:
            pass
        app.store.before_commit.remove(boom)
        assert check_projections(app).ok
        app.correct(cell.seq, str(cell.value + 2), reason="t")
        assert check_projections(app).ok


def test_the_fast_ranking_diff_is_the_engine_diff(log_copy):
    from engine.diff import diff as engine_diff
    from engine.rerank import ranking_diff

    with Ictindex.open(log_copy) as app:
        proj = Projections.of(app)
        proj.rebuild()
        # raising a part above its whole is refused (the edition's constraints): raise others
        parts = {c.part for c in app.registry.methodology("local-ict@2020").constraints
                 if hasattr(c, "part")}
        for k in range(4):
            old_scores, old_ranking = proj.tier_scores(YEAR, "commune")
            ys = proj.warm[YEAR].state.year_state(YEAR)
            uid = list(old_scores.units)[k * 3]
            code, cell = next((c, x) for c, x in sorted(ys.cells[uid].items())
                              if type(x) is Submitted and isinstance(x.value, Decimal)
                              and c not in parts)
            event = app.correct(cell.seq, str(cell.value + 7 * (k + 1)), reason="t")
            new_scores, new_ranking = proj.tier_scores(YEAR, "commune")
            fast = ranking_diff(old_ranking, new_ranking, [event], old_scores=old_scores,
                                new_scores=new_scores)
            full = engine_diff(old_ranking, new_ranking, [event], old_scores=old_scores,
                               new_scores=new_scores)
            assert fast == full
            assert fast.changes  # the corrected unit at least
