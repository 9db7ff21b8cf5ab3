"""Replaying the log through an edition: rank, explain, diff, publish and verify.

The engine is pure; this module feeds it: it folds the log up to an as-of point, picks the
edition adopted for the year and tier (refusing one whose installed content no longer matches
the adopted hash unless the caller asks for it), and names what produced every result.
"""

from __future__ import annotations

import datetime as dt
from importlib import metadata
from typing import TYPE_CHECKING

import attrs
import msgspec

from engine.asof import AsOf, parse_as_of
from engine.diff import RankingDiff, diff as diff_rankings
from engine.explain import explain as explain_unit
from engine.fold import LogState
from engine.rank import rank_tier
from engine.result import (
    Explanation,
    Mismatch,
    Provenance,
    Ranking,
    canonical_bytes,
    compare_rankings,
    decode_ranking,
    published_content,
    result_hash,
)
from engine.score import TierScores, missing_inputs, needs_previous, score_tier
from events.types import TIERS, Event, RankingPublished
from plugins.errors import UsageError

if TYPE_CHECKING:
    from plugins.app import Ictindex

try:
    ENGINE_VERSION = metadata.version("ictindex")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    ENGINE_VERSION = "0+unknown"

# Published tables, kept beside the log so that verify can name the first unit that differs.
# Derived: a copy counts only while its hash equals the result hash recorded in the log.
PUBLISHED_TABLE = "published_results"


class EditionChanged(UsageError):
    """The installed edition's content differs from the one the year adopted."""


@attrs.frozen
class Replay:
    """One tier of one year, scored and ranked, with what it was computed from."""

    ranking: Ranking
    scores: TierScores
    state: LogState
    seq: int  # the last seq the replay read


def replay(app: "Ictindex", year: int, tier: str, *, as_of: AsOf | str | None = None,
           edition: str | None = None, allow_changed_edition: bool = False,
           state: LogState | None = None) -> Replay:
    """Score and rank `tier` of `year` from the log as of `as_of`.

    `edition` names an edition to score with instead of the adopted one (a what-if);
    otherwise the adopted edition must still have the content hash it was adopted with, unless
    `allow_changed_edition`.
    """
    if isinstance(as_of, str):
        as_of = parse_as_of(as_of)
    as_of = as_of or AsOf(kind="now")
    if state is None:
        state = app.state(as_of, year=year, tier=tier)
    ys = state.year_state(year)
    seq = ys.last_seq
    chosen = _edition_for(app, ys, year, tier, edition, allow_changed_edition)
    methodology = chosen.methodology
    if tier not in methodology.tiers:
        raise UsageError(f"{methodology.id} has no {tier} tier "
                         f"(it has: {', '.join(sorted(methodology.tiers))})")
    loaded = getattr(state, "loaded_years", None)
    if loaded is not None and year - 1 not in loaded and needs_previous(methodology, tier):
        # carry_forward reads last year's values: fold that year too
        state = app.state(as_of, year=year, tier=tier, years=loaded | {year - 1})
        ys = state.year_state(year)
    previous = state.year_state(year - 1) if needs_previous(methodology, tier) else None
    scores = score_tier(ys, tier, methodology, app.registry.rules, previous=previous)
    # One checkpoint per folded state: ranking several tiers of one state hashes the log once.
    memo = getattr(state, "checkpoint_memo", None)
    if memo is None or memo[0] != seq:
        memo = (seq, _checkpoint_at(app, seq))
        state.checkpoint_memo = memo  # type: ignore[attr-defined]
    checkpoint = memo[1]
    provenance = Provenance(
        engine_version=ENGINE_VERSION,
        edition=methodology.id,
        content_hash=chosen.content_hash,
        plugin=chosen.distribution or chosen.plugin,
        plugin_version=chosen.version or "",
        checkpoint_size=seq,
        checkpoint_root=checkpoint.root if checkpoint else None,
        as_of=as_of.describe(),
    )
    return Replay(rank_tier(scores, provenance), scores, state, seq)


def _checkpoint_at(app: "Ictindex", seq: int):
    """The checkpoint of the first `seq` events: O(log n) for the whole log (the frontier)."""
    if not seq:
        return None
    if seq == app.store.last_seq():
        latest = app.store.latest_checkpoint()
        if latest.size == seq:
            return latest
    return app.store.checkpoint(seq)


