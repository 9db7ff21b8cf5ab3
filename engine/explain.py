"""Explain: how one unit's score was derived, down to the events behind every input.

`explain(scores, unit_id)` builds an `Explanation` (see `engine.result`): total → components →
criteria (rule, formula with its numbers, peer values, missing-data policy, rounding, what the
rule clamped) → inputs (value, where it came from) → events (seq, event id, actor, time,
evidence, reason, authority, and whether each still counts).  The tree is built on demand from the scores and the folded
state they keep a reference to; nothing of it is computed while scoring.

`render_text(explanation)` prints it as an indented tree with the edition's Vietnamese names and
points to the edition's decimals.
"""

from __future__ import annotations

from decimal import Decimal

from engine.fold import EMPTY, EventRef, LineageStep, cell_value
from engine.result import (
    AdoptionTrace,
    ComponentTrace,
    CriterionTrace,
    Explanation,
    InputTrace,
    Provenance,
    Ranking,
)
from engine.score import TierScores, round_points
from engine.text import plain, value_text, when_text

__all__ = ["explain", "render_text"]


def _missing_words(note, policy: str) -> str:
    parts = []
    if note.carried:
        parts.append(f"{', '.join(note.carried)} carried forward from {note.from_year}")
    still = [c for c in note.missing if c not in note.carried]
    if still:
        if policy == "carry_forward":
            parts.append(f"{', '.join(still)} missing this year and the year before: 0 points")
        elif policy == "exclude_unit":
            parts.append(f"{', '.join(still)} missing: unit excluded")
        else:
            parts.append(f"{', '.join(still)} missing: 0 points")
    return f"policy {policy}: " + "; ".join(parts)


