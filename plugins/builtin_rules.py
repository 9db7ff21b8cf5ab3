"""The built-in rule kinds, registered as a plugin like any other (see DEFAULT_PLUGINS)."""

from __future__ import annotations

from engine.rules import BUILTIN_RULE_KINDS
from plugins.hookspecs import hookimpl


@hookimpl
def register_rule_kinds(register):
    for rule in BUILTIN_RULE_KINDS:
        register(rule)
