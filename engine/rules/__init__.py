"""Rule kinds: the contract (`base`), the built-in kinds, and the aggregation helpers.

`BUILTIN_RULE_KINDS` are registered as a plugin by `plugins.builtin_rules`; the engine never
looks them up here directly but through the registry, like any third-party rule kind.
"""

from __future__ import annotations

from engine.rules.base import DECIMAL_CONTEXT, Input, Outcome, ParamsError, RuleKind
from engine.rules.choice import BestOf, Category, Parts, YesNo
from engine.rules.common import Params, convert_params, fmt
from engine.rules.numeric import Assessor, Deduction, Informational, PerItem, Ratio, RatioOfCounts, Thresholds
from engine.rules.relative import MinMax, RelativeToBest, ZScore

BUILTIN_RULE_KINDS: tuple[RuleKind, ...] = (
    Ratio(),
    RatioOfCounts(),
    RelativeToBest(),
    MinMax(),
    ZScore(),
    Thresholds(),
    PerItem(),
    YesNo(),
    Category(),
    Parts(),
    BestOf(),
    Assessor(),
    Deduction(),
    Informational(),
)


def builtin_rule_kinds() -> dict[str, RuleKind]:
    """The built-in rule kinds by name (what `plugins.builtin_rules` registers)."""
    return {r.name: r for r in BUILTIN_RULE_KINDS}


__all__ = [
    "BUILTIN_RULE_KINDS",
    "DECIMAL_CONTEXT",
    "Input",
    "Outcome",
    "Params",
    "ParamsError",
    "RuleKind",
    "builtin_rule_kinds",
    "convert_params",
    "fmt",
]