def explain(
    scores: TierScores,
    unit_id: str,
    *,
    ranking: Ranking | None = None,
    provenance: Provenance | None = None,
    readoption: AdoptionTrace | None = None,
) -> Explanation:
    """The derivation of `unit_id`'s score in `scores` (its rank from `ranking` when given);
    `readoption`: the re-adoption that put the edition in force, named as a cause."""
    edition = scores.edition
    tier_def = scores.tier_def
    state = scores.year_state
    rounding = edition.rounding
    dec, mode = rounding.decimals, rounding.mode
    indicators = {i.code: i for i in edition.indicators}
    if provenance is None and ranking is not None:
        provenance = ranking.provenance
    u = scores.units.get(unit_id)
    ex = scores.excluded.get(unit_id)
    if u is None and ex is None:
        unit = state.units.get(unit_id)
        if unit is None:
            raise KeyError(f"unit {unit_id!r} did not exist in {scores.year}")
        raise KeyError(f"unit {unit_id!r} is a {unit.tier}, not in tier {scores.tier!r}")
    info = u.unit if u is not None else state.units[unit_id]
    rank = group = None
    if ranking is not None:
        row = ranking.row(unit_id)
        if row is not None:
            rank, group = row.rank, row.group
    common = dict(
        year=scores.year,
        tier=scores.tier,
        unit_id=unit_id,
        name=info.name,
        parent_id=info.parent_id,
        edition=edition.id,
        edition_title=edition.title,
        scale=tier_def.scale,
        decimals=dec,
        aggregate=tier_def.aggregate,
        rounding_mode=mode,
        rounding_applies_to=rounding.applies_to,
        rank=rank,
        group=group,
        provenance=provenance,
        readoption=readoption,
    )
    if u is None:
        return Explanation(total=None, total_exact=None, band=None, excluded=ex.reason,
                           components=(), **common)

    cells = state.cells.get(unit_id, EMPTY)
    prev = scores.previous
    pcells = prev.cells.get(unit_id, EMPTY) if prev is not None else EMPTY
    # where each input comes from: (this year's cell, or last year's when carried; status)
    sources: list[list[tuple[object, str]]] = []
    for spec in scores.criteria:
        note = u.notes.get(spec.index)
        row = []
        for code in spec.indicators:
            cell = cells.get(code)
            if cell_value(cell) is not None:
                row.append((cell, "present"))
            elif note is not None and code in note.carried and prev is not None:
                row.append((pcells.get(code), "carried"))
            else:
                row.append((cell, "missing"))
        sources.append(row)
    # the events behind every input, read back in one go per year
    this = [c for row in sources for c, status in row if status != "carried"]
    carried = [c for row in sources for c, status in row if status == "carried"]
    traces = {False: iter(state.traces(this)),
              True: iter(prev.traces(carried) if prev is not None else ())}
    comps = []
    by_comp: list[list[CriterionTrace]] = [[] for _ in tier_def.components]
    for spec, row in zip(scores.criteria, sources):
        i = spec.index
        crit = spec.criterion
        note = u.notes.get(i)
        inputs = []
        for code, (cell, status) in zip(spec.indicators, row):
            meta = indicators.get(code)
            value = cell_value(cell)
            was_carried = status == "carried"
            year = prev.year if was_carried else scores.year
            events = next(traces[was_carried])
            inputs.append(InputTrace(
                indicator=code,
                name_vi=meta.name_vi if meta else "",
                name_en=meta.name_en if meta else "",
                unit=meta.unit if meta else "",
                value=value,
                status=status,
                from_year=year,
                events=events,
            ))
        out = scores.outcome(unit_id, i)
        exact = u.exact[i] if u.exact[i] is not None else Decimal(0)
        if out is not None:
            formula, peers = out.formula, dict(sorted(out.peers.items()))
        else:
            formula, peers = "0 (an input is missing)", {}
        by_comp[spec.component_index].append(CriterionTrace(
            code=crit.code,
            name_vi=crit.name_vi,
            name_en=crit.name_en,
            max=crit.max,
            rule=crit.rule,
            formula=formula,
            points=u.points[i],
            points_exact=exact,
            peers=peers,
            missing=None if note is None else _missing_words(note, note.policy),
            missing_policy=None if note is None else note.policy,
            rounded=rounding.applies_to == "criterion",
            inputs=tuple(inputs),
            clamped=(getattr(out, "clamped", "") or None) if out is not None else None,
        ))
    for ci, comp in enumerate(tier_def.components):
        s = sum((c.points for c in by_comp[ci]), Decimal(0))
        comps.append(ComponentTrace(
            code=comp.code,
            name_vi=comp.name_vi,
            name_en=comp.name_en,
            max=comp.max,
            sum=s,
            capped=s > comp.max,
            points_exact=u.components[ci],
            points=u.published_components[ci],
            criteria=tuple(by_comp[ci]),
        ))
    return Explanation(
        total=u.published_total,
        total_exact=plain(u.total),
        band=None if u.band is None else u.band.name_vi,
        excluded=None,
        components=tuple(comps),
        **common,
    )


# -- text ------------------------------------------------------------------------------------


_KIND = {"submitted": "submitted", "corrected": "corrected", "retracted": "retracted"}


def event_text(e: EventRef, *, with_value: bool = False) -> str:
    """`#123 submitted by ubnd-754 2021-03-02 evidence: 45/BC-UBND` and the like."""
    s = f"#{e.seq} {_KIND[e.kind]} by {e.actor} {when_text(e.recorded_at)}"
    if e.kind == "corrected" and e.target:
        s += f" (corrects {e.target})"
    if e.kind == "retracted" and e.target:
        s += f" (retracts {e.target})"
    if with_value and e.kind != "retracted":
        s += f" value {value_text(e.value)}"
    if e.evidence:
        s += f" evidence: {e.evidence}"
    if e.reason:
        s += f" reason: {e.reason}"
    if e.authority:
        s += f" authority: {e.authority}"
    if e.note:
        s += f" note: {e.note}"
    if e.status != "current" and e.status != "retraction":
        s += f" [{e.status}]"
    return s