def _edition_for(app, ys, year, tier, explicit, allow_changed):
    registry = app.registry
    if explicit is not None:
        return registry.edition(explicit)
    adopted = ys.adoption(tier)
    if adopted is None:
        raise UsageError(f"no methodology adopted for {year} {tier}: "
                         f"adopt one with `ictindex adopt EDITION --year {year} --tier {tier}`, "
                         "or name one with --edition for a what-if")
    if adopted.edition not in registry.editions:
        raise UsageError(f"{year} {tier} adopted {adopted.edition}, which is not installed "
                         f"(installed: {', '.join(sorted(registry.editions)) or 'none'})")
    chosen = registry.edition(adopted.edition)
    if chosen.content_hash != adopted.content_hash and not allow_changed:
        raise EditionChanged(
            f"the installed {adopted.edition} (content hash {chosen.content_hash[:12]}…) is not "
            f"the edition {year} {tier} adopted (content hash {adopted.content_hash[:12]}…): "
            "its rules changed since. Replaying it would not reproduce what was adopted; pass "
            "--allow-changed-edition to replay under the installed content on purpose")
    return chosen


def tier_of(state: LogState, unit_id: str, year: int) -> str:
    unit = state.year_state(year).units.get(unit_id)
    if unit is None:
        if unit_id in state.unit_ids():
            raise UsageError(f"unit {unit_id} did not exist in {year}")
        raise UsageError(f"unknown unit {unit_id!r}")
    return unit.tier


def explain(app: "Ictindex", unit_id: str, year: int, *, as_of: AsOf | str | None = None,
            edition: str | None = None, allow_changed_edition: bool = False) -> Explanation:
    """The tree from `unit_id`'s total down to the events behind every input."""
    if isinstance(as_of, str):
        as_of = parse_as_of(as_of)
    needs_tier = as_of is not None and as_of.kind == "published"
    tier = tier_of(app.state(), unit_id, year) if needs_tier else None
    state = app.state(as_of, year=year, tier=tier)
    tier = tier or tier_of(state, unit_id, year)
    r = replay(app, year, tier, as_of=as_of, edition=edition,
               allow_changed_edition=allow_changed_edition, state=state)
    return explain_unit(r.scores, unit_id, ranking=r.ranking, provenance=r.ranking.provenance)


def diff(app: "Ictindex", year: int, tier: str, *, old: AsOf | str, new: AsOf | str,
         edition: str | None = None, allow_changed_edition: bool = False) -> RankingDiff:
    """What moved between two as-of points, and the events in between that moved it."""
    a = replay(app, year, tier, as_of=old, edition=edition, allow_changed_edition=allow_changed_edition)
    b = replay(app, year, tier, as_of=new, edition=edition, allow_changed_edition=allow_changed_edition)
    lo, hi = sorted((a.seq, b.seq))
    between = list(app.store.read(lo + 1, hi + 1)) if hi > lo else []
    return diff_rankings(a.ranking, b.ranking, between, old_scores=a.scores, new_scores=b.scores)


def publish(app: "Ictindex", year: int, tier: str, *, decision: str, date: dt.date | None = None,
            actor: str, allow_missing: bool = False) -> tuple[Event, Ranking]:
    """Record the publication of the current ranking of `tier` in `year`; refused while some
    unit has missing inputs, unless `allow_missing`."""
    if not decision.strip():
        raise UsageError("a publication needs the decision that publishes it (--decision)")
    r = replay(app, year, tier)
    refuse_missing_inputs(r, allow_missing)
    ranking = r.ranking
    payload = RankingPublished(
        year=year, tier=tier, edition=ranking.provenance.edition,
        content_hash=ranking.provenance.content_hash, checkpoint_size=r.seq,
        # What is published is computed from the stored leaves, not the derived frontier.
        checkpoint_root=app.store.checkpoint(r.seq).root if r.seq else "",
        result_hash=result_hash(ranking), decision=decision.strip(), date=date)
    # expected_last_seq: nothing may slip in between the replay and the publication.
    [event] = app.store.append([payload], actor=actor, expected_last_seq=r.seq)
    _keep_published(app, event.seq, ranking)
    return event, ranking


def missing_summary(missing: dict[str, tuple[str, ...]], shown: int = 5) -> str:
    """`3 unit(s) with missing inputs: C1 (36), C2 (36), D1 (2)` (indicators missing each)."""
    units = [f"{uid} ({len(codes)})" for uid, codes in list(missing.items())[:shown]]
    more = f", … {len(missing) - shown} more" if len(missing) > shown else ""
    return f"{len(missing)} unit(s) with missing inputs: {', '.join(units)}{more}"


