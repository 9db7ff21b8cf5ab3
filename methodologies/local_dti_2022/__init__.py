"""Built-in edition `local-dti@2022`: a province-internal Digital Transformation Index (six main indices; departments 500, districts 600, communes 300 points).

Data in `edition.toml` beside this file; documented in docs/editions/local-dti@2022.md.  Registered
through the same hook a third-party edition package uses.
"""

from __future__ import annotations

from importlib.resources import files

from engine.edition import load_edition
from plugins.hookspecs import hookimpl

SOURCE = "methodologies/local_dti_2022/edition.toml"


@hookimpl
def register_methodologies(register):
    register(load_edition(files(__package__) / "edition.toml", source=SOURCE), source=SOURCE)