def lineage_text(step: LineageStep) -> str:
    """One change of a unit, in a line: when, what, by which decision, why."""
    units = ", ".join(f"{uid} {name}" for uid, name in step.units)
    what = {
        "renamed": f"renamed from {step.old_name} to {step.name}",
        "retired": "retired (abolished)",
        "merged_into": f"merged into {units}",
        "merged_from": f"merged from {units}",
        "split_into": f"split into {units}",
        "split_from": f"split from {units}",
    }[step.kind]
    if step.kind == "merged_from" and step.old_name and step.old_name != step.name:
        what += f" (was {step.old_name}, now {step.name})"
    if step.kind == "split_into" and step.name:
        what += f"; goes on as {step.name}"
    when = step.date.isoformat() if step.date is not None else f"year {step.year}"
    text = f"{when} (counts from {step.year}): {what}, #{step.seq}"
    if step.authority:
        text += f"; by {step.authority}"
    if step.reason:
        text += f"; reason: {step.reason}"
    return text


def render_text(x: Explanation) -> str:
    """The explanation as an indented tree (UTF-8, Vietnamese names with diacritics)."""
    dec, mode = x.decimals, x.rounding_mode

    def pts(d: Decimal) -> str:
        return format(round_points(d, dec, mode), "f")

    lines = [f"{x.name} ({x.unit_id}) — {x.tier}, {x.year}"]
    lines.append(f"Edition {x.edition}: {x.edition_title}")
    if x.readoption is not None:
        a = x.readoption
        line = (f"  re-adopted: #{a.seq} by {a.actor} {when_text(a.recorded_at)} replaced the edition "
                f"adopted before; reason: {a.reason}")
        lines.append(line + (f" authority: {a.authority}" if a.authority else ""))
    if x.lineage:
        lines.append("Lineage:")
        lines.extend(f"  {lineage_text(step)}" for step in x.lineage)
    if x.excluded is not None:
        lines.append(f"Not ranked: {x.excluded}")
        return "\n".join(lines) + "\n"
    head = f"Total: {format(x.total, 'f')} / {pts(x.scale)}"
    if x.total_exact != format(x.total, "f"):
        head += f" (exact {x.total_exact})"
    if x.rank is not None:
        head += f" — rank {x.rank}" + (f" in group {x.group}" if x.group is not None else "")
    if x.band is not None:
        head += f" — {x.band}"
    lines.append(head)
    agg = "mean of components" if x.aggregate == "mean" else "sum of components"
    where = "each criterion" if x.rounding_applies_to == "criterion" else "published points"
    lines.append(f"  ({agg}; {where} rounded {mode} to {dec} decimals)")
    for c in x.components:
        line = f"  {c.code} {c.name_vi}: {format(c.points, 'f')} / {pts(c.max)}"
        if c.capped:
            line += f" (criteria add up to {pts(c.sum)}, capped at {pts(c.max)})"
        lines.append(line)
        for k in c.criteria:
            line = f"    {k.code} {k.name_vi}: {pts(k.points)} / {pts(k.max)}  [{k.rule}] {k.formula}"
            if k.peers:
                line += "  peers: " + ", ".join(f"{n} {value_text(v)}" for n, v in k.peers.items())
            lines.append(line)
            if k.missing:
                lines.append(f"      ! {k.missing}")
            if k.clamped:
                lines.append(f"      ! clamped: {k.clamped}")
            for inp in k.inputs:
                label = inp.indicator + (f" ({inp.name_vi})" if inp.name_vi else "")
                val = value_text(inp.value)
                if inp.unit and inp.value is not None and not isinstance(inp.value, bool):
                    val += f" {inp.unit}"
                if inp.status == "carried":
                    val += f" (carried from {inp.from_year})"
                if len(inp.events) == 1 and inp.events[0].status == "current":
                    lines.append(f"      {label} = {val}  {event_text(inp.events[0])}")
                else:
                    lines.append(f"      {label} = {val}")
                    for e in inp.events:
                        lines.append(f"        {event_text(e, with_value=True)}")
    return "\n".join(lines) + "\n"
