"""Built-in edition `local-ict@2020`: the province-internal ICT Index (departments, districts: 8 components, 100 points; communes: 7, 90).

Data in `edition.toml` beside this file; documented in docs/editions/local-ict@2020.md.  Registered
through the same hook a third-party edition package uses.
"""

from __future__ import annotations

from importlib.resources import files

from engine.edition import load_edition
from plugins.hookspecs import hookimpl

SOURCE = "methodologies/local_ict_2020/edition.toml"


@hookimpl
def register_methodologies(register):
    register(load_edition(files(__package__) / "edition.toml", source=SOURCE), source=SOURCE)
