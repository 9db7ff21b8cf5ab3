"""engine.robustness: Monte Carlo of a ranking over weights, missing policy and tie rule."""

from __future__ import annotations

import hashlib
from decimal import Context, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import given, settings, strategies as st

from engine.model import TieRule
from engine.rank import assign_ranks
from engine.robustness import basis_of, draw, robustness
from tests.engine.engine_testkit import Log, mini_edition, run

D = Decimal
TOP = {"pc": "1", "bw": "100", "net": True, "head": {"choice": "chairman"}, "lead": "5"}

unit_values = st.fixed_dictionaries({
    "pc": st.integers(0, 100).map(lambda k: D(k) / 100),
    "bw": st.integers(0, 1000).map(lambda k: D(k) / 10),
    "net": st.booleans(),
    "head": st.sampled_from(["chairman", "deputy", "none"]).map(lambda c: {"choice": c}),
    "lead": st.integers(0, 20).map(lambda k: D(k) / 4),
})

editions = st.builds(
    mini_edition,
    method=st.sampled_from(["competition", "dense"]),
    compare=st.sampled_from(["published", "exact"]),
    aggregate=st.sampled_from(["sum", "mean"]),
    applies_to=st.sampled_from(["publication", "criterion"]),
    decimals=st.sampled_from([0, 1, 2]),
    mode=st.sampled_from(["ROUND_HALF_UP", "ROUND_HALF_EVEN", "ROUND_DOWN"]),
    group_by=st.sampled_from([None, "parent_id"]),
)


def scored(values: list[dict], edition, *, with_top: bool = False):
    log = Log()
    units = [(f"U{k:02d}", v) for k, v in enumerate(values)]
    if with_top:
        units.append(("MAX", TOP))
    for k, (uid, _) in enumerate(units):
        log.register(uid, f"Đơn vị {uid}", parent_id=f"P{k % 2}")
    for uid, v in units:
        log.submit_all(2020, uid, v)
    return run(log.events, edition)


def analyse(scores, ranking, *, width="0", samples=5, seed=1, ties=None, bases=None):
    edition = scores.edition
    return robustness(ranking, scores.tier_def, edition.rounding,
                      bases or [basis_of(scores, "missing=zero")], ties or [edition.ties],
                      width=D(width), samples=samples, seed=seed)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(unit_values, min_size=1, max_size=8), edition=editions,
       seed=st.integers(0, 2**32), samples=st.integers(1, 6))
def test_with_no_variation_every_unit_has_its_published_rank_in_every_sample(values, edition,
                                                                              seed, samples):
    scores, ranking = scored(values, edition)
    r = analyse(scores, ranking, samples=samples, seed=seed)
    assert [u.unit_id for u in r.units] == [row.unit_id for row in ranking.rows]
    for u, row in zip(r.units, ranking.rows):
        assert (u.rank, u.median, u.p5, u.p95) == (row.rank,) * 4
        assert u.keeps == 1 and u.ranked_in == samples
    assert all(d.factors == (1,) * len(r.components) for d in r.draws)
    assert all(d.spearman in (None, D(1)) for d in r.draws)


@settings(max_examples=40, deadline=None)
@given(values=st.lists(unit_values, min_size=1, max_size=8), edition=editions,
       seed=st.integers(0, 2**32), width=st.integers(1, 90))
def test_a_unit_at_every_components_maximum_keeps_rank_1_in_every_sample(values, edition, seed,
                                                                          width):
    scores, ranking = scored(values, edition, with_top=True)
    assert ranking.row("MAX").rank == 1
    ties = [edition.ties, TieRule(method="dense", compare="exact")]
    r = analyse(scores, ranking, width=D(width) / 100, samples=20, seed=seed, ties=ties)
    top = next(u for u in r.units if u.unit_id == "MAX")
    assert (top.median, top.p5, top.p95, top.keeps) == (1, 1, 1, 1)
    assert any(d.factors != (1,) * len(r.components) for d in r.draws)


def test_draws_are_sha256_counters_anyone_can_recompute():
    expected = int.from_bytes(hashlib.sha256(b"ictindex-robustness/1:7:3:HT").digest()[:8], "big")
    assert draw(7, 3, "HT") == expected
    scores, ranking = scored([TOP, {**TOP, "pc": "0.5"}], mini_edition())
    r = analyse(scores, ranking, width="0.2", samples=4, seed=7)
    for d in r.draws:
        for code, factor in zip(r.components, d.factors):
            m = draw(7, d.sample, code) % 2_000_001 - 1_000_000
            assert factor == 1 + D("0.2") * m / 1_000_000
            assert D("0.8") <= factor <= D("1.2")


