"""The site's own proof: the log as published with the pages, and what checks them without
the tool.

Under `log/` (see `write_log`): a copy of the log as a SQLite file (its events recorded again
with their own bytes, so the same events give the same file from any store), `events.jsonl` (one
line per event: seq, leaf hash, canonical body), the checkpoint (a signed note with a key, a
plain `SIZE:ROOT` line otherwise), the C2SP tlog tiles and entry bundles (`ictindex.tlog`) and
the stand-alone `verify_tlog.py`.  Under `proofs/`, per unit, the inclusion proofs of the
events behind its score (`unit_proof`), which `verify_tlog.py LOG proofs FILE` checks against
the checkpoint and the lines of `events.jsonl`.
"""

from __future__ import annotations

import functools
import itertools
import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from engine.result import Explanation
from events import merkle
from events.merkle import Checkpoint
from events.note import Signer
from events.store import EventStore
from ictindex import tlog
from ictindex.atomic import write_atomic
from ictindex.errors import UsageError

if TYPE_CHECKING:
    from ictindex.app import Ictindex

__all__ = ["LOG_DIR", "SiteProof", "UnitProof", "prepare", "write_log"]

LOG_DIR = "log"  # the folder of the site that holds the log and its checker
VERIFIER = f"{LOG_DIR}/{tlog.VERIFIER.name}"


@attrs.frozen
class ProvedEvent:
    seq: int
    leaf_hash: str
    path: tuple[str, ...]


@attrs.frozen
class UnitProof:
    unit_id: str
    file: str  # relative to the site's root
    checkpoint: Checkpoint
    events: tuple[ProvedEvent, ...]

    def json_bytes(self) -> bytes:
        data = {"unit_id": self.unit_id, "checkpoint": str(self.checkpoint),
                "events": [{"seq": e.seq, "leaf_hash": e.leaf_hash, "path": list(e.path)}
                           for e in self.events]}
        return (json.dumps(data, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


@attrs.define
class SiteProof:
    """The checkpoint the site's proofs are made against (the whole log when it was built),
    the decisions of its publications with their checkpoints, and the tree's leaves."""

    checkpoint: Checkpoint
    signer: Signer | None
    decisions: list[tuple[str, Checkpoint]]
    leaves: list[bytes] = attrs.field(repr=False)
    db_file: str  # the copy of the log (a SQLite file), relative to the site's root

    @functools.cached_property
    def _range_root(self):
        # every node an audit path asks for is a full or right-edge subtree: memoised, the
        # proofs of all the site's events cost about one pass over the tree
        @functools.lru_cache(maxsize=None)
        def range_root(lo: int, hi: int) -> bytes:
            if hi - lo == 1:
                return self.leaves[lo]
            k = 1 << ((hi - lo - 1).bit_length() - 1)
            return merkle.hash_children(range_root(lo, lo + k), range_root(lo + k, hi))
        return range_root

    def unit_proof(self, unit_id: str, slug: str, x: Explanation) -> UnitProof:
        """The inclusion proofs of every event behind `x` (the unit's explanation)."""
        seqs = sorted({ev.seq for c in x.components for k in c.criteria for inp in k.inputs
                       for ev in inp.events if ev.seq <= self.checkpoint.size})
        size = self.checkpoint.size
        events = tuple(ProvedEvent(seq, self.leaves[seq - 1].hex(), tuple(
            h.hex() for h in merkle.inclusion_path(seq - 1, size, self._range_root)))
            for seq in seqs)
        return UnitProof(unit_id, f"proofs/{slug}.json", self.checkpoint, events)

    @property
    def verifier(self) -> str:
        return VERIFIER

    def command(self, args: str) -> str:
        """A command of the stand-alone checker, as run in the downloaded site's folder."""
        key = " --key log/key.pub" if self.signer is not None else ""
        return f"python3 {VERIFIER} {LOG_DIR} {args}{key}"


def prepare(app: "Ictindex", year: int, decisions: list[str],
            signer: Signer | None, db_name: str) -> SiteProof:
    """The site's proof of the log as it is now; `decisions` are those of the pages'
    publications (each named with its checkpoint, `Ictindex.decision_checkpoint`)."""
    cp = app.store.checkpoint()
    if cp.size == 0:
        raise UsageError("the log is empty: there is nothing to prove")
    named = [(d, app.decision_checkpoint(d, year)) for d in dict.fromkeys(decisions)]
    return SiteProof(checkpoint=cp, signer=signer, decisions=named,
                     leaves=app.store.leaf_hashes(cp.size),
                     db_file=f"{LOG_DIR}/{db_name}")


def _event_lines(app: "Ictindex", size: int) -> bytes:
    out = bytearray()
    for row in app.store.stored_rows(1):
        if row.seq > size:
            break
        body = bytes(row.body)
        out += json.dumps({"seq": row.seq, "hash": merkle.hash_leaf(body).hex(),
                           "body": body.decode("utf-8")}, ensure_ascii=False).encode("utf-8")
        out += b"\n"
    return bytes(out)


def _copy_log(app: "Ictindex", size: int, name: str) -> bytes:
    """The bytes of a new SQLite log holding the first `size` stored events verbatim
    (`append_stored`, as `ictindex copy` does) and the publications' kept copies: whichever
    store the log is kept in, the same events give the same file."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        with EventStore(path) as copy:
            bodies = (bytes(row.body) for row in
                      itertools.takewhile(lambda r: r.seq <= size, app.store.stored_rows(1)))
            copy.append_stored(bodies, expected_last_seq=0)
            for row in app.store.stored_rows(1):
                if row.seq > size:
                    break
                kept = app.store.published_copy(row.seq) if row.type == "ranking_published" else None
                if kept is not None:
                    copy.keep_published(row.seq, kept)
            same = copy.checkpoint() == app.store.checkpoint(size)
            copy.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if not same:  # append_stored checked every body against its predecessor: a store bug
            raise RuntimeError("the site's copy of the log does not have the log's checkpoint")
        return path.read_bytes()


def write_log(app: "Ictindex", out: Path, proof: SiteProof) -> None:
    """Write `log/` of the site (see the module doc) for the proof's checkpoint."""
    size = proof.checkpoint.size
    folder = out / LOG_DIR
    tlog.write_tiles(app, folder, proof.signer, size)
    write_atomic(folder / "events.jsonl", _event_lines(app, size))
    if proof.signer is not None:
        write_atomic(folder / "key.pub", (proof.signer.verifier.text() + "\n").encode())
    write_atomic(out / proof.db_file, _copy_log(app, size, Path(proof.db_file).name))
