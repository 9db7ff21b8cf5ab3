"""Score: the state of a year + a methodology edition → points per unit, component, criterion.

`score_tier` scores the units of one tier that existed in the year:

1. gathers each criterion's inputs (in the order of its `indicators`) from the year's current
   values; a missing input triggers the criterion's missing-data policy (the criterion's own, else
   the tier's):
   - ``zero``: the criterion scores 0 (the rule is not called); the trace says which input was
     missing;
   - ``carry_forward``: the unit's value of the previous year (from `previous`) is used; when
     that is missing too, the criterion scores 0 as under ``zero``;
   - ``exclude_unit``: the unit is left out of the ranking (and of every peer comparison) and
     listed in `TierScores.excluded` with the reason;
   a unit without a single value for the year is, under the edition's default ``no_data =
   "not_ranked"``, listed in `TierScores.excluded` as "no data" whatever the policies say
   (ranking it last at 0, or at last year's values, would publish a score nobody submitted);
   ``no_data = "missing_policy"`` lets the policies above apply to it like to any other unit;
2. lets peer rules (relative to the best, min–max) `prepare` their context from the inputs of
   every *ranked* unit of the tier (units excluded for missing data are left out, and so are rows
   with a missing input scored 0).  Peers are always the whole tier of that year, also when the
   tier ranks by group (`group_by`): the regulations compare "with the best unit of the tier", and
   grouping only splits the published table;
3. scores each criterion with its rule; with ``rounding.applies_to = "criterion"`` each
   criterion's points are rounded before they are added;
4. component points = the criteria's sum clamped to 0..the component maximum; the total = the
   sum (or mean) of the components, from unrounded parts, clamped to 0..scale (the semantics of
   `engine.rules.aggregate.component_points` / `tier_total`, inlined here for speed and checked
   against them by the tests); the published total and component points are rounded with the
   edition's decimals and mode; the grading band comes from the published total as a share of
   the tier's scale (`engine.rules.aggregate.grade`).

Arithmetic runs under `engine.rules.base.DECIMAL_CONTEXT` (exact for sums; 28 significant
digits for quotients; invalid operations and division by zero raise).  No floats, no clock, no
locale.

Rule kinds are pure (same params, max, inputs and context → same outcome), so within one scoring
an outcome is reused for a criterion whose inputs are identical, representation included, to a
unit already scored: yes/no, thresholds, assessor marks, categories and rounded ratios repeat a
lot across 11,000 units.

Traces are cheap: a `UnitScore` keeps the inputs and the rules' `Outcome`s; `engine.explain`
builds the tree with the events behind each input only when asked.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any, Iterable, Mapping, Sequence

import msgspec

from engine.fold import EMPTY, YearState
from engine.model import Component, Criterion, GradingBand, Methodology, Tier
from engine.rules.base import DECIMAL_CONTEXT, Outcome, RuleKind
from events.types import Choice

__all__ = [
    "DECIMAL_CONTEXT",
    "CriterionSpec",
    "Exclusion",
    "Gathered",
    "MissingNote",
    "Scorer",
    "TierScores",
    "UnitScore",
    "exclusion",
    "missing_inputs",
    "needs_previous",
    "round_points",
    "score_tier",
]

_QUANTA: dict[int, Decimal] = {}
_ZERO = Decimal(0)


def _quantum(decimals: int) -> Decimal:
    q = _QUANTA.get(decimals)
    if q is None:
        q = _QUANTA[decimals] = Decimal(1).scaleb(-decimals)
    return q


def round_points(value: Decimal, decimals: int, mode: str) -> Decimal:
    """`value` rounded to `decimals` places with `mode` (never a negative zero)."""
    r = value.quantize(_quantum(decimals), rounding=mode, context=DECIMAL_CONTEXT)
    if r.is_zero() and r.is_signed():
        r = r.copy_abs()
    return r


# -- results -------------------------------------------------------------------------------


class MissingNote(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """Where a missing-data policy applied to one criterion of one unit."""

    policy: str  # "zero" | "carry_forward" | "exclude_unit"
    missing: tuple[str, ...]  # indicators with no value this year
    carried: tuple[str, ...] = ()  # indicators whose value came from `from_year`
    from_year: int | None = None
    zeroed: bool = False  # the criterion scored 0 because an input stayed missing


class Exclusion(msgspec.Struct, frozen=True, kw_only=True):
    """A unit left out of the ranking (policy ``exclude_unit``)."""

    unit_id: str
    name: str
    reason: str
    missing: tuple[tuple[str, str], ...]  # (criterion code, indicator code)


class CriterionSpec:
    """A criterion ready to score: its rule kind, converted params and missing policy."""

    __slots__ = ("index", "component_index", "component", "criterion", "rule", "params",
                 "policy", "peer", "indicators", "max", "fast")

    def __init__(self, index: int, component_index: int, component: Component,
                 criterion: Criterion, rule: RuleKind, params: Any, policy: str) -> None:
        self.index = index
        self.component_index = component_index
        self.component = component
        self.criterion = criterion
        self.rule = rule
        self.params = params
        self.policy = policy
        self.peer = bool(getattr(rule, "peer", False))
        self.indicators = criterion.indicators
        self.max = criterion.max
        # Optional fast path: `points(params, max, inputs, context) -> Decimal`, the same points
        # as `score(...).points` without building the formula (built later, for explain only).
        self.fast = getattr(rule, "points", None)


class UnitScore(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """One scored unit.  Sequences run parallel to `TierScores.criteria` / components."""

    unit: Any  # engine.fold.UnitInfo
    inputs: tuple[tuple[Any, ...], ...]  # per criterion, the inputs the rule saw
    exact: tuple[Decimal | None, ...]  # per criterion, what the rule gave; None: policy zeroed it
    # The rules' outcomes (formula, peers); None where the policy zeroed the criterion or the
    # rule kind scored through its fast `points` method (`TierScores.outcome` recomputes it).
    outcomes: tuple[Outcome | None, ...]
    points: tuple[Decimal, ...]  # per criterion, as added (rounded if applies_to="criterion")
    notes: dict[int, MissingNote]  # criterion index -> where a missing policy applied
    components: tuple[Decimal, ...]  # clamped to 0..max, unrounded
    total: Decimal  # unrounded
    published_components: tuple[Decimal, ...]
    published_total: Decimal
    band: GradingBand | None

    @property
    def unit_id(self) -> str:
        return self.unit.unit_id


class TierScores:
    """Everything `score_tier` computed for one (year, tier) under one edition."""

    __slots__ = ("year", "tier", "edition", "tier_def", "criteria", "units", "excluded",
                 "contexts", "year_state", "previous")

    def __init__(self, year: int, tier: str, edition: Methodology, tier_def: Tier,
                 criteria: tuple[CriterionSpec, ...], units: dict[str, UnitScore],
                 excluded: dict[str, Exclusion], contexts: dict[int, Any],
                 year_state: YearState, previous: YearState | None) -> None:
        self.year = year
        self.tier = tier
        self.edition = edition
        self.tier_def = tier_def
        self.criteria = criteria
        self.units = units  # ranked units, by unit_id (sorted)
        self.excluded = excluded  # by unit_id (sorted)
        self.contexts = contexts  # criterion index -> peer context
        self.year_state = year_state
        self.previous = previous

    @property
    def components(self) -> tuple[Component, ...]:
        return self.tier_def.components

    def compared_total(self, unit_id: str) -> Decimal:
        u = self.units[unit_id]
        return u.published_total if self.edition.ties.compare == "published" else u.total

    def outcome(self, unit_id: str, index: int) -> Outcome | None:
        """The rule's outcome (points, formula, peers) for one criterion of one ranked unit;
        None where the missing-data policy zeroed it."""
        u = self.units[unit_id]
        if u.exact[index] is None:
            return None
        out = u.outcomes[index]
        if out is None:
            spec = self.criteria[index]
            with localcontext(DECIMAL_CONTEXT):
                out = spec.rule.score(spec.params, spec.max, u.inputs[index], self.contexts.get(index))
        return out


# -- scoring -------------------------------------------------------------------------------


def needs_previous(edition: Methodology, tier: str) -> bool:
    """True when some criterion of `tier` carries the previous year's values forward."""
    t = edition.tiers[tier]
    return any(
        (c.missing or t.missing) == "carry_forward" for comp in t.components for c in comp.criteria
    )


