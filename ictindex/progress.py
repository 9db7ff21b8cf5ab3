"""Progress bars for work that takes more than a moment, shown only on a terminal.

Long imports, national replays and site builds call these; when the output is not a terminal
(a pipe, a file, CI, a test) they draw nothing at all and cost nothing, so what a command
prints to stdout stays the same whether or not anyone watches.  Bars go to stderr.

    from ictindex import progress

    for row in progress.track(rows, label="Importing", length=len(rows)):
        ...

    with progress.bar(len(units), label="Building site") as b:
        for unit in units:
            ...
            b.update(1)

`ICTINDEX_PROGRESS=0` turns bars off on a terminal too; `ICTINDEX_PROGRESS=1` forces them on
(for a demonstration in a terminal multiplexer that does not report a TTY).
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO, Iterable, Iterator, TypeVar

import click

__all__ = ["bar", "enabled", "track"]

T = TypeVar("T")

# Below this many steps a bar would only flicker: draw none.
MIN_STEPS = 2


def enabled(file: IO[str] | None = None) -> bool:
    """Whether bars are drawn on `file` (default stderr): a terminal, unless told otherwise."""
    setting = os.environ.get("ICTINDEX_PROGRESS", "").strip().lower()
    if setting in ("0", "no", "false", "off"):
        return False
    if setting in ("1", "yes", "true", "on"):
        return True
    f = file if file is not None else sys.stderr
    try:
        return bool(f.isatty())
    except (AttributeError, ValueError):  # closed or replaced streams
        return False


class _NullBar:
    """What `bar` yields when nothing is drawn: the same methods, doing nothing."""

    def update(self, n: int = 1, current_item: object = None) -> None:
        pass

    def label(self, text: str) -> None:
        pass


class _Bar:
    def __init__(self, inner) -> None:
        self._inner = inner

    def update(self, n: int = 1, current_item: object = None) -> None:
        self._inner.update(n, current_item)

    def label(self, text: str) -> None:
        self._inner.label = text


@contextlib.contextmanager
def bar(length: int | None, *, label: str = "", file: IO[str] | None = None,
        force: bool | None = None) -> Iterator[_NullBar | _Bar]:
    """A bar of `length` steps; call `.update(n)` as work is done.  A no-op off a terminal."""
    out = file if file is not None else sys.stderr
    show = enabled(out) if force is None else force
    if not show or (length is not None and length < MIN_STEPS):
        yield _NullBar()
        return
    with click.progressbar(length=length, label=label, file=out, show_pos=True,
                           show_eta=True, width=30) as inner:
        yield _Bar(inner)


def track(items: Iterable[T], *, label: str = "", length: int | None = None,
          file: IO[str] | None = None, force: bool | None = None) -> Iterator[T]:
    """Yield `items`, advancing a bar on a terminal; exactly `iter(items)` otherwise."""
    out = file if file is not None else sys.stderr
    show = enabled(out) if force is None else force
    if length is None:
        try:
            length = len(items)  # type: ignore[arg-type]
        except TypeError:
            length = None
    if not show or (length is not None and length < MIN_STEPS):
        yield from items
        return
    with click.progressbar(items, length=length, label=label, file=out, show_pos=True,
                           show_eta=True, width=30) as inner:
        yield from inner
