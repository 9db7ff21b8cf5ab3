"""The Jinja2 environment of the site's templates (ictindex/site/templates): autoescape on,
whitespace kept as written, the filters that turn values into text (`engine.text`)."""

from __future__ import annotations

import jinja2

from engine.text import decimal_text, fixed, scale_text, value_text_vi, when_text_vi

__all__ = ["environment"]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("ictindex.site", "templates"),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, extensions=["jinja2.ext.do"])
    env.filters.update(num=fixed, scale=scale_text, value=value_text_vi, when=when_text_vi,
                       decimal=decimal_text)
    return env
