"""The Jinja2 environment of the site's templates (ictindex/site/templates): autoescape on,
whitespace kept as written, the filters that turn values into text (`engine.text`), numbers
written as people of the site's language write them (`ictindex.output.number_text`: 84,03 and
1.250 in Vietnamese, 84.03 and 1,250 with `lang="en"`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import jinja2

from engine.text import decimal_text, fixed, scale_text, value_text_vi, when_text_vi
from ictindex.output import number_text

__all__ = ["environment"]


def number_filters(lang: str) -> dict[str, Any]:
    """The filters that write numbers, in `lang`: `num` (points with the edition's decimals),
    `scale` (a maximum), `value` (an indicator value), `decimal` (exact points), `count` (a
    count or any other number)."""

    def value(v: Any) -> str:
        text = value_text_vi(v)
        return number_text(text, lang) if isinstance(v, (Decimal, int)) and not isinstance(v, bool) else text

    return {
        "num": lambda d, decimals: number_text(fixed(d, decimals), lang),
        "scale": lambda d: number_text(scale_text(d), lang),
        "value": value,
        "decimal": lambda d: number_text(decimal_text(d), lang),
        "count": lambda n: "—" if n is None else number_text(n, lang),
    }


def environment(lang: str = "vi") -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ictindex.site", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    env.filters.update(when=when_text_vi, **number_filters(lang))
    return env
