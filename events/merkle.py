"""An RFC 6962 / RFC 9162 Merkle tree over the log: roots, proofs, checkpoints.

    leaf hash  = SHA-256(0x00 ‖ leaf bytes)
    node hash  = SHA-256(0x01 ‖ left ‖ right)
    MTH({})    = SHA-256()                       (the empty tree)
    MTH(D[n])  = H(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])),  k the largest power of two < n

Everything here works on leaf *hashes* (32 bytes each), so it is independent of the events.
Indexes are 0-based leaf indexes (leaf `i` is the event with `seq = i + 1`).

Roots are computed level by level (pairs of adjacent nodes; an odd last node is carried up
unchanged), which is the same tree as the recursive definition above and costs one SHA-256 per
interior node with no per-leaf recursion.  Proof generation follows RFC 9162 §2.1.3.1 (PATH)
and §2.1.4.1 (PROOF/SUBPROOF) iteratively; proof verification follows §2.1.3.2 and §2.1.4.2
exactly.  The verifiers are pure: anyone holding a checkpoint can run them.
"""

from __future__ import annotations

import hashlib
from typing import Callable, Iterable, Sequence

import msgspec

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def hash_leaf(data: bytes) -> bytes:
    """SHA-256(0x00 ‖ data)."""
    return _sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return _sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the given leaf hashes (the empty root for none), level by level."""
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    while n > 1:
        nxt = [_sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, n - 1, 2)]
        if n & 1:
            nxt.append(level[-1])
        level = nxt
        n = len(level)
    return level[0]


class RootAccumulator:
    """Streaming MTH: append leaf hashes one by one, ask for the root of what was appended.

    Keeps one hash per set bit of the size (a compact range), so a pass over a log of any size
    uses O(log n) memory.  `verify` uses it to recompute the root in its single pass.
    """

    __slots__ = ("_stack", "size")

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (height, hash) of perfect subtrees
        self.size = 0

    def append(self, leaf_hash: bytes) -> None:
        stack = self._stack
        height, h = 0, leaf_hash
        while stack and stack[-1][0] == height:
            h = _sha256(b"\x01" + stack.pop()[1] + h).digest()
            height += 1
        stack.append((height, h))
        self.size += 1

    def append_subtree(self, height: int, h: bytes) -> None:
        """Append the root `h` of a perfect subtree of 2**height leaves.  Only valid when `size`
        is a multiple of 2**height: the compact range then ends in subtrees at least that
        high, so merging works exactly as for a single leaf."""
        stack = self._stack
        level = height
        while stack and stack[-1][0] == level:
            h = _sha256(b"\x01" + stack.pop()[1] + h).digest()
            level += 1
        stack.append((level, h))
        self.size += 1 << height

    def extend(self, leaf_hashes: Sequence[bytes]) -> None:
        """`append` each leaf hash in turn, hashing whole aligned perfect subtrees at once."""
        i, n = 0, len(leaf_hashes)
        while i < n:
            room = n - i
            size = self.size
            block = size & -size if size else 1 << (room.bit_length() - 1)
            while block > room:
                block >>= 1
            if block >= _MIN_SUBTREE:
                self.append_subtree(block.bit_length() - 1, subtree_root(leaf_hashes[i:i + block]))
            else:
                for h in leaf_hashes[i:i + block]:
                    self.append(h)
            i += block

    def root(self) -> bytes:
        """MTH of the leaves appended so far."""
        if not self._stack:
            return EMPTY_ROOT
        it = reversed(self._stack)
        h = next(it)[1]
        for _, left in it:
            h = _sha256(b"\x01" + left + h).digest()
        return h


_MIN_SUBTREE = 16  # below this, leaf by leaf costs no more
_DIGEST = type(_sha256()).digest
_NODE = b"\x01".__add__
_concat = bytes.__add__


def subtree_root(level: Sequence[bytes]) -> bytes:
    """MTH of a power-of-two number of leaf hashes, one level per pass of C-level maps."""
    while len(level) > 1:
        level = list(map(_DIGEST, map(_sha256, map(_NODE, map(_concat, level[0::2], level[1::2])))))
    return level[0]


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def inclusion_proof(leaf_hashes: Sequence[bytes], index: int, size: int | None = None) -> list[bytes]:
    """The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 PATH)."""
    if size is None:
        size = len(leaf_hashes)
    if not 0 <= size <= len(leaf_hashes):
        raise ValueError(f"tree size {size} is outside 0..{len(leaf_hashes)}")
    return inclusion_path(index, size, lambda lo, hi: root(leaf_hashes[lo:hi]))


def inclusion_path(index: int, size: int, range_root: Callable[[int, int], bytes]) -> list[bytes]:
    """RFC 9162 PATH of leaf `index` in a tree of `size`, asking `range_root(lo, hi)` for the
    MTH of leaves lo..hi-1.  Every range asked for starts at a multiple of the largest power
    of two not above its length, so stored subtree hashes (`events.tiles`) can answer it."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            path.append(range_root(lo + k, hi))
            hi = lo + k
        else:
            path.append(range_root(lo, lo + k))
            lo += k
    path.reverse()  # PATH lists the deepest sibling first
    return path


def consistency_proof(leaf_hashes: Sequence[bytes], old_size: int, new_size: int | None = None) -> list[bytes]:
    """The proof that the tree of `new_size` leaves extends that of `old_size` (RFC 9162 PROOF).

    Empty when `old_size` is 0 or equals `new_size`.
    """
    if new_size is None:
        new_size = len(leaf_hashes)
    if not 0 <= new_size <= len(leaf_hashes):
        raise ValueError(f"tree size {new_size} is outside 0..{len(leaf_hashes)}")
    return consistency_path(old_size, new_size, lambda lo, hi: root(leaf_hashes[lo:hi]))


