"""Issue 13: submissions, corrections, retractions, adoptions and publications from two
processes on one SQLite file, and after every step: `verify` passes, every publication still
reproduces, the projections equal a replay, and every change to a published year and tier
came with a recorded reason.

The test process writes through its own `Ictindex`; a worker process (forked, driven over a
pipe) writes through another.  Most steps are run by one of them; `both_at_once` starts a
write in the worker and runs another in the test process before waiting for the worker, so
the two really race (each must re-check against what the other appended).  Writes the tool
refuses (a value already there, a retracted target, a missing reason, ...) are fine: what is
checked is that whatever was recorded keeps the invariants.
"""

from __future__ import annotations

import multiprocessing
import traceback

import attrs
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from engine.edition import load_edition
from events.inputs import InputErrors
from events.interface import ConcurrencyError, EventNotFound
from events.types import IndicatorSubmitted, MethodologyAdopted, RankingPublished
from events.verify import verify
from ictindex import replay
from ictindex.app import Ictindex
from ictindex.errors import UsageError
from plugins.manager import EditionEntry, PluginError, get_registry
from ictindex.projections import Projections
from ictindex.projections_check import check_projections

YEAR = 2021
UNITS = ("A", "B", "C")
REFUSED = (UsageError, InputErrors, ConcurrencyError, EventNotFound, PluginError, ValueError,
           KeyError)


def _edition(name: str, pc_max: int, apps_max: int) -> bytes:
    """A small district edition; the two used here read the same indicators with other
    weights, so re-adopting one for the other is allowed (with a reason) and moves totals."""
    return f"""
id = "{name}"
title = "Bộ tiêu chí thử {name}"
legal_basis = {{ kind = "reconstruction", reference = "test" }}
rounding = {{ decimals = 2, mode = "ROUND_HALF_UP", applies_to = "publication" }}
indicators = [
  {{ code = "pc", name_vi = "Tỷ lệ máy tính", name_en = "pc", type = "percentage" }},
  {{ code = "apps", name_vi = "Số ứng dụng", name_en = "apps", type = "count" }},
  {{ code = "plan", name_vi = "Kế hoạch", name_en = "plan", type = "yes_no" }},
]

[tiers.district]
scale = {pc_max + apps_max + 2}
missing = "zero"

[[tiers.district.components]]
code = "HT"
name_vi = "Hạ tầng"
name_en = "Infrastructure"
max = {pc_max + apps_max + 2}
criteria = [
  {{ code = "HT1", name_vi = "Máy tính", name_en = "pc", max = {pc_max}, rule = "ratio", indicators = ["pc"], params = {{ percent = true }} }},
  {{ code = "HT2", name_vi = "Ứng dụng", name_en = "apps", max = {apps_max}, rule = "per_item", indicators = ["apps"], params = {{ points = 1 }} }},
  {{ code = "HT3", name_vi = "Kế hoạch", name_en = "plan", max = 2, rule = "yes_no", indicators = ["plan"] }},
]
""".encode()


def _registry():
    base = get_registry()
    extra = {}
    for name, pc_max, apps_max in (("mini-a@2021", 6, 4), ("mini-b@2021", 3, 8)):
        m = load_edition(_edition(name, pc_max, apps_max), source=name)
        extra[name] = EditionEntry(methodology=m, source=name, plugin="tests", distribution=None,
                                   version=None)
    return attrs.evolve(base, editions={**base.editions, **extra})


def _run(app: Ictindex, op: str, kwargs: dict) -> tuple[str, str]:
    try:
        if op == "publish":
            replay.publish(app, YEAR, "district", **kwargs)
        else:
            getattr(app, op)(**kwargs)
    except REFUSED as e:
        return "refused", f"{type(e).__name__}: {e}"
    return "recorded", ""


def _worker(path: str, registry, conn) -> None:
    try:
        with Ictindex.open(path, registry=registry) as app:
            while (request := conn.recv()) is not None:
                try:
                    conn.send(_run(app, *request))
                except BaseException:
                    conn.send(("crashed", traceback.format_exc()))
    finally:
        conn.close()


