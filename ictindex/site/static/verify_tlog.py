#!/usr/bin/env python3
"""Check the ictindex log from its static tiles, with nothing but Python's standard library.

    python3 verify_tlog.py LOG inclusion N [--key KEY.pub]
        prints event N (its canonical bytes, 1-based seq) and checks that it is leaf N-1 of
        LOG/checkpoint: an RFC 9162 inclusion proof built from LOG/tile/... files.
    python3 verify_tlog.py LOG consistency OLD_CHECKPOINT [--key KEY.pub]
        checks that LOG/checkpoint extends the older checkpoint OLD_CHECKPOINT (a file, a URL,
        or SIZE:ROOT as a decision prints it): an RFC 9162 consistency proof from the tiles.
    python3 verify_tlog.py LOG proofs UNIT.json [--key KEY.pub]
        checks a unit's proof file (from a site built by `ictindex site`): every event it
        lists is the line of LOG/events.jsonl with that seq, concerns that unit, and is in
        LOG/checkpoint by the RFC 9162 inclusion proof the file gives.
    python3 verify_tlog.py LOG events [--key KEY.pub]
        checks the whole LOG/events.jsonl (one line per event: seq, leaf hash, canonical
        body): every line's hash, and that together they are the tree of LOG/checkpoint.

LOG is a folder, a file:// or an http(s):// URL holding what `ictindex tiles` writes (the C2SP
tlog-tiles layout).  LOG/checkpoint is a signed note, or a plain SIZE:ROOT line (unsigned).
Exit status 0 when everything checks, 1 otherwise.

Signatures: Ed25519 is not in the standard library.  With --key, the checkpoints' signatures
(C2SP signed notes) are checked if the `cryptography` package is installed; otherwise this
script says plainly that it did NOT check them, and checks only the hashes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sys
import urllib.parse
import urllib.request
from pathlib import Path

WIDTH = 256
MAX_BYTES = 1 << 24  # no file of a log is bigger: a hostile server cannot exhaust memory


def fetch(base: str, rel: str) -> bytes:
    if "://" not in base:
        base = Path(base).resolve().as_uri()
    url = base.rstrip("/") + "/" + rel
    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 (file:// and http(s):// only)
        data = r.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValueError(f"{url} is bigger than any file of a log")
    return data


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def tile_path(level: int | str, index: int, width: int) -> str:
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    name = "/".join(["x" + g for g in groups[:-1]] + [groups[-1]])
    return f"tile/{level}/{name}" + ("" if width == WIDTH else f".p/{width}")


class Tree:
    """The hashes of a tree of `size` leaves, read from the tiles at `base`."""

    def __init__(self, base: str, size: int) -> None:
        self.base, self.size, self.tiles = base, size, {}

    def tile(self, level: int, index: int) -> list[bytes]:
        if (level, index) not in self.tiles:
            count = self.size >> (8 * level)
            width = min(WIDTH, count - index * WIDTH)
            data = fetch(self.base, tile_path(level, index, width))
            if len(data) != 32 * width:
                raise ValueError(f"{tile_path(level, index, width)} is not {width} hashes")
            self.tiles[level, index] = [data[i:i + 32] for i in range(0, len(data), 32)]
        return self.tiles[level, index]

    def subtree(self, height: int, index: int) -> bytes:
        """MTH of the 2**height leaves from index * 2**height."""
        level, rest = divmod(height, 8)
        first = index << rest
        hashes = self.tile(level, first // WIDTH)[first % WIDTH:first % WIDTH + (1 << rest)]
        while len(hashes) > 1:
            hashes = [node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes), 2)]
        return hashes[0]

    def mth(self, lo: int, hi: int) -> bytes:
        """MTH of leaves lo..hi-1 (lo aligned as in every RFC 9162 proof)."""
        parts, pos = [], lo
        while pos < hi:
            height = (hi - pos).bit_length() - 1
            parts.append(self.subtree(height, pos >> height))
            pos += 1 << height
        h = parts.pop()
        while parts:
            h = node_hash(parts.pop(), h)
        return h


def split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_path(tree: Tree, index: int, size: int) -> list[bytes]:  # RFC 9162 2.1.3.1
    path, lo, hi = [], 0, size
    while hi - lo > 1:
        k = split(hi - lo)
        if index < lo + k:
            path.append(tree.mth(lo + k, hi))
            hi = lo + k
        else:
            path.append(tree.mth(lo, lo + k))
            lo += k
    return path[::-1]


def consistency_path(tree: Tree, m: int, size: int) -> list[bytes]:  # RFC 9162 2.1.4.1
    path, lo, hi, complete = [], 0, size, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                path.append(tree.mth(lo, hi))
            return path[::-1]
        k = split(n)
        if m <= k:
            path.append(tree.mth(lo + k, hi))
            hi = lo + k
        else:
            path.append(tree.mth(lo, lo + k))
            lo, m, complete = lo + k, m - k, False


def verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes], root: bytes) -> bool:
    fn, sn, r = index, size - 1, leaf  # RFC 9162 2.1.3.2
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(m: int, n: int, old: bytes, new: bytes, path: list[bytes]) -> bool:
    if m == n:  # RFC 9162 2.1.4.2
        return not path and old == new
    if m & (m - 1) == 0:
        path = [old, *path]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == old and sr == new


PLAIN = re.compile(r"([0-9]+):([0-9a-f]{64})")  # SIZE:ROOT, as `ictindex` prints a checkpoint


def read_checkpoint(note: bytes, key: str | None) -> tuple[str, int, bytes]:
    """(origin, size, root) of a signed checkpoint; checks the signature of `key` if it can.
    A plain SIZE:ROOT (an unsigned checkpoint) has the origin "unsigned"."""
    plain = PLAIN.fullmatch(note.decode("utf-8").strip())
    if plain is not None:
        if key is not None:
            raise ValueError("--key given, but the checkpoint is not signed (a plain SIZE:ROOT)")
        return "unsigned", int(plain.group(1)), bytes.fromhex(plain.group(2))
    text, _, signatures = note.decode("utf-8").partition("\n\n")
    origin, size, root = text.split("\n")[:3]
    if key is not None:
        name, key_id, b64 = key.strip().split("+", 2)
        raw = base64.b64decode(b64)
        try:
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        except ImportError:
            print(f"signature NOT checked for {origin}: Ed25519 needs the `cryptography` package "
                  "(pip install cryptography); only the hashes are checked")
        else:
            want = bytes.fromhex(key_id)
            good = False
            for line in signatures.splitlines():
                _, signer, sig = line.split(" ", 2)
                sig = base64.b64decode(sig)
                if signer == name and sig[:4] == want:
                    Ed25519PublicKey.from_public_bytes(raw[1:]).verify(sig[4:], (text + "\n").encode())
                    good = True  # verify() raises on a bad signature
            if not good or origin != name:
                raise ValueError(f"the checkpoint is not signed by {name}")
            print(f"signature by {name} OK")
    return origin, int(size), base64.b64decode(root)


def event_lines(base: str):
    """(seq, leaf hash, body) of each line of base/events.jsonl, read a line at a time."""
    if "://" not in base:
        base = Path(base).resolve().as_uri()
    url = base.rstrip("/") + "/events.jsonl"
    with urllib.request.urlopen(url, timeout=30) as r:  # noqa: S310 (file:// and http(s):// only)
        for number, line in enumerate(iter(lambda: r.readline(MAX_BYTES + 1), b""), 1):
            if len(line) > MAX_BYTES:
                raise ValueError(f"events.jsonl:{number}: longer than any event")
            try:
                item = json.loads(line)
                seq, leaf = item["seq"], bytes.fromhex(item["hash"])
                body = item["body"].encode("utf-8")
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                raise ValueError(f"events.jsonl:{number}: not an event line ({e})") from None
            if seq != number:
                raise ValueError(f"events.jsonl:{number}: the line of event {seq}, not {number}")
            if sha256(b"\x00" + body) != leaf:
                raise ValueError(f"events.jsonl:{number}: event {seq}'s body does not hash to "
                                 f"the line's hash {leaf.hex()} (the line was changed)")
            yield seq, leaf, body


def check_events(base: str, size: int, root: bytes) -> bool:
    """Every line of events.jsonl hashes right, and the lines are the tree of the checkpoint."""
    stack: list[tuple[int, bytes]] = []  # (height, hash) of the full subtrees so far
    count = 0
    for seq, leaf, _body in event_lines(base):
        if seq > size:
            break
        count, node, height = seq, leaf, 0
        while stack and stack[-1][0] == height:
            node, height = node_hash(stack.pop()[1], node), height + 1
        stack.append((height, node))
    if count != size:
        print(f"NOT verified: events.jsonl has {count} events, the checkpoint {size}")
        return False
    h = stack.pop()[1]
    while stack:
        h = node_hash(stack.pop()[1], h)
    ok = h == root
    print(f"events.jsonl: {count} events, {'the tree of' if ok else 'NOT the tree of'} "
          f"checkpoint {size}:{root.hex()}")
    return ok


def check_proofs(base: str, proof_file: str, origin: str, size: int, root: bytes) -> bool:
    """A unit's proof file (written by `ictindex site`) against the checkpoint and the lines."""
    data = json.loads(Path(proof_file).read_text(encoding="utf-8") if "://" not in proof_file
                      else urllib.request.urlopen(proof_file, timeout=30).read(MAX_BYTES))  # noqa: S310
    unit, cp = data["unit_id"], data["checkpoint"]
    if cp != f"{size}:{root.hex()}":
        print(f"NOT verified: {proof_file} proves against checkpoint {cp}, not the log's "
              f"{size}:{root.hex()}")
        return False
    wanted = {e["seq"]: e for e in data["events"]}
    if len(wanted) != len(data["events"]) or not all(1 <= s <= size for s in wanted):
        print(f"NOT verified: {proof_file}: an event is listed twice, or is not in the checkpoint")
        return False
    found = 0
    for seq, leaf, body in event_lines(base):
        if seq not in wanted:
            continue
        e = wanted[seq]
        if leaf.hex() != e["leaf_hash"]:
            print(f"NOT verified: event {seq}: the proof's leaf hash {e['leaf_hash']} is not "
                  f"the line's {leaf.hex()}")
            return False
        if json.loads(body)["payload"].get("unit_id") != unit:
            print(f"NOT verified: event {seq} is not about unit {unit}")
            return False
        path = [bytes.fromhex(h) for h in e["path"]]
        if not verify_inclusion(seq - 1, size, leaf, path, root):
            print(f"NOT verified: event {seq}: its inclusion proof does NOT lead to the "
                  "checkpoint's root")
            return False
        found += 1
        if found == len(wanted):
            break
    if found != len(wanted):
        print(f"NOT verified: events.jsonl lacks {len(wanted) - found} of the events the "
              "proof lists")
        return False
    print(f"{found} events behind the score of {unit} ARE in {origin} checkpoint "
          f"{size}:{root.hex()}")
    return True


