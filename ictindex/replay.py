"""Replaying the log through an edition: rank, explain, diff, publish and verify.

The engine is pure; this module feeds it: it folds the log up to an as-of point, picks the
edition adopted for the year and tier (refusing one whose installed content no longer matches
the adopted hash, or whose rule kinds now come from another plugin or version than at adoption,
unless the caller asks for it), and names what produced every result.
"""

from __future__ import annotations

import datetime as dt
from importlib import metadata
from typing import TYPE_CHECKING, Sequence

import attrs
import msgspec

from engine.asof import AsOf, parse_as_of
from engine.diff import RankingDiff, diff as diff_rankings
from engine.explain import explain as explain_unit
from engine.fold import LogState
from engine.rank import rank_tier
from engine.result import (
    AdoptionTrace,
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
from events.interface import ConcurrencyError
from events.merkle import Checkpoint
from events.types import TIERS, Event, PublishedTier, RankingPublished
from ictindex.errors import UsageError

if TYPE_CHECKING:
    from ictindex.app import Ictindex

try:
    ENGINE_VERSION = metadata.version("ictindex")
except metadata.PackageNotFoundError:  # running from a checkout that was never installed
    ENGINE_VERSION = "0+unknown"


class EditionChanged(UsageError):
    """The installed edition's content, or the code of its rule kinds, differs from what the
    year adopted."""


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
    loaded = state.loaded_years
    if loaded is not None and year - 1 not in loaded and needs_previous(methodology, tier):
        # carry_forward reads last year's values: fold that year too
        state = app.state(as_of, year=year, tier=tier, years=loaded | {year - 1})
        ys = state.year_state(year)
    previous = state.year_state(year - 1) if needs_previous(methodology, tier) else None
    scores = score_tier(ys, tier, methodology, app.registry.rules, previous=previous)
    # The app keeps the last checkpoint: ranking several tiers of one state hashes the log once.
    checkpoint = app.checkpoint_at(seq)
    provenance = Provenance(
        engine_version=ENGINE_VERSION,
        edition=methodology.id,
        content_hash=chosen.content_hash,
        plugin=chosen.distribution or chosen.plugin,
        plugin_version=chosen.version or "",
        checkpoint_size=seq,
        checkpoint_root=checkpoint.root if checkpoint else None,
        as_of=as_of.describe(),
        rule_kinds=app.registry.scoring_code(methodology, tier),
    )
    return Replay(rank_tier(scores, provenance), scores, state, seq)


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
        raise UsageError(f"{year} {tier} adopted {adopted.edition}, which no loaded plugin provides "
                         f"(installed: {', '.join(sorted(registry.editions)) or 'none'})"
                         f"{registry.missing_note()}")
    chosen = registry.edition(adopted.edition)
    if chosen.content_hash != adopted.content_hash and not allow_changed:
        raise EditionChanged(
            f"the installed {adopted.edition} (content hash {chosen.content_hash[:12]}…) is not "
            f"the edition {year} {tier} adopted (content hash {adopted.content_hash[:12]}…): "
            "its rules changed since. Replaying it would not reproduce what was adopted; pass "
            "--allow-changed-edition to replay under the installed content on purpose")
    # Only adoptions that recorded their plugins' code can tell it changed: one that recorded
    # nothing used ictindex's own rule kinds only, or was made before they were recorded.
    if adopted.rule_kinds and not allow_changed and tier in chosen.methodology.tiers:
        current = registry.adopted_code(chosen.methodology, tier)
        if current != adopted.rule_kinds:
            now = registry.scoring_code(chosen.methodology, tier)
            changed = [f"{name} was {adopted.rule_kinds.get(name, 'ictindex')}, is {now.get(name, 'unused')}"
                       for name in sorted(set(current) | set(adopted.rule_kinds))
                       if current.get(name) != adopted.rule_kinds.get(name)]
            raise EditionChanged(
                f"the code that scores {year} {tier} under {adopted.edition} is not the code it "
                f"adopted: rule kind {'; '.join(changed)}. Replaying it would not reproduce what "
                "was adopted; pass --allow-changed-edition to replay under the installed code on "
                "purpose")
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
    adopted = state.year_state(year).adoption_event(tier)
    readoption = None
    if edition is None and adopted is not None and adopted.payload.reason:
        # only a re-adoption carries a reason (`adopt` requires one to replace an edition)
        adopted = app.store.get(adopted.seq)  # the replay read it lean: no actor
        a = adopted.payload
        readoption = AdoptionTrace(seq=adopted.seq, event_id=adopted.event_id, edition=a.edition,
                                   actor=adopted.actor, recorded_at=adopted.recorded_at,
                                   reason=a.reason, authority=a.authority or "")
    x = explain_unit(r.scores, unit_id, ranking=r.ranking, provenance=r.ranking.provenance,
                     readoption=readoption)
    lineage = state.lineage(unit_id)
    return msgspec.structs.replace(x, lineage=lineage) if lineage else x


def diff(app: "Ictindex", year: int, tier: str, *, old: AsOf | str, new: AsOf | str,
         edition: str | None = None, allow_changed_edition: bool = False) -> RankingDiff:
    """What moved between two as-of points, and the events in between that moved it."""
    a = replay(app, year, tier, as_of=old, edition=edition, allow_changed_edition=allow_changed_edition)
    b = replay(app, year, tier, as_of=new, edition=edition, allow_changed_edition=allow_changed_edition)
    lo, hi = sorted((a.seq, b.seq))
    between = list(app.store.read(lo + 1, hi + 1)) if hi > lo else []
    return diff_rankings(a.ranking, b.ranking, between, old_scores=a.scores, new_scores=b.scores)


def readoption_diff(app: "Ictindex", year: int, tier: str, edition: str, *,
                    state: LogState | None = None) -> RankingDiff:
    """What adopting `edition` for `tier` of `year` instead of the adopted one would change."""
    old = replay(app, year, tier, allow_changed_edition=True, state=state)
    new = replay(app, year, tier, edition=edition, state=state)
    return diff_rankings(old.ranking, new.ranking, [], old_scores=old.scores,
                         new_scores=new.scores)


class Published(tuple):
    """What `publish` did: `(event, ranking)` as before, and `recorded`, False when the decision
    had already published this very result (`event` is then that publication); `rankings`,
    each tier's ranking published, and `checkpoint`, the decision's (`decision_checkpoint`)."""

    def __new__(cls, event: Event, ranking: Ranking, recorded: bool = True, *,
                rankings: dict[str, Ranking] | None = None,
                checkpoint: Checkpoint | None = None) -> "Published":
        self = super().__new__(cls, (event, ranking))
        self.event, self.ranking, self.recorded = event, ranking, recorded
        self.rankings = rankings if rankings is not None else {ranking.tier: ranking}
        self.checkpoint = checkpoint
        return self


def publish(app: "Ictindex", year: int, tier: str | Sequence[str] | None, *, decision: str,
            date: dt.date | None = None, actor: str, supersede: bool = False, reason: str = "",
            allow_missing: bool = False) -> Published:
    """Record the publication of the current ranking of `tier` in `year`; with several tiers
    (None: every tier with an adopted edition that year), one event publishes them all, so
    that the decision names one checkpoint (`decision_checkpoint`).

    The same decision publishing the same result again records nothing (`recorded` False;
    of several tiers, those already published so are left out of the event); publishing
    another result under a decision already published needs `supersede` (one tier) and a
    `reason`, recorded with the event it replaces.  Refused while some unit has missing
    inputs, unless `allow_missing`.
    """
    from ictindex.importing import free_text

    tiers = _publish_tiers(app, year, tier)
    decision = decision.strip()
    if not decision:
        raise UsageError("a publication needs the decision that publishes it (--decision)")
    reason = free_text("--reason", reason)
    if supersede and not reason:
        raise UsageError("--supersede needs a --reason: why the decision's published result changes")
    if supersede and len(tiers) > 1:
        raise UsageError("--supersede replaces one tier's publication at a time: name one --tier")
    for attempt in range(_PUBLISH_ATTEMPTS):
        first = replay(app, year, tiers[0])
        # one state for every tier: all are computed from the same checkpoint
        replays = [first] + [replay(app, year, t, state=first.state) for t in tiers[1:]]
        for r in replays:
            refuse_missing_inputs(r, allow_missing)
        new: list[tuple[Ranking, str]] = []
        already: list[Event] = []
        supersedes = ""
        for r in replays:
            ranking, p, digest = r.ranking, r.ranking.provenance, result_hash(r.ranking)
            earlier = [e for e in first.state.year_state(year).publications(r.ranking.tier)
                       if e.payload.decision == decision]
            if earlier:
                last = earlier[-1]
                q: RankingPublished = last.payload
                if (q.edition, q.content_hash, q.result_hash) == (p.edition, p.content_hash, digest):
                    already.append(last)
                    continue
                if not supersede:
                    raise UsageError(
                        f"decision {decision} already published {year} {q.tier} (#{last.seq}) "
                        f"with another result (hash {q.result_hash[:16]}…, now {digest[:16]}…): "
                        "publishing it again replaces what the decision published; pass "
                        "--supersede with a --reason, or publish under the new decision")
                supersedes = last.event_id
            elif supersede:
                raise UsageError(f"decision {decision} has not published {year} {r.ranking.tier}: "
                                 "there is nothing to supersede")
            new.append((ranking, digest))
        if not new:
            last = max(already, key=lambda e: e.seq)
            return Published(last, replays[-1].ranking, recorded=False,
                             rankings={r.ranking.tier: r.ranking for r in replays},
                             checkpoint=decision_checkpoint(app, decision, year))
        (ranking, digest), rest = new[0], new[1:]
        p = ranking.provenance
        payload = RankingPublished(
            year=year, tier=ranking.tier, edition=p.edition, content_hash=p.content_hash,
            checkpoint_size=first.seq,
            # What is published is computed from the stored leaves, not the derived frontier.
            checkpoint_root=app.store.checkpoint(first.seq).root if first.seq else "",
            result_hash=digest, decision=decision, date=date, supersedes=supersedes,
            reason=reason if supersedes else "",
            also=tuple(PublishedTier(tier=r.tier, edition=r.provenance.edition,
                                     content_hash=r.provenance.content_hash, result_hash=d)
                       for r, d in rest))
        # expected_last_seq: nothing may slip in between the replay and the publication; if
        # something did, replay again.
        try:
            [event] = app.store.append([payload], actor=actor, expected_last_seq=first.seq)
        except ConcurrencyError:
            if attempt == _PUBLISH_ATTEMPTS - 1:
                raise
            continue
        _keep_published(app, event.seq, [r for r, _ in new])
        return Published(event, ranking, rankings={r.tier: r for r, _ in new},
                         checkpoint=app.store.checkpoint(event.seq))
    raise AssertionError("unreachable")  # pragma: no cover


def _publish_tiers(app: "Ictindex", year: int, tier: str | Sequence[str] | None) -> list[str]:
    """The tiers to publish, in the log's tier order: those named, else every adopted one."""
    if isinstance(tier, str):
        return [tier]
    if tier:
        unknown = [t for t in tier if t not in TIERS]
        if unknown:
            raise UsageError(f"--tier {unknown[0]!r} is not a tier ({', '.join(TIERS)})")
        return [t for t in TIERS if t in tier]
    ys = app.state(year=year).year_state(year)
    adopted = [t for t in TIERS if ys.adoption(t) is not None]
    if not adopted:
        raise UsageError(f"no methodology adopted for {year}: there is nothing to publish")
    return adopted


def decision_checkpoint(app: "Ictindex", decision: str, year: int | None = None) -> Checkpoint:
    """The checkpoint a decision names: the log right after its last publication event (a
    decision recorded as several events, one per tier, names the one after the last)."""
    decision = decision.strip()
    state = app.state(year=year) if year is not None else app.state()
    seqs = [e.seq for y in ([year] if year is not None else state.years())
            for t in TIERS for e in state.year_state(y).publications(t)
            if e.payload.decision == decision]
    if not seqs:
        raise UsageError(f"decision {decision} has published nothing"
                         + (f" for {year}" if year is not None else ""))
    return app.store.checkpoint(max(seqs))


_PUBLISH_ATTEMPTS = 50


def publication_check(app: "Ictindex", year: int, tier: str, ranking: Ranking) -> dict:
    """How a ranking replayed `--as-of published` compares with what was published: the
    publication's seq, decision and recorded result hash, the hash replayed, and `reproduces`."""
    event = app.state(year=year).year_state(year).publications(tier)
    last = event[-1]
    digest = result_hash(ranking)
    return {"seq": last.seq, "decision": last.payload.decision,
            "result_hash": last.payload.result_hash, "replayed_hash": digest,
            "reproduces": digest == last.payload.result_hash}


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


def _keep_published(app: "Ictindex", seq: int, rankings: list[Ranking]) -> None:
    # kept beside the log so that verify can name the first unit that differs; an event that
    # publishes several tiers keeps them as a JSON array
    app.store.keep_published(seq, canonical_bytes(rankings[0] if len(rankings) == 1 else rankings))


def _published_copy(app: "Ictindex", seq: int, expected_hash: str) -> Ranking | None:
    kept = app.store.published_copy(seq)
    if kept is None:
        return None
    try:
        copies = [decode_ranking(kept)] if kept.lstrip()[:1] != b"[" else \
            msgspec.json.decode(kept, type=list[Ranking])
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return next((c for c in copies if result_hash(c) == expected_hash), None)


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
