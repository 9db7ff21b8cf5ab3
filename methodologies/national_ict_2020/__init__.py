"""Built-in edition `national-ict@2020`: the national ICT Index of provinces (0–1, the mean of three components, 4 decimals).

Data in `edition.toml` beside this file; documented in docs/editions/national-ict@2020.md.  Registered
through the same hook a third-party edition package uses.
"""

from __future__ import annotations

from importlib.resources import files

from engine.edition import load_edition
from plugins.hookspecs import hookimpl

SOURCE = "methodologies/national_ict_2020/edition.toml"


@hookimpl
def register_methodologies(register):
    register(load_edition(files(__package__) / "edition.toml", source=SOURCE), source=SOURCE)
