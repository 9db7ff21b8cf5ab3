"""What-if and robustness analysis of a tier's ranking: replays under changed or varied
methodology choices.  Read-only: nothing here appends to the log.

- `whatif`: the ranking under the edition changed by ``PATH=VALUE`` assignments
  (`engine.whatif`), diffed against the ranking under the edition as it is (`engine.diff`).
- `robustness`: the Monte Carlo of `engine.robustness` over the adopted ranking, the tier scored
  once per missing-data policy drawn from.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING, Sequence

import attrs
from msgspec.structs import replace

from engine.asof import AsOf
from engine.diff import RankingDiff, diff as diff_rankings
from engine.edition import content_hash
from engine.fold import LogState
from engine.model import Methodology, TieRule
from engine.rank import rank_tier
from engine.result import Ranking
from engine.robustness import Basis, Robustness, basis_of, robustness as run_robustness
from engine.score import TierScores, needs_previous, score_tier
from engine.whatif import Assignment, apply_assignments, parse_assignment
from ictindex.errors import UsageError
from ictindex.replay import Replay, replay

if TYPE_CHECKING:
    from ictindex.app import Ictindex

__all__ = ["WhatIf", "parse_vary", "robustness", "rescore", "whatif"]

POLICIES = ("zero", "carry_forward", "exclude_unit")


@attrs.frozen
class WhatIf:
    base: Replay
    edition: Methodology  # the changed edition
    content_hash: str
    assignments: tuple[Assignment, ...]
    ranking: Ranking
    scores: TierScores
    diff: RankingDiff


def rescore(app: "Ictindex", base: Replay, year: int, tier: str, methodology: Methodology,
            ) -> tuple[TierScores, Ranking]:
    """Score and rank `tier` under `methodology` from the same log prefix as `base`."""
    if tier not in methodology.tiers:
        raise UsageError(f"{methodology.id} has no {tier} tier")
    state = base.state
    loaded = state.loaded_years
    if needs_previous(methodology, tier) and loaded is not None and year - 1 not in loaded:
        # carry_forward reads last year's values: fold that year too, at the same point
        state = app.state(AsOf(kind="seq", seq=base.seq), year=year, tier=tier,
                          years=loaded | {year - 1})
    previous = state.year_state(year - 1) if needs_previous(methodology, tier) else None
    scores = score_tier(state.year_state(year), tier, methodology, app.registry.rules,
                        previous=previous)
    # the same log prefix and versions; the changed edition named by its own content hash
    provenance = replace(base.ranking.provenance, edition=methodology.id,
                         content_hash=content_hash(methodology))
    return scores, rank_tier(scores, provenance)


def whatif(app: "Ictindex", year: int, tier: str, assignments: Sequence[str], *,
           edition: str | None = None, as_of: str | None = None,
           allow_changed_edition: bool = False) -> WhatIf:
    """The ranking under the edition changed by `assignments`, and its diff against the
    ranking under the edition as it is."""
    if not assignments:
        raise UsageError("name at least one change: --set PATH=VALUE")
    parsed = tuple(parse_assignment(a) for a in assignments)
    base = replay(app, year, tier, as_of=as_of, edition=edition,
                  allow_changed_edition=allow_changed_edition)
    methodology = base.scores.edition
    changed = apply_assignments(methodology, parsed, app.registry.rules)
    scores, ranking = rescore(app, base, year, tier, changed)
    d = diff_rankings(base.ranking, ranking, [], old_scores=base.scores, new_scores=scores)
    if changed.ties != methodology.ties:
        # no unit's points moved for these, the tie rule did: say so, not "others moved"
        d = replace(d, changes=tuple(
            replace(u, causes=("edition",)) if u.causes == ("others_moved",) else u
            for u in d.changes))
    return WhatIf(base=base, edition=changed, content_hash=ranking.provenance.content_hash,
                  assignments=parsed, ranking=ranking, scores=scores, diff=d)


_WIDTH = re.compile(r"(?:±|\+-|\+/-)?\s*([0-9]+(?:\.[0-9]+)?)\s*%")


def _width(text: str) -> Decimal:
    m = _WIDTH.fullmatch(text.strip())
    if not m:
        raise UsageError(f"--vary weights={text}: write the variation as a percentage, e.g. "
                         "weights=±20% (or +-20%)")
    width = Decimal(m.group(1)) / 100
    if width >= 1:
        raise UsageError(f"--vary weights={text}: the variation must be below 100%")
    return width


def _ties(text: str, adopted: TieRule) -> list[TieRule]:
    out = []
    for item in text.split(","):
        method, _, compare = item.strip().partition("/")
        if method not in ("competition", "dense") or compare not in ("", "published", "exact"):
            raise UsageError(f"--vary ties={text}: {item.strip()!r} is not a tie rule "
                             "(competition or dense, optionally /published or /exact)")
        out.append(TieRule(method=method, compare=compare or adopted.compare))
    return out


def parse_vary(options: Sequence[str], methodology: Methodology, tier: str
               ) -> tuple[Decimal, list[str], list[TieRule]]:
    """`--vary` options → (weights' width, missing policies, tie rules), the adopted first."""
    width = Decimal(0)
    tier_def = methodology.tiers[tier]
    policies: list[str] = [tier_def.missing]
    ties: list[TieRule] = [methodology.ties]
    seen: set[str] = set()
    for option in options:
        what, eq, value = option.partition("=")
        what = what.strip()
        if not eq or not value.strip():
            raise UsageError(f"--vary {option!r}: write WHAT=VALUES, e.g. weights=±20%")
        if what in seen:
            raise UsageError(f"--vary {what} is given twice")
        seen.add(what)
        if what == "weights":
            width = _width(value)
        elif what == "missing":
            for p in (v.strip() for v in value.split(",")):
                if p not in POLICIES:
                    raise UsageError(f"--vary missing={value}: {p!r} is not a missing-data "
                                     f"policy (one of: {', '.join(POLICIES)})")
                if p not in policies:
                    policies.append(p)
        elif what == "ties":
            for t in _ties(value, methodology.ties):
                if t not in ties:
                    ties.append(t)
        else:
            raise UsageError(f"--vary {option!r}: can vary weights, missing or ties")
    return width, policies, ties


def _with_policy(methodology: Methodology, tier: str, policy: str) -> Methodology:
    """The edition with `policy` for every criterion of `tier` (criterion overrides dropped)."""
    t = methodology.tiers[tier]
    components = tuple(
        replace(c, criteria=tuple(replace(k, missing=None) for k in c.criteria))
        for c in t.components)
    tiers = dict(methodology.tiers)
    tiers[tier] = replace(t, components=components, missing=policy)
    return replace(methodology, tiers=tiers)


def robustness(app: "Ictindex", year: int, tier: str, *, samples: int, seed: int,
               vary: Sequence[str] = (), edition: str | None = None, as_of: str | None = None,
               allow_changed_edition: bool = False, state: LogState | None = None
               ) -> Robustness:
    """Monte Carlo of `engine.robustness` over the ranking of `tier` in `year` (`state`: an
    already folded log, as `ictindex.replay.replay` takes it, to rank several tiers)."""
    if samples < 1:
        raise UsageError("--samples must be at least 1")
    base = replay(app, year, tier, as_of=as_of, edition=edition,
                  allow_changed_edition=allow_changed_edition, state=state)
    methodology = base.scores.edition
    width, policies, ties = parse_vary(vary, methodology, tier)
    bases: list[Basis] = [basis_of(base.scores, f"missing={policies[0]}")]
    adopted_hash = content_hash(methodology)
    for policy in policies[1:]:
        changed = _with_policy(methodology, tier, policy)
        if content_hash(changed) == adopted_hash:
            bases.append(basis_of(base.scores, f"missing={policy}"))
        else:
            scores, _ = rescore(app, base, year, tier, changed)
            bases.append(basis_of(scores, f"missing={policy}"))
    return run_robustness(base.ranking, methodology.tiers[tier], methodology.rounding, bases,
                          ties, width=width, samples=samples, seed=seed)