def test_a_sample_is_the_adopted_totals_reweighted_and_ranked_by_the_tie_rule():
    """One sample recomputed independently, in exact fractions: weights renormalised to the
    scale, totals rounded half-up to 2 decimals as published, competition ranks."""
    values = [
        {"pc": "0.9", "bw": "40", "net": True, "head": {"choice": "deputy"}, "lead": "2"},
        {"pc": "0.3", "bw": "90", "net": False, "head": {"choice": "chairman"}, "lead": "4.5"},
        {"pc": "0.7", "bw": "60", "net": True, "head": {"choice": "none"}, "lead": "3"},
        {"pc": "0.5", "bw": "100", "net": True, "head": {"choice": "chairman"}, "lead": "1"},
    ]
    edition = mini_edition()
    scores, ranking = scored(values, edition)
    r = analyse(scores, ranking, width="0.5", samples=1, seed=11)
    [d] = r.draws
    maxima = [Fraction(c.max) for c in scores.tier_def.components]
    factors = [Fraction(f) for f in d.factors]
    k = sum(maxima) / sum(f * m for f, m in zip(factors, maxima))
    weights = [f * k for f in factors]
    totals = {}
    for uid, u in scores.units.items():
        exact = sum(Fraction(p) * w for p, w in zip(u.components, weights))
        cents, rest = divmod(exact * 100, 1)
        totals[uid] = cents + (rest >= Fraction(1, 2))
    expected = {uid: rank for rank, uid in assign_ranks(list(totals.items()))}
    assert {u.unit_id: u.median for u in r.units} == expected
    assert any(expected[row.unit_id] != row.rank for row in ranking.rows), \
        "the seed should move some rank, or the test shows nothing"


def test_the_same_seed_gives_the_same_result_and_another_seed_another():
    values = [{**TOP, "pc": str(D(k) / 10), "lead": str(5 - k % 5)} for k in range(8)]
    scores, ranking = scored(values, mini_edition())
    a = analyse(scores, ranking, width="0.3", samples=30, seed=5)
    b = analyse(scores, ranking, width="0.3", samples=30, seed=5)
    c = analyse(scores, ranking, width="0.3", samples=30, seed=6)
    assert a == b and a.draws != c.draws


def test_a_policy_that_excludes_units_leaves_them_out_of_those_samples():
    values = [dict(TOP, pc="0.4"), {k: v for k, v in TOP.items() if k != "lead"}, dict(TOP, pc="0.8")]
    scores, ranking = scored(values, mini_edition(policy="zero"))
    excl_scores, _ = scored(values, mini_edition(policy="exclude_unit"))
    assert "U01" in excl_scores.excluded
    bases = [basis_of(scores, "missing=zero"), basis_of(excl_scores, "missing=exclude_unit")]
    r = analyse(scores, ranking, samples=40, seed=3, bases=bases)
    u1 = next(u for u in r.units if u.unit_id == "U01")
    chosen = [d.missing for d in r.draws]
    assert u1.ranked_in == chosen.count("missing=zero") < 40
    assert u1.keeps * 40 <= u1.ranked_in


def test_a_basis_that_does_not_give_the_published_ranks_is_refused():
    values = [dict(TOP, pc="0.4"), dict(TOP, pc="0.8")]
    scores, ranking = scored(values, mini_edition())
    dense_scores, _ = scored(values, mini_edition(policy="zero"))
    flipped = basis_of(dense_scores, "x")
    flipped = type(flipped)(label="x", unit_ids=flipped.unit_ids, groups=flipped.groups,
                            points=tuple(reversed(flipped.points)),
                            totals=tuple(reversed(flipped.totals)))
    with pytest.raises(ValueError, match="published rank"):
        analyse(scores, ranking, bases=[flipped])


def reference_ranks(scores, factors, edition) -> dict[str, int]:
    """A sample's ranks the slow way: exact fractions, then `decimal` at 100 digits (exact for
    these totals) rounds them with the edition's mode."""
    tier = scores.tier_def
    maxima = [Fraction(c.max) for c in tier.components]
    fs = [Fraction(f) for f in factors]
    k = sum(maxima) / sum(f * m for f, m in zip(fs, maxima))
    keys = {}
    for uid, u in scores.units.items():
        exact = sum(Fraction(p) * f * k for p, f in zip(u.components, fs))
        if tier.aggregate == "mean":
            exact /= len(maxima)
        exact = min(exact, Fraction(tier.scale))
        if edition.ties.compare == "exact":
            keys[uid] = exact
        else:
            with localcontext(Context(prec=100)):
                d = Decimal(exact.numerator) / Decimal(exact.denominator)
                keys[uid] = d.quantize(Decimal(1).scaleb(-edition.rounding.decimals),
                                       rounding=edition.rounding.mode)
    groups: dict = {}
    for uid, key in keys.items():
        group = scores.units[uid].unit.parent_id if tier.group_by else None
        groups.setdefault(group, []).append((uid, key))
    return {uid: rank for items in groups.values()
            for rank, uid in assign_ranks(items, edition.ties.method)}


@settings(max_examples=40, deadline=None)
@given(values=st.lists(unit_values, min_size=2, max_size=8), edition=editions,
       seed=st.integers(0, 2**32), width=st.integers(1, 90))
def test_a_weighted_sample_ranks_exact_totals_rounded_by_the_editions_rule(values, edition,
                                                                           seed, width):
    scores, ranking = scored(values, edition)
    r = analyse(scores, ranking, width=D(width) / 100, samples=1, seed=seed)
    assert {u.unit_id: u.median for u in r.units} == reference_ranks(scores, r.draws[0].factors,
                                                                      edition)
