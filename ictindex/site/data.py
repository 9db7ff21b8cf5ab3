"""What the site shows, gathered from the log: per tier its replay, edition, publication and
what changed since; the names and page of every unit.  Plain data, no HTML (`render` draws it)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs

from engine.asof import AsOf
from engine.diff import RankingDiff, diff as diff_rankings
from engine.model import Methodology
from events.types import TIERS, RankingPublished
from ictindex.errors import UsageError
from ictindex.replay import Replay, replay
from ictindex.site.names import unit_slug

if TYPE_CHECKING:
    from ictindex.app import Ictindex

__all__ = ["SiteData", "TierPage", "gather"]


@attrs.frozen
class TierPage:
    tier: str
    replay: Replay
    methodology: Methodology
    edition_hash: str
    publication: RankingPublished | None
    publication_seq: int | None
    diff: RankingDiff | None
    note: str  # why there is no diff, when there is none


@attrs.define
class SiteData:
    app: "Ictindex"
    year: int
    as_of: AsOf
    db_name: str  # the log's file name as the pages' commands write it (shell-quoted)
    tiers: list[TierPage] = attrs.Factory(list)
    names: dict[str, str] = attrs.Factory(dict)  # unit id -> name, every unit of the year
    page_of: dict[str, str] = attrs.Factory(dict)  # unit id -> relative path of its page
    changed: dict[str, set[str]] = attrs.Factory(dict)  # tier -> unit ids in its diff
    lineage: dict[str, tuple] = attrs.Factory(dict)  # unit id -> its changes (LineageStep)
    robustness: bool = False  # a robustness page is built: tier sections link to it
    proof: Any = None  # the site's own proof (ictindex.site.proof.SiteProof), once prepared

    def checkpoint(self) -> tuple[int, str]:
        """SIZE, ROOT the pages were computed from (the latest of the tiers')."""
        best = max(self.tiers, key=lambda t: t.replay.ranking.provenance.checkpoint_size or 0)
        p = best.replay.ranking.provenance
        return p.checkpoint_size or 0, p.checkpoint_root or ""

    def units(self) -> list[tuple[TierPage, str]]:
        """Every unit with a page, with its tier: ranked ones in rank order, then excluded."""
        out: list[tuple[TierPage, str]] = []
        for tp in self.tiers:
            r = tp.replay.ranking
            out.extend((tp, uid) for uid in [x.unit_id for x in r.rows] + [x.unit_id for x in r.excluded])
        return out


def gather(app: "Ictindex", year: int, as_of: AsOf, db_name: str) -> SiteData:
    """The tiers of `year` with an adopted edition (as of `as_of`; with "published", those
    with a publication), replayed; UsageError when there is none."""
    site = SiteData(app=app, year=year, as_of=as_of, db_name=db_name)
    full = app.state()
    published = as_of.kind == "published"
    state = None if published else app.state(as_of)
    view = full if published else state
    ys_view = view.year_state(year)
    for uid, info in ys_view.units.items():
        site.names[uid] = info.name
        lineage = view.lineage(uid)
        if lineage:
            site.lineage[uid] = lineage
    for tier in TIERS:
        adoption = ys_view.adoption(tier)
        if adoption is None:
            continue
        pubs = ys_view.publications(tier)  # those recorded up to the as-of point
        pub_event = pubs[-1] if pubs else None
        if published and pub_event is None:
            continue  # nothing published for this tier: no published ranking to show
        r = replay(app, year, tier, as_of=as_of, state=state)
        entry = app.registry.edition(r.ranking.provenance.edition)
        pub: RankingPublished | None = pub_event.payload if pub_event is not None else None
        d, note = None, ""
        if pub is None:
            note = "Bảng xếp hạng này chưa được công bố."
        elif published:
            note = "Trang này hiển thị đúng kết quả đã công bố."
        else:
            old = replay(app, year, tier, as_of=AsOf(kind="seq", seq=pub.checkpoint_size))
            lo, hi = sorted((old.seq, r.seq))
            between = list(app.store.read(lo + 1, hi + 1)) if hi > lo else []
            d = diff_rankings(old.ranking, r.ranking, between, old_scores=old.scores,
                              new_scores=r.scores)
            site.changed[tier] = {c.unit_id for c in d.changes}
        site.tiers.append(TierPage(
            tier=tier, replay=r, methodology=entry.methodology,
            edition_hash=entry.content_hash, publication=pub,
            publication_seq=pub_event.seq if pub_event is not None else None,
            diff=d, note=note))
        for uid in [x.unit_id for x in r.ranking.rows] + [x.unit_id for x in r.ranking.excluded]:
            site.page_of[uid] = f"units/{unit_slug(uid)}.html"
    if not site.tiers:
        what = "published ranking" if published else "tier with an adopted edition"
        raise UsageError(f"{year} has no {what} as of {as_of.describe()}: nothing to build")
    return site