VALUES = {"pc": st.integers(0, 100).map(str), "apps": st.integers(0, 12).map(str),
          "plan": st.sampled_from(["yes", "no"])}
indicator_values = st.sampled_from(sorted(VALUES)).flatmap(
    lambda code: st.tuples(st.just(code), VALUES[code]))
reasons = st.sampled_from(["", "phúc khảo", "CV 12/STTTT"])
processes = st.sampled_from(["here", "worker"])


class TwoWriters(RuleBasedStateMachine):
    @initialize()
    def open_log(self) -> None:
        import tempfile
        from pathlib import Path

        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "log.db"
        self.registry = _registry()
        units = Path(self.dir.name) / "units.csv"
        units.write_text("unit_id,tier,name,parent_id\n"
                         + "".join(f"{u},district,Huyện {u},\n" for u in UNITS), encoding="utf-8")
        with Ictindex.open(self.path, registry=self.registry) as app:
            app.import_units(units, actor="setup")
            app.adopt("mini-a@2021", YEAR, actor="setup")
            Projections.of(app).rebuild()
        self.app = Ictindex.open(self.path, registry=self.registry)
        ctx = multiprocessing.get_context("fork")
        self.conn, child = ctx.Pipe()
        self.worker = ctx.Process(target=_worker, args=(str(self.path), self.registry, child))
        self.worker.start()
        child.close()

    def teardown(self) -> None:
        if getattr(self, "worker", None) is not None:
            self.conn.send(None)
            self.worker.join(60)
            self.conn.close()
            self.app.close()
            self.dir.cleanup()

    # -- running a write in one process or the other ---------------------------------------

    def _do(self, where: str, op: str, kwargs: dict) -> None:
        if where == "here":
            outcome = _run(self.app, op, kwargs)
        else:
            self.conn.send((op, kwargs))
            outcome = self.conn.recv()
        assert outcome[0] != "crashed", outcome[1]

    def _targets(self, kinds: tuple[str, ...]) -> list[int]:
        return [e.seq for e in self.app.store.read(year=YEAR)
                if type(e.payload).__struct_config__.tag in kinds]

    # -- the writes --------------------------------------------------------------------------

    def _submit(self, unit: str, cell: tuple[str, str], reason: str) -> tuple[str, dict]:
        code, value = cell
        return "submit", dict(year=YEAR, unit_id=unit, indicator=code, value=value, reason=reason,
                              authority=reason and "QĐ 1", actor="officer")

    @rule(where=processes, unit=st.sampled_from(UNITS), cell=indicator_values, reason=reasons)
    def submit(self, where, unit, cell, reason) -> None:
        self._do(where, *self._submit(unit, cell, reason))

    @staticmethod
    def _pick(data, targets: list[int]) -> int | None:
        """One of `targets`, drawn the same way whatever they are: which events a race left in
        the log differs from run to run, and hypothesis replays a case by its draws."""
        i = data.draw(st.integers(0, 2**16), label="target")
        return targets[i % len(targets)] if targets else None

    def _correct(self, data, reason: str) -> tuple[str, dict] | None:
        seq = self._pick(data, self._targets(("indicator_submitted",)))
        values = {code: data.draw(VALUES[code], label=code) for code in sorted(VALUES)}
        if seq is None:
            return None
        code = self.app.store.get(seq).payload.indicator
        value = values[code]
        return "correct", dict(ref=seq, value=value, reason=reason, authority="CV 2",
                               actor="officer")

    @rule(where=processes, data=st.data(), reason=reasons)
    def correct(self, where, data, reason) -> None:
        request = self._correct(data, reason)
        if request:
            self._do(where, *request)

    def _retract(self, data, reason: str) -> tuple[str, dict] | None:
        seq = self._pick(data, self._targets(("indicator_submitted", "indicator_corrected")))
        if seq is None:
            return None
        return "retract", dict(ref=seq, reason=reason, actor="officer")

    @rule(where=processes, data=st.data(), reason=reasons)
    def retract(self, where, data, reason) -> None:
        request = self._retract(data, reason)
        if request:
            self._do(where, *request)

    @rule(where=processes, edition=st.sampled_from(["mini-a@2021", "mini-b@2021"]),
          reason=reasons, authority=st.sampled_from(["", "QĐ 5/QĐ-UBND"]))
    def adopt(self, where, edition, reason, authority) -> None:
        self._do(where, "adopt", dict(edition_id=edition, year=YEAR, reason=reason,
                                      authority=authority, actor="officer"))

    @rule(where=processes, decision=st.sampled_from(["1/QĐ-UBND", "2/QĐ-UBND"]),
          supersede=st.booleans(), reason=reasons)
    def publish(self, where, decision, supersede, reason) -> None:
        self._do(where, "publish", dict(decision=decision, supersede=supersede, reason=reason,
                                        actor="chairman"))

    @rule(data=st.data(), unit=st.sampled_from(UNITS), cell=indicator_values, reason=reasons,
          other=st.sampled_from(["submit", "correct", "retract", "publish"]))
    def both_at_once(self, data, unit, cell, reason, other) -> None:
        """The worker writes while this process writes: a real race on the file."""
        theirs_unit, theirs_cell = data.draw(st.sampled_from(UNITS)), data.draw(indicator_values)
        if other == "submit":
            theirs = self._submit(theirs_unit, theirs_cell, reason)
        elif other == "correct":
            theirs = self._correct(data, reason)
        elif other == "retract":
            theirs = self._retract(data, reason)
        else:
            theirs = ("publish", dict(decision="1/QĐ-UBND", actor="chairman"))
        if theirs is None:
            return
        self.conn.send(theirs)
        mine = _run(self.app, *self._submit(unit, cell, reason))
        outcome = self.conn.recv()
        assert "crashed" not in (mine[0], outcome[0]), (mine, outcome)

    # -- after every step --------------------------------------------------------------------

    @invariant()
    def log_verifies_and_publications_reproduce(self) -> None:
        if not hasattr(self, "app"):
            return
        report = verify(self.app.store)
        assert report.ok, report
        for check in replay.check_publications(self.app):
            assert check.ok, check

    @invariant()
    def projections_equal_the_replay(self) -> None:
        if not hasattr(self, "app"):
            return
        check = check_projections(self.app)
        assert check.ok, check.problems

    @invariant()
    def every_change_after_a_publication_has_a_reason(self) -> None:
        if not hasattr(self, "app"):
            return
        events = list(self.app.store.read())
        published_at = None
        decisions: dict[str, RankingPublished] = {}
        for e in events:
            p = e.payload
            if isinstance(p, RankingPublished):
                earlier = decisions.get(p.decision)
                if earlier is not None:  # the same decision again: only to supersede, said why
                    assert p.supersedes and p.reason, e
                    assert earlier.result_hash != p.result_hash, e
                decisions[p.decision] = p
                published_at = published_at or e.seq
            elif published_at is not None and getattr(p, "year", None) == YEAR:
                if isinstance(p, (IndicatorSubmitted, MethodologyAdopted)):
                    # corrections and retractions always have one; these need one now
                    assert p.reason, f"#{e.seq} changes the published {YEAR} without a reason"
            if isinstance(p, MethodologyAdopted) and e.seq > 4:  # 1-3 units, 4 the adoption
                assert p.reason and p.authority, f"#{e.seq} re-adopts without reason/authority"
        if published_at is not None:
            # what moved since the first publication moved through events that say why
            d = replay.diff(self.app, YEAR, "district", old=str(published_at - 1), new="now")
            for change in d.changes:
                if change.delta not in (None, 0) and "peers" not in change.causes:
                    assert change.events and all(ev.reason for ev in change.events
                                                 if ev.read), change


TwoWriters.TestCase.settings = settings(
    max_examples=12, stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_two_writers = TwoWriters.TestCase