def _specs(edition: Methodology, tier_def: Tier, rule_kinds: Mapping[str, RuleKind]) -> tuple[CriterionSpec, ...]:
    specs = []
    for ci, comp in enumerate(tier_def.components):
        for crit in comp.criteria:
            rule = rule_kinds.get(crit.rule)
            if rule is None:
                raise ValueError(
                    f"edition {edition.id}: criterion {crit.code} uses rule kind {crit.rule!r}, "
                    f"which is not registered (registered: {', '.join(sorted(rule_kinds)) or 'none'})"
                )
            try:
                params = msgspec.convert(dict(crit.params), rule.params_type, str_keys=True)
            except msgspec.ValidationError as exc:
                raise ValueError(
                    f"edition {edition.id}: criterion {crit.code}: params for rule "
                    f"{crit.rule!r}: {exc}"
                ) from None
            specs.append(CriterionSpec(len(specs), ci, comp, crit, rule, params,
                                       crit.missing or tier_def.missing))
    return tuple(specs)


class Gathered:
    __slots__ = ("unit", "rows", "notes", "zeroed", "excluded", "no_data")

    def __init__(self, unit, rows, notes, zeroed, excluded, no_data=False):
        self.unit = unit
        self.rows = rows
        self.notes = notes
        self.zeroed = zeroed
        self.excluded = excluded
        self.no_data = no_data  # not a single value this year (excluded under no_data = "not_ranked")


