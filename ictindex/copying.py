"""What `Ictindex.copy` does: copy a log from one store to another, byte for byte.

The copy holds the very event bodies, leaf hashes and so checkpoint of its source, whatever
the two stores are (a SQLite file, PostgreSQL, memory): the target's `append_stored` stores the
source's canonical bodies verbatim, chunk by chunk, each chunk one transaction.

Verified as it goes:

1. the source is verified first, as `ictindex verify` checks a log (`events.verify`): a source
   that does not verify is refused before the target is opened, so nothing is written;
2. the target must be empty, or itself verify and be a prefix of the source (its checkpoint
   proved consistent with the source's by a consistency proof): then the copy resumes where
   the target ends.  An interrupted copy (the process killed) leaves the target a prefix
   that verifies, since each chunk commits whole, and running the command again completes it;
3. each row read is checked again as it is copied (its seq, and its stored hash against its
   body), and `append_stored` checks every body: it decodes, is canonical, is the event at its
   seq and chains onto the event before it;
4. at the end the target's checkpoint, computed from what it stores, must be the source's.
"""

from __future__ import annotations

from itertools import islice

import attrs

from events.canonical import leaf_hash_hex
from events.interface import EventLog
from events.merkle import Checkpoint
from events.verify import verify as verify_log
from ictindex import progress
from ictindex.errors import UsageError

# Bodies per `append_stored` call: one transaction each, and what a copy holds in memory (a
# few MB); small enough that a killed copy loses little, large enough that commits are rare.
CHUNK = 10_000


@attrs.frozen
class Copied:
    """What `copy_log` did: `copied` events appended after the target's first `resumed_from`;
    `checkpoint` is both logs' checkpoint now."""

    copied: int
    resumed_from: int
    checkpoint: Checkpoint


def check_source(source: EventLog, name: str) -> Checkpoint:
    """The source's checkpoint, recomputed from its bodies; refused unless it verifies."""
    report = verify_log(source)
    if not report.ok:
        raise UsageError(f"the source {name} does not verify, nothing was copied: "
                         + "; ".join(str(report).splitlines()) + " (see `ictindex verify`)")
    return report.current


def copy_log(source: EventLog, target: EventLog, want: Checkpoint, *, source_name: str,
             target_name: str, chunk: int | None = None) -> Copied:
    """Copy the first `want.size` events of `source` (whose checkpoint `check_source` gave as
    `want`) onto the end of `target`, `chunk` events (default `CHUNK`) per transaction; see
    the module docstring."""
    chunk = chunk or CHUNK
    start = _resume_point(source, target, want, source_name, target_name)
    rows = islice(source.stored_rows(start + 1), want.size - start)
    seq = start
    with progress.bar(want.size - start, label="Copying") as shown:
        while batch := list(islice(rows, chunk)):
            for row in batch:
                seq += 1
                body = bytes(row.body)
                if row.seq != seq or leaf_hash_hex(body) != row.hash:
                    raise UsageError(
                        f"the source {source_name} changed while it was copied: event #{seq} is "
                        f"no longer as verified; {target_name} holds events 1..{seq - 1} of it "
                        "(run `ictindex verify` on the source)")
            target.append_stored((r.body for r in batch), expected_last_seq=seq - len(batch))
            shown.update(len(batch))
    if seq != want.size:
        raise UsageError(f"the source {source_name} lost events while it was copied: it ends at "
                         f"#{seq}, not #{want.size}")
    got = target.checkpoint()
    if got != want:
        raise UsageError(f"the copy's checkpoint {got} is not the source's {want}: "
                         f"{target_name} is not a copy of {source_name}")
    return Copied(copied=seq - start, resumed_from=start, checkpoint=got)


def _resume_point(source: EventLog, target: EventLog, want: Checkpoint, source_name: str,
                  target_name: str) -> int:
    """How many events the target holds already: 0, or a verified prefix of the source."""
    size = target.last_seq()
    if not size:
        return 0
    report = verify_log(target)
    if not report.ok:
        raise UsageError(f"the target {target_name} holds a log that does not verify, nothing "
                         "was copied: " + "; ".join(str(report).splitlines()))
    have = report.current
    diverging = (f"the target {target_name} holds another log than the source {source_name} "
                 f"(its checkpoint {have} is not a prefix of {want}): a copy goes into a new "
                 "log, or into an earlier copy of the same one; nothing was copied")
    if size > want.size:
        raise UsageError(diverging)
    if not source.consistency_proof(size, want.size).verify(have, want):
        raise UsageError(diverging)
    return size


__all__ = ["CHUNK", "Copied", "check_source", "copy_log"]
