"""The hooks a plugin can implement: the public extension API of ictindex.

Built-in editions, rule kinds and commands are ordinary plugins that implement these same hooks
(`plugins.manager.DEFAULT_PLUGINS`); third-party packages are found through the `ictindex`
entry-point group.
"""

from __future__ import annotations

from typing import Callable

import pluggy

hookspec = pluggy.HookspecMarker("ictindex")
hookimpl = pluggy.HookimplMarker("ictindex")


@hookspec
def register_methodologies(register: Callable) -> None:
    """Called once at start-up to collect methodology editions.

    Call ``register(methodology, source="pkg/edition.toml")`` with each
    `engine.model.Methodology` the plugin provides (usually loaded from a TOML file with
    `engine.edition.load_edition`); `source`, optional, is how error messages name the file.
    Every edition is checked with `engine.edition.check_edition` once all plugins have
    registered.  Two plugins registering the same edition id is an error.  Returns nothing.
    """


@hookspec
def register_rule_kinds(register: Callable) -> None:
    """Called once at start-up to collect rule kinds.

    Call ``register(rule_kind)`` with each object fulfilling `engine.rules.base.RuleKind`;
    optional `name_vi`, `formula_vi` and `terms_vi` members say its name, formula and words in
    Vietnamese for the site (docs/methodologies.md, "Writing a rule kind").  Two plugins registering the same rule kind name is an error.  Returns nothing.
    """


@hookspec
def register_commands(cli) -> None:
    """Called when the command line is built, with the top-level `click.Group`.

    Add commands with ``@cli.command()``.  Returns nothing.
    """
