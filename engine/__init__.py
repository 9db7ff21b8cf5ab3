"""The engine: pure functions from folded events and an edition to scores, rankings,
explanations and diffs.  Nothing here reads a file, a clock or the store.

    state = fold(events)                          # engine.fold
    scores = score_tier(year_state, tier, edition, rule_kinds)      # engine.score
    ranking = rank_tier(scores, provenance)       # engine.rank (engine.rerank speeds it up)
    explanation = explain(scores, unit_id, ranking=ranking)         # engine.explain
    changes = diff(old_ranking, new_ranking, events_between)        # engine.diff

Editions are read with `load_edition` and checked with `check_edition` (engine.edition); as-of
points with `parse_as_of` (engine.asof); values as people type them with `parse_value`
(engine.values); values become text in engine.text.
"""

from engine.asof import AsOf, parse_as_of
from engine.diff import RankingDiff, diff, render_diff_text
from engine.edition import EditionError, check_edition, content_hash, load_edition
from engine.explain import explain, render_text
from engine.fold import LogState, YearState, fold
from engine.model import Methodology
from engine.rank import assign_ranks, rank_tier
from engine.result import Explanation, Provenance, Ranking, canonical_bytes, result_hash
from engine.score import TierScores, score_tier
from engine.values import check_value, parse_value, to_input

__all__ = [
    "AsOf",
    "EditionError",
    "Explanation",
    "LogState",
    "Methodology",
    "Provenance",
    "Ranking",
    "RankingDiff",
    "TierScores",
    "YearState",
    "assign_ranks",
    "canonical_bytes",
    "check_edition",
    "check_value",
    "content_hash",
    "diff",
    "explain",
    "fold",
    "load_edition",
    "parse_as_of",
    "parse_value",
    "rank_tier",
    "render_diff_text",
    "render_text",
    "result_hash",
    "score_tier",
    "to_input",
]