def refuse_missing_inputs(r: Replay, allow_missing: bool) -> None:
    """A publication fixes a ranking for good: one where the missing-data policy stood in for
    values is published only on purpose."""
    missing = missing_inputs(r.scores)
    if missing and not allow_missing:
        raise UsageError(
            f"{r.ranking.tier} {r.ranking.year}: {missing_summary(missing)} (the number of "
            "indicators without a value); nothing was recorded. Submit them, or pass "
            "--allow-missing to publish with the edition's missing-data policy applied "
            "(`ictindex rank` and `ictindex explain` show where)")


def _keep_published(app: "Ictindex", seq: int, ranking: Ranking) -> None:
    app.store.db[PUBLISHED_TABLE].insert(
        {"seq": seq, "ranking": canonical_bytes(ranking)}, pk="seq", replace=True)


def _published_copy(app: "Ictindex", seq: int, expected_hash: str) -> Ranking | None:
    if not app.store.db[PUBLISHED_TABLE].exists():
        return None
    rows = list(app.store.db.query(f"select ranking from {PUBLISHED_TABLE} where seq = ?", [seq]))
    if not rows:
        return None
    try:
        copy = decode_ranking(rows[0]["ranking"])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return copy if result_hash(copy) == expected_hash else None


class PublicationCheck(msgspec.Struct, frozen=True, kw_only=True):
    seq: int
    year: int
    tier: str
    decision: str
    result_hash: str
    ok: bool
    reason: str = ""
    first_unit: str | None = None


def check_publications(app: "Ictindex", state: LogState | None = None) -> list[PublicationCheck]:
    """Re-derive every publication from the log and compare with its recorded hash."""
    state = state or app.state()
    out = []
    last = app.store.last_seq()
    for year in state.years():
        ys = state.year_state(year)
        for tier in TIERS:
            for event in ys.publications(tier):
                out.append(_check_one(app, event, last))
    return sorted(out, key=lambda c: c.seq)


def _check_one(app: "Ictindex", event: Event, last: int) -> PublicationCheck:
    p: RankingPublished = event.payload
    base = dict(seq=event.seq, year=p.year, tier=p.tier, decision=p.decision,
                result_hash=p.result_hash)
    if p.checkpoint_size > last:
        return PublicationCheck(**base, ok=False, reason=(
            f"the log has {last} events, fewer than the {p.checkpoint_size} it was computed from"))
    root = app.store.checkpoint(p.checkpoint_size).root if p.checkpoint_size else ""
    if root != p.checkpoint_root:
        return PublicationCheck(**base, ok=False, reason=(
            f"the log no longer extends checkpoint {p.checkpoint_size}:{p.checkpoint_root}: "
            "events before the publication were changed"))
    installed = app.registry.editions.get(p.edition)
    if installed is None:
        return PublicationCheck(**base, ok=False, reason=f"edition {p.edition} is not installed")
    try:
        r = replay(app, p.year, p.tier, as_of=AsOf(kind="seq", seq=p.checkpoint_size),
                   edition=p.edition)
    except UsageError as e:
        return PublicationCheck(**base, ok=False, reason=str(e))
    if result_hash(r.ranking) == p.result_hash:
        return PublicationCheck(**base, ok=True)
    if installed.content_hash != p.content_hash:
        reason = (f"the installed {p.edition} differs from the edition it was published under "
                  f"(content hash {installed.content_hash[:12]}… instead of {p.content_hash[:12]}…)")
    else:
        reason = "the same events and edition no longer give the published result"
    copy = _published_copy(app, event.seq, p.result_hash)
    mismatch: Mismatch | None = compare_rankings(copy, r.ranking) if copy else None
    first = mismatch.unit_id if mismatch else None
    if mismatch is not None:
        reason += f"; first difference: {mismatch.unit_id or ''} {mismatch.field} " \
                  f"{mismatch.recorded} → {mismatch.rederived}"
    return PublicationCheck(**base, ok=False, reason=reason, first_unit=first)


def published_table_bytes(ranking: Ranking) -> bytes:
    """The canonical bytes of what a publication fixes (what `result_hash` hashes)."""
    return canonical_bytes(published_content(ranking))
