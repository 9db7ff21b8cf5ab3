"""What `Ictindex.verify` and `Ictindex.prove` compute: the checks anyone can run on a log.

`verify` recomputes every hash from the stored bytes, then re-derives every publication,
the projections, the Merkle frontier and the tiles; `prove` shows an event's stored bytes and
their inclusion proof.  Both return a report; printing it is the CLI's part.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from events import frontier
from events.canonical import DecodeError, decode_event, encode_event, leaf_hash_hex, stored_schema
from events.merkle import Checkpoint, InclusionProof
from events.types import SCHEMA_VERSION, Event
from events.verify import VerifyReport, verify as verify_log
from ictindex.errors import UsageError
from ictindex.projections_check import ProjectionCheck, check_projections
from ictindex.replay import PublicationCheck, check_publications

if TYPE_CHECKING:
    from ictindex.app import Ictindex


@attrs.frozen
class Verification:
    """Everything `verify` checked.  `checkpoint` is the one from the stored hashes; verify
    only vouches for it when `ok`."""

    ok: bool
    log: VerifyReport
    checkpoint: str
    publications: list[PublicationCheck]
    projections: ProjectionCheck | None
    frontier_problem: str | None


def verify(app: "Ictindex", checkpoint: Checkpoint | None = None) -> Verification:
    """Check the log (extending `checkpoint` when given), then what is derived from it."""
    store = app.store
    # the stored tiles are checked inside verify's pass, against the leaf hashes it recomputes
    make_check = getattr(store, "tile_check", None)
    tile_check = make_check() if make_check is not None else None
    report = verify_log(store, checkpoint=checkpoint, tiles=tile_check)
    publications = check_publications(app) if report.ok else []
    projections = check_projections(app) if report.ok else None
    frontier_problem = _frontier_problem(store, report) if report.ok else None
    if report.ok and frontier_problem is None:
        # the leaf hashes were just checked against the bodies: the tiles must be theirs
        problems = tile_check.problems() if tile_check is not None else store.tile_problems()
        frontier_problem = "\n".join(problems) or None
    ok = report.ok and all(p.ok for p in publications) and (projections is None or projections.ok) \
        and frontier_problem is None
    current = str(report.current) if report.ok else _stored_checkpoint(store)
    return Verification(ok=ok, log=report, checkpoint=current, publications=publications,
                        projections=projections, frontier_problem=frontier_problem)


def _stored_checkpoint(store) -> str:
    try:
        return str(store.checkpoint())
    except ValueError as e:  # rows not numbered 1..N: there is no checkpoint to print
        return f"none ({e})"


def _frontier_problem(store, report) -> str | None:
    """The derived Merkle frontier must give the root recomputed from the event bodies."""
    kept = store.stored_frontier()
    if kept is None or kept.size > report.size:
        return None if kept is None else "merkle frontier: covers more events than the log has"
    expected = report.current if kept.size == report.size else store.checkpoint(kept.size)
    if kept == expected:
        return None
    return (f"merkle frontier: gives {kept}, the log gives {expected} (the table "
            f"{frontier.TABLE} is derived: drop it and it is rebuilt)")


@attrs.frozen
class Proof:
    """An event's stored bytes and their inclusion proof in `checkpoint`; `problem` says what
    is wrong with the bytes, if anything (then `ok` is false whatever the path)."""

    ok: bool
    checkpoint: Checkpoint
    event: Event
    body: bytes
    proof: InclusionProof
    problem: str | None


def prove(app: "Ictindex", ref: str | int, checkpoint: Checkpoint) -> Proof:
    """Prove that the event `ref` (a seq or an event id) is in `checkpoint`."""
    e = app.event(ref)
    if e.seq > checkpoint.size:
        raise UsageError(f"event #{e.seq} was recorded after checkpoint {checkpoint.size}: "
                         "it cannot be in it")
    if checkpoint.size > app.store.last_seq():
        raise UsageError(f"the log has {app.store.last_seq()} events, fewer than the "
                         f"checkpoint's {checkpoint.size}")
    body, problem = _shown_bytes(app.store, e.seq)
    stored = app.store.inclusion_proof(e.seq, checkpoint.size)
    # The leaf is the hash of the very bytes shown, never the stored hash column: a body edited
    # with its hash kept must not prove.
    proof = InclusionProof(stored.index, stored.size, leaf_hash_hex(body), stored.path)
    ok = problem is None and proof.verify(checkpoint)
    return Proof(ok=ok, checkpoint=checkpoint, event=e, body=body, proof=proof, problem=problem)


@attrs.frozen
class UnitProofs:
    """`prove --unit`: the proofs of a unit's events for a year in one checkpoint."""

    unit_id: str
    year: int
    checkpoint: Checkpoint
    proofs: list[Proof]
    after: list[Event]  # the unit's events of the year recorded after the checkpoint

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.proofs)


def prove_unit(app: "Ictindex", unit_id: str, year: int, checkpoint: Checkpoint) -> UnitProofs:
    """Prove each event of `unit_id` for `year` that `checkpoint` covers (one inclusion
    proof each, each checked against the checkpoint's root)."""
    events = app.events_of_unit(unit_id, year)
    if not events:
        raise UsageError(f"no event of unit {unit_id} for {year} in the log: nothing to prove")
    covered = [e for e in events if e.seq <= checkpoint.size]
    return UnitProofs(unit_id, year, checkpoint, [prove(app, e.seq, checkpoint) for e in covered],
                      [e for e in events if e.seq > checkpoint.size])


def _shown_bytes(store, seq: int) -> tuple[bytes, str | None]:
    """The stored body of event `seq` (the bytes `prove` shows and hashes), and what is wrong
    with it: not the canonical encoding of the event it decodes to, or not that seq."""
    row = next(iter(store.stored_rows(seq)), None)
    if row is None or row.seq != seq or type(row.body) is not bytes:
        return b"", f"event #{seq} is not stored as bytes at seq {seq}"
    body = row.body
    try:
        event = decode_event(body)
    except DecodeError as e:
        return body, f"the stored bytes do not decode: {e}"
    if event.seq != seq:
        return body, f"the stored bytes are event #{event.seq}, not #{seq}"
    if encode_event(event) != body and stored_schema(body) == SCHEMA_VERSION:
        return body, "the stored bytes are not the canonical encoding of the event"
    if leaf_hash_hex(body) != row.hash:
        return body, (f"the stored hash {row.hash} is not the hash of these bytes: the log was "
                      "edited (run `ictindex verify`)")
    return body, None
