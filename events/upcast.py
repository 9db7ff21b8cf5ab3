"""Upcasters: map the raw JSON of an old schema version to the next one, on read.

Old events are never rewritten: their stored bytes (and so their leaf hashes) stay as they were
written.  When an event of schema version `v < SCHEMA_VERSION` is read, the chain of upcasters
`v → v+1 → ... → SCHEMA_VERSION` is applied to its raw decoded dict, and only then is the dict
decoded into the current typed `Event`.

An upcaster is a pure function `dict -> dict` from one version to the next, registered under
the version it reads::

    @UPCASTERS.register(1)
    def _v1_to_v2(raw: dict) -> dict:
        raw["payload"].setdefault("source", "")
        return raw

The registry sets `raw["schema"]` to the next version after each step, so an upcaster only
touches the fields that changed.  Schema 1 is the first version: no upcaster is registered yet,
but the mechanism is tested with a synthetic v0 → v1 step (tests/events/test_upcast.py).
"""

from __future__ import annotations

from typing import Any, Callable

from .types import SCHEMA_VERSION

RawEvent = dict[str, Any]
Upcaster = Callable[[RawEvent], RawEvent]


class UpcastError(ValueError):
    """The raw event cannot be brought to the current schema version."""


class Upcasters:
    """A chain of upcasters keyed by the schema version each one reads."""

    def __init__(self, current: int = SCHEMA_VERSION) -> None:
        self.current = current
        self._steps: dict[int, Upcaster] = {}

    def register(self, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: register the upcaster from `from_version` to `from_version + 1`."""
        if not 0 <= from_version < self.current:
            raise ValueError(
                f"an upcaster reads a version below the current {self.current}, "
                f"not {from_version}"
            )

        def decorator(fn: Upcaster) -> Upcaster:
            if from_version in self._steps:
                raise ValueError(f"an upcaster from schema {from_version} is already registered")
            self._steps[from_version] = fn
            return fn

        return decorator

    def versions(self) -> list[int]:
        """The schema versions that have an upcaster, ascending."""
        return sorted(self._steps)

    def upcast(self, raw: RawEvent) -> RawEvent:
        """Apply the chain to `raw` until it is at the current version, and return it."""
        version = raw.get("schema")
        if type(version) is not int:
            raise UpcastError(f"event has no integer schema version: {version!r}")
        if version > self.current:
            raise UpcastError(
                f"event has schema {version}, newer than this program's {self.current}: upgrade"
            )
        while version < self.current:
            step = self._steps.get(version)
            if step is None:
                raise UpcastError(f"no upcaster from schema {version} to {version + 1}")
            raw = step(raw)
            version += 1
            raw["schema"] = version
        return raw


# The registry `decode_event` uses by default.  Schema 1 is the first: nothing to upcast yet.
UPCASTERS = Upcasters()
