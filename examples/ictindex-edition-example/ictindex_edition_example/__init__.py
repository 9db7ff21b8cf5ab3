"""Example edition package for ictindex: `example-province@2023` and one custom rule kind.

Two hookimpls, found through the `ictindex` entry point declared in pyproject.toml:
- register_rule_kinds: `target_share`, a rule kind this province needs and ictindex lacks;
- register_methodologies: the edition, data in edition.toml beside this file.
"""

from __future__ import annotations

from importlib.resources import files

from engine.edition import load_edition
from plugins import hookimpl

from ictindex_edition_example.rules import TargetShare

SOURCE = "ictindex_edition_example/edition.toml"


@hookimpl
def register_rule_kinds(register):
    register(TargetShare())


@hookimpl
def register_methodologies(register):
    register(load_edition(files(__package__) / "edition.toml", source=SOURCE), source=SOURCE)