def _value(cell):
    return None if cell is None else cell.value


NO_DATA = "no data (not a single value this year)"


def exclusion(g: Gathered) -> Exclusion:
    missing = tuple(g.excluded)
    if g.no_data:
        reason = NO_DATA
    else:
        reason = f"missing data (policy exclude_unit): {', '.join(f'{ind} ({crit})' for crit, ind in missing)}"
    return Exclusion(unit_id=g.unit.unit_id, name=g.unit.name, reason=reason, missing=missing)


def missing_inputs(scores: "TierScores") -> dict[str, tuple[str, ...]]:
    """unit_id -> the indicators it has no value for this year, for every unit of the tier a
    missing-data policy applied to (ranked, excluded, or listed as no data), by unit_id."""
    out: dict[str, tuple[str, ...]] = {}
    for uid, u in scores.units.items():
        if u.notes:
            out[uid] = tuple(sorted({code for note in u.notes.values() for code in note.missing}))
    for uid, e in scores.excluded.items():
        out[uid] = tuple(sorted({code for _, code in e.missing}))
    return dict(sorted(out.items()))


class Scorer:
    """Per-(tier, edition) constants and the outcome memo of one scoring run."""

    def __init__(self, edition: Methodology, tier_def: Tier, specs: tuple[CriterionSpec, ...],
                 cells, pcells, previous_year: int | None) -> None:
        self.edition = edition
        self.tier_def = tier_def
        self.specs = specs
        self.cells = cells
        self.pcells = pcells
        self.previous_year = previous_year
        r = edition.rounding
        self.mode = r.mode
        self.decimals = r.decimals
        self.quantum = _quantum(r.decimals)
        self.per_criterion = r.applies_to == "criterion"
        self.comp_max = tuple(c.max for c in tier_def.components)
        self.n_comps = len(tier_def.components)
        self.mean = tier_def.aggregate == "mean"
        self.scale = tier_def.scale
        with localcontext(DECIMAL_CONTEXT):
            self.bands = tuple((b.min_share * tier_def.scale, b) for b in edition.grading)
        self.drop_no_data = edition.no_data == "not_ranked"
        # (index, indicators, single indicator or None, policy, component index)
        self.plan = tuple(
            (s.index, s.indicators, s.indicators[0] if len(s.indicators) == 1 else None,
             s.policy, s.component_index)
            for s in specs
        )
        # criteria of one component are consecutive in `specs`: (start, stop) per component
        bounds = []
        for ci in range(self.n_comps):
            idx = [sp.index for sp in specs if sp.component_index == ci]
            bounds.append((idx[0], idx[-1] + 1) if idx else (0, 0))
        self.slices = tuple(bounds)
        # per criterion: input key -> (exact points, outcome or None)
        self.memos: list[dict[Any, tuple[Decimal, Outcome | None]] | None] = [{} for _ in specs]
        self.done = 0  # units finished (memo bookkeeping)

    def gather(self, unit) -> Gathered:
        """The inputs of every criterion of one unit, with the missing policy applied."""
        uc = self.cells.get(unit.unit_id, EMPTY)
        rows = []
        notes = zeroed = excluded = None
        for index, codes, single, policy, _ in self.plan:
            if single is not None:
                c = uc.get(single)
                v = None if c is None else c.value
                if v is not None:
                    if type(v) is Choice:
                        v = v.choice
                    rows.append((v,))
                    continue
                row = [None]
                missing = [single]
            else:
                row = []
                missing = None
                for code in codes:
                    c = uc.get(code)
                    v = None if c is None else c.value
                    if v is None:
                        if missing is None:
                            missing = [code]
                        else:
                            missing.append(code)
                    elif type(v) is Choice:
                        v = v.choice
                    row.append(v)
                if missing is None:
                    rows.append(tuple(row))
                    continue
            # a missing input: apply the policy
            carried: tuple[str, ...] = ()
            zero = True
            if policy == "carry_forward":
                pc = self.pcells.get(unit.unit_id, EMPTY)
                got = []
                for k, code in enumerate(codes):
                    if row[k] is None:
                        pv = _value(pc.get(code))
                        if pv is not None:
                            row[k] = pv.choice if type(pv) is Choice else pv
                            got.append(code)
                carried = tuple(got)
                zero = any(v is None for v in row)
            elif policy == "exclude_unit":
                if excluded is None:
                    excluded = []
                excluded.extend((self.specs[index].criterion.code, code) for code in missing)
            if notes is None:
                notes = {}
            notes[index] = MissingNote(
                policy=policy,
                missing=tuple(missing),
                carried=carried,
                from_year=self.previous_year if carried else None,
                zeroed=zero and policy != "exclude_unit",
            )
            if zero:
                if zeroed is None:
                    zeroed = set()
                zeroed.add(index)
            rows.append(tuple(row))
        if notes is not None and self.drop_no_data and len(notes) == len(self.plan) and not any(
                c.value is not None for c in uc.values()):
            everything = [(self.specs[i].criterion.code, code) for i, codes, *_ in self.plan
                          for code in codes]
            return Gathered(unit, tuple(rows), notes, zeroed or frozenset(), everything, True)
        return Gathered(unit, tuple(rows), notes or {}, zeroed or frozenset(), excluded)

    def prepare(self, ranked: Sequence[Gathered], only: Iterable[int] | None = None) -> dict[int, Any]:
        contexts = {}
        for spec in self.specs:
            if spec.peer and (only is None or spec.index in only):
                i = spec.index
                column = [g.rows[i] for g in ranked if i not in g.zeroed]
                contexts[i] = spec.rule.prepare(spec.params, column)
        return contexts

    def _outcome(self, index: int, row: tuple, contexts: Mapping[int, Any], unit_id: str,
                 key: Any = None):
        """(exact points, outcome or None) of one criterion, through the memo."""
        memo = self.memos[index]
        if memo is not None:
            if key is None:
                if len(row) == 1:
                    v = row[0]
                    tv = type(v)
                    # str() keeps the representation (1.0 vs 1); bools, categories keyed apart.
                    key = str(v) if tv is Decimal else (v if tv is bool else (tv, v))
                else:
                    key = repr(row)
                hit = memo.get(key)
                if hit is not None:
                    return hit
        spec = self.specs[index]
        if spec.fast is not None:
            out = None
            pe = spec.fast(spec.params, spec.max, row, contexts.get(index))
        else:
            out = spec.rule.score(spec.params, spec.max, row, contexts.get(index))
            pe = out.points
        if not (_ZERO <= pe <= spec.max):
            raise ValueError(
                f"rule {spec.criterion.rule!r} gave {pe} points for criterion "
                f"{spec.criterion.code} of unit {unit_id} (allowed 0..{spec.max})"
            )
        hit = (pe, out)
        if memo is not None:
            memo[key] = hit
            # Inputs that hardly repeat (measurements with decimals) are not worth keying:
            # past 2048 units, drop the memo of a criterion that missed for 3 units in 4.
            done = self.done
            if done > 2048 and len(memo) * 4 > done * 3:
                self.memos[index] = None
        return hit

    def finish(self, g: Gathered, contexts: Mapping[int, Any],
               reuse: UnitScore | None = None, stale: set[int] | frozenset = frozenset()) -> UnitScore:
        """Score one gathered unit (re-using `reuse`'s results for criteria not in `stale`)."""
        self.done += 1
        zeroed = g.zeroed
        rows = g.rows
        memos = self.memos
        outcome = self._outcome
        uid = g.unit.unit_id
        zero = _ZERO
        n = len(rows)
        if zeroed or reuse is not None:
            exact: list[Decimal | None] = [None] * n
            outs: list[Outcome | None] = [None] * n
            for index in range(n):
                if index in zeroed:
                    continue
                if reuse is not None and index not in stale:
                    exact[index], outs[index] = reuse.exact[index], reuse.outcomes[index]
                else:
                    exact[index], outs[index] = outcome(index, rows[index], contexts, uid)
        else:  # the common case: every input present, nothing to reuse
            exact = []
            outs = []
            specs = self.specs
            for index in range(n):
                row = rows[index]
                memo = memos[index]
                if memo is None:
                    # inputs that hardly repeat (the memo was dropped): the rule's fast path
                    # directly, `_outcome` only to report points out of range
                    spec = specs[index]
                    fast = spec.fast
                    if fast is not None:
                        pe = fast(spec.params, spec.max, row, contexts.get(index))
                        if zero <= pe <= spec.max:
                            exact.append(pe)
                            outs.append(None)
                            continue
                    hit = outcome(index, row, contexts, uid)
                elif len(row) == 1:
                    v = row[0]
                    tv = type(v)
                    key = str(v) if tv is Decimal else (v if tv is bool else (tv, v))
                    hit = memo.get(key)
                    if hit is None:
                        hit = outcome(index, row, contexts, uid, key)
                else:
                    hit = outcome(index, row, contexts, uid)
                exact.append(hit[0])
                outs.append(hit[1])
        mode, quantum = self.mode, self.quantum
        if self.per_criterion:
            points = [zero if x is None else x.quantize(quantum, rounding=mode) for x in exact]
        else:
            points = [zero if x is None else x for x in exact]
        comp_points = []
        for (a, b), m in zip(self.slices, self.comp_max):
            s = sum(points[a:b], zero)
            comp_points.append(m if s > m else (zero if s < zero else s))
        total = sum(comp_points, zero)
        if self.mean:
            total = total / self.n_comps
        total = self.scale if total > self.scale else (zero if total < zero else total)
        published = total.quantize(quantum, rounding=mode)
        band = None
        for threshold, b in self.bands:
            if published >= threshold:
                band = b
                break
        return UnitScore(
            unit=g.unit,
            inputs=rows,
            exact=tuple(exact),
            outcomes=tuple(outs),
            points=tuple(points),
            notes=g.notes,
            components=tuple(comp_points),
            total=total,
            published_components=tuple([c.quantize(quantum, rounding=mode) for c in comp_points]),
            published_total=published,
            band=band,
        )


