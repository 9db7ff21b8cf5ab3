"""Page names of units: injective, safe on every file system, and read back."""

from __future__ import annotations

import hashlib
import re

__all__ = ["SLUG_MAX", "unit_id_of_slug", "unit_slug"]

# Page names use [A-Za-z0-9_-] only.  A unit id's characters [A-Z0-9-] are written as
# themselves, so the sample's pages keep their names; every other run of characters becomes a
# group `_..._` in which a lowercase ASCII letter is itself and any other character (`_` too)
# is its decimal code point and a `-`.  No file system folds such a name onto another's
# (lowercase letters occur only inside groups, so `ab` and `AB` stay apart where case is
# ignored), and none holds a space, a dot or a character Windows reserves; the last character
# of a Windows device name (CON, NUL, COM1...) is written as a group.  `unit_id_of_slug` reads
# a name back, whatever its case: two ids never share a page.  A name longer than SLUG_MAX is
# cut and ends in `__` and 128 bits of the id's SHA-256 (two groups are never adjacent, so a
# name that is not cut never holds `__`).
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_GROUP = re.compile(r"_([a-z0-9-]+)_", re.IGNORECASE)
_TOKEN = re.compile(r"[a-z]|[0-9]+-")
_DEVICES = frozenset(["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "CLOCK$"]
                     + [f"{d}{n}" for d in ("COM", "LPT") for n in "0123456789"])
SLUG_MAX = 120


def _group(run: str) -> str:
    return "_" + "".join(ch if ch in _LOWER else f"{ord(ch)}-" for ch in run) + "_"


def unit_slug(unit_id: str) -> str:
    """A unit's page name (without .html): injective, and safe on every file system."""
    parts: list[str] = []
    run = ""
    for ch in unit_id:
        if ch in _BARE:
            if run:
                parts.append(_group(run))
                run = ""
            parts.append(ch)
        else:
            run += ch
    if run:
        parts.append(_group(run))
    slug = "".join(parts)
    if slug.upper() in _DEVICES:
        slug = slug[:-1] + _group(slug[-1])
    if not slug or len(slug) > SLUG_MAX:
        digest = hashlib.sha256(unit_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        slug = slug[:SLUG_MAX - 34] + "__" + digest
    return slug


def unit_id_of_slug(slug: str) -> str | None:
    """The unit id a page name stands for, whatever its letter case; None for a cut name."""
    if "__" in slug:
        return None
    out: list[str] = []
    pos = 0
    for m in _GROUP.finditer(slug):
        out.append(slug[pos:m.start()].upper())
        for token in _TOKEN.findall(m.group(1).lower()):
            out.append(token if token in _LOWER else chr(int(token[:-1])))
        pos = m.end()
    out.append(slug[pos:].upper())
    return "".join(out)