def consistency_path(old_size: int, new_size: int,
                     range_root: Callable[[int, int], bytes]) -> list[bytes]:
    """RFC 9162 PROOF(old_size, D[new_size]) with `range_root` as in `inclusion_path`."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"old size {old_size} is outside 0..{new_size}")
    if old_size == 0 or old_size == new_size:
        return []
    proof: list[bytes] = []
    lo, hi, m, complete = 0, new_size, old_size, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                proof.append(range_root(lo, hi))
            break
        k = _split(n)
        if m <= k:
            proof.append(range_root(lo + k, hi))
            hi = lo + k
        else:
            proof.append(range_root(lo, lo + k))
            lo += k
            m -= k
            complete = False
    proof.reverse()  # SUBPROOF lists the innermost node first
    return proof


def _all_hashes(*items: bytes | Iterable[bytes]) -> bool:
    for item in items:
        if isinstance(item, (bytes, bytearray)):
            if len(item) != HASH_SIZE:
                return False
        else:
            for h in item:
                if not isinstance(h, (bytes, bytearray)) or len(h) != HASH_SIZE:
                    return False
    return True


def root_from_inclusion_proof(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes]
) -> bytes | None:
    """The root that `proof` implies for leaf `index` of a tree of `size`, or None if malformed.

    RFC 9162 §2.1.3.2, steps 1-5 (without the final comparison).
    """
    if not 0 <= index < size or not _all_hashes(leaf_hash, proof):
        return None
    fn, sn, r = index, size - 1, bytes(leaf_hash)
    for p in proof:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        return None
    return r


def verify_inclusion(
    index: int, size: int, leaf_hash: bytes, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """True iff `proof` shows leaf `index` with `leaf_hash` is in the tree (`size`, `root_hash`)."""
    if not _all_hashes(root_hash):
        return False
    r = root_from_inclusion_proof(index, size, leaf_hash, proof)
    return r is not None and r == root_hash


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True iff `proof` shows the tree (`new_size`, `new_root`) extends (`old_size`, `old_root`).

    RFC 9162 §2.1.4.2.  A tree of size 0 must have the empty root; it is extended by every tree
    (with an empty proof).  Equal sizes need equal roots and an empty proof.
    """
    if not _all_hashes(old_root, new_root, proof):
        return False
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # an exact power of two: the old root is a node
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def _hex_hash(text: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(text)
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != HASH_SIZE or text != raw.hex():
        raise ValueError(f"{what} must be 64 lowercase hex digits, got {text!r}")
    return raw


class Checkpoint(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A published (size, root) of the log, written `SIZE:ROOTHEX`."""

    size: int
    root: str  # 64 lowercase hex digits

    def __post_init__(self) -> None:
        if type(self.size) is not int or self.size < 0:
            raise ValueError(f"checkpoint size must be an integer >= 0, got {self.size!r}")
        _hex_hash(self.root, "checkpoint root")

    @classmethod
    def parse(cls, text: str) -> "Checkpoint":
        """Parse `SIZE:ROOTHEX` (e.g. `1250:5dc9…4328`); `ValueError` with the reason if not."""
        size_text, sep, root_text = text.strip().partition(":")
        if not sep or not size_text.isdigit() or not size_text.isascii():
            raise ValueError(f"a checkpoint is SIZE:ROOTHEX, got {text!r}")
        return cls(int(size_text), root_text.lower())

    @classmethod
    def of(cls, leaf_hashes: Sequence[bytes]) -> "Checkpoint":
        """The checkpoint of a tree with these leaf hashes."""
        return cls(len(leaf_hashes), root(leaf_hashes).hex())

    @property
    def root_bytes(self) -> bytes:
        return bytes.fromhex(self.root)

    def __str__(self) -> str:
        return f"{self.size}:{self.root}"


class InclusionProof(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Leaf `index` (the event `seq = index + 1`) with `leaf_hash` is in the tree of `size`."""

    index: int
    size: int
    leaf_hash: str
    path: list[str]

    @property
    def seq(self) -> int:
        return self.index + 1

    def verify(self, checkpoint: Checkpoint) -> bool:
        """True iff this proof ties the leaf to `checkpoint` (which must have the same size)."""
        if checkpoint.size != self.size:
            return False
        try:
            leaf = _hex_hash(self.leaf_hash, "leaf hash")
            path = [_hex_hash(p, "proof node") for p in self.path]
        except ValueError:
            return False
        return verify_inclusion(self.index, self.size, leaf, path, checkpoint.root_bytes)


class ConsistencyProof(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The tree of `new_size` leaves extends the tree of `old_size` leaves."""

    old_size: int
    new_size: int
    path: list[str]

    def verify(self, old: Checkpoint, new: Checkpoint) -> bool:
        """True iff `new` extends `old` (their sizes must be this proof's)."""
        if old.size != self.old_size or new.size != self.new_size:
            return False
        try:
            path = [_hex_hash(p, "proof node") for p in self.path]
        except ValueError:
            return False
        return verify_consistency(old.size, new.size, old.root_bytes, new.root_bytes, path)


__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Checkpoint",
    "ConsistencyProof",
    "InclusionProof",
    "RootAccumulator",
    "consistency_path",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_path",
    "inclusion_proof",
    "root",
    "root_from_inclusion_proof",
    "verify_consistency",
    "verify_inclusion",
]