def _tier_def(edition: Methodology, tier: str) -> Tier:
    tier_def = edition.tiers.get(tier)
    if tier_def is None:
        raise ValueError(
            f"edition {edition.id} has no tier {tier!r} (it has: {', '.join(sorted(edition.tiers))})"
        )
    return tier_def


def score_tier(
    year_state: YearState,
    tier: str,
    edition: Methodology,
    rule_kinds: Mapping[str, RuleKind],
    *,
    previous: YearState | None = None,
) -> TierScores:
    """Score every unit of `tier` that existed in `year_state.year` under `edition`.

    `previous` is the state of the year before (for ``carry_forward``); `rule_kinds` maps rule
    names to registered rule kinds.
    """
    tier_def = _tier_def(edition, tier)
    specs = _specs(edition, tier_def, rule_kinds)
    sc = Scorer(edition, tier_def, specs, year_state.cells,
                 previous.cells if previous is not None else EMPTY,
                 previous.year if previous is not None else None)
    with localcontext(DECIMAL_CONTEXT):
        ranked: list[Gathered] = []
        excluded: dict[str, Exclusion] = {}
        for unit in year_state.tier_units(tier):
            g = sc.gather(unit)
            if g.excluded:
                excluded[unit.unit_id] = exclusion(g)
            else:
                ranked.append(g)
        contexts = sc.prepare(ranked)
        finish = sc.finish
        units = {g.unit.unit_id: finish(g, contexts) for g in ranked}
    return TierScores(year_state.year, tier, edition, tier_def, specs, units, excluded, contexts,
                      year_state, previous)