def read_old_checkpoint(arg: str, key: str | None) -> tuple[str, int, bytes]:
    if PLAIN.fullmatch(arg):
        return read_checkpoint(arg.encode(), None)
    note = fetch(str(Path(arg).parent), Path(arg).name) if "://" not in arg else \
        urllib.request.urlopen(arg, timeout=30).read(MAX_BYTES)  # noqa: S310
    return read_checkpoint(note, key)


def main(argv: list[str]) -> int:
    key = None
    if "--key" in argv:
        i = argv.index("--key")
        key = Path(argv[i + 1]).read_text(encoding="utf-8")
        argv = argv[:i] + argv[i + 2:]
    if argv[1:2] == ["events"] and len(argv) == 2:
        argv = [*argv, ""]
    if len(argv) != 3 or argv[1] not in ("inclusion", "consistency", "proofs", "events"):
        print(__doc__)
        return 2
    base, what, arg = argv
    origin, size, root = read_checkpoint(fetch(base, "checkpoint"), key)
    tree = Tree(base, size)
    if what == "inclusion":
        seq = int(arg)
        if not 1 <= seq <= size:
            print(f"event {seq} is not in the checkpoint of {size} events")
            return 1
        index = seq - 1
        bundle = fetch(base, tile_path("entries", index // WIDTH, min(WIDTH, size - index // WIDTH * WIDTH)))
        pos = 0
        for _ in range(index % WIDTH):
            pos += 2 + int.from_bytes(bundle[pos:pos + 2], "big")
        entry = bundle[pos + 2:pos + 2 + int.from_bytes(bundle[pos:pos + 2], "big")]
        print(entry.decode("utf-8"))
        ok = verify_inclusion(index, size, sha256(b"\x00" + entry),
                              inclusion_path(tree, index, size), root)
        print(f"event {seq} {'IS' if ok else 'is NOT'} in {origin} checkpoint {size}:{root.hex()}")
    elif what == "proofs":
        ok = check_proofs(base, arg, origin, size, root)
    elif what == "events":
        ok = check_events(base, size, root)
    else:
        _, old_size, old_root = read_old_checkpoint(arg, key)
        ok = 0 < old_size <= size and verify_consistency(
            old_size, size, old_root, root, consistency_path(tree, old_size, size))
        print(f"checkpoint {size}:{root.hex()} {'EXTENDS' if ok else 'does NOT extend'} "
              f"{old_size}:{old_root.hex()}")
    return 0 if ok else 1


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except Exception as e:  # noqa: BLE001 - whatever the files hold, a verdict, not a traceback
        print(f"NOT verified: {type(e).__name__}: {e}")
        sys.exit(1)
