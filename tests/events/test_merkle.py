"""RFC 6962/9162 Merkle tree: reference vectors, exhaustive proofs, mutated proofs.

The mutations follow transparency-dev/merkle's proof/verify_test.go (corruptInclusionProof,
corruptConsistencyProof): wrong index or sizes, wrong leaf or root, garbage appended or
prepended, a component removed or inserted, single bits flipped.
"""

from __future__ import annotations

import hashlib
import time

import pytest
from hypothesis import given, strategies as st

from events.merkle import (
    EMPTY_ROOT,
    Checkpoint,
    ConsistencyProof,
    InclusionProof,
    RootAccumulator,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root,
    verify_consistency,
    verify_inclusion,
)

from event_strategies import examples

dh = bytes.fromhex

# RFC 6962 reference data (as in transparency-dev/merkle and certificate-transparency).
CT_LEAVES = [dh(x) for x in ("", "00", "10", "2021", "3031", "40414243",
                             "5051525354555657", "606162636465666768696a6b6c6d6e6f")]  # fmt: skip
CT_ROOTS = [dh(x) for x in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]  # fmt: skip
# (leaf index 0-based, tree size, proof)
CT_INCLUSION = [
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
]  # fmt: skip
CT_CONSISTENCY = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]  # fmt: skip
SOME_HASH = dh("abacaba000000000000000000000000000000000000000000060061e00123456")
CT_LEAF_HASHES = [hash_leaf(x) for x in CT_LEAVES]

MAX_SIZE = 64
LEAVES_64 = [hash_leaf(i.to_bytes(2, "big") * 3) for i in range(MAX_SIZE)]
ROOTS_64 = [root(LEAVES_64[:n]) for n in range(MAX_SIZE + 1)]


# -- a reference implementation straight from the RFC's recursive definitions ---------------


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return d[0]
    k = _k(len(d))
    return hash_children(ref_mth(d[:k]), ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = _k(len(d))
    if m < k:
        return ref_path(m, d[:k]) + [ref_mth(d[k:])]
    return ref_path(m - k, d[k:]) + [ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = _k(n)
    if m <= k:
        return ref_subproof(m, d[:k], b) + [ref_mth(d[k:])]
    return ref_subproof(m - k, d[k:], False) + [ref_mth(d[:k])]


# -- mutations in the style of transparency-dev/merkle ---------------------------------------


def flip(h: bytes, mask: int) -> bytes:
    return bytes([h[0] ^ mask]) + h[1:]


def corrupt_inclusion(index, size, proof, root_hash, leaf):
    probes = [
        (index - 1, size, root_hash, leaf, proof, "index - 1"),
        (index + 1, size, root_hash, leaf, proof, "index + 1"),
        (index ^ 2, size, root_hash, leaf, proof, "index ^ 2"),
        (index, size * 2, root_hash, leaf, proof, "size * 2"),
        (index, size // 2, root_hash, leaf, proof, "size / 2"),
        (index, size, root_hash, b"WrongLeaf", proof, "wrong leaf"),
        (index, size, root_hash, SOME_HASH, proof, "other leaf"),
        (index, size, EMPTY_ROOT, leaf, proof, "empty root"),
        (index, size, SOME_HASH, leaf, proof, "random root"),
        (index, size, root_hash, leaf, proof + [b""], "trailing garbage"),
        (index, size, root_hash, leaf, proof + [root_hash], "trailing root"),
        (index, size, root_hash, leaf, [b""] + proof, "preceding garbage"),
        (index, size, root_hash, leaf, [root_hash] + proof, "preceding root"),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 8)
        probes.append((index, size, root_hash, leaf, wrong, f"proof[{i}] bit 3"))
    if proof:
        probes.append((index, size, root_hash, leaf, proof[:-1], "removed component"))
    if len(proof) > 1:
        wrong = [proof[0], SOME_HASH] + proof[1:]
        probes.append((index, size, root_hash, leaf, wrong, "inserted component"))
    return probes


def corrupt_consistency(size1, size2, root1, root2, proof):
    probes = [
        (size1 - 1, size2, root1, root2, proof, "size1 - 1"),
        (size1 + 1, size2, root1, root2, proof, "size1 + 1"),
        (size1 ^ 2, size2, root1, root2, proof, "size1 ^ 2"),
        (size1, size2 * 2, root1, root2, proof, "size2 * 2"),
        (size1, size2 // 2, root1, root2, proof, "size2 / 2"),
        (size1, size2, b"WrongRoot", root2, proof, "wrong root1"),
        (size1, size2, root1, b"WrongRoot", proof, "wrong root2"),
        (size1, size2, SOME_HASH, root2, proof, "other root1"),
        (size1, size2, root1, SOME_HASH, proof, "other root2"),
        (size1, size2, root2, root1, proof, "swapped roots"),
        (size1, size2, root1, root2, [], "empty proof"),
        (size1, size2, root1, root2, proof + [b""], "trailing garbage"),
        (size1, size2, root1, root2, proof + [root1], "trailing root1"),
        (size1, size2, root1, root2, proof + [root2], "trailing root2"),
        (size1, size2, root1, root2, [b""] + proof, "preceding garbage"),
        (size1, size2, root1, root2, [root1] + proof, "preceding root1"),
        (size1, size2, root1, root2, [root2] + proof, "preceding root2"),
        (size1, size2, root1, root2, [proof[0]] + proof, "preceding proof[0]"),
        (size1, size2, root1, root2, proof[:-1], "truncated proof"),
    ]
    for i in range(len(proof)):
        wrong = list(proof)
        wrong[i] = flip(wrong[i], 16)
        probes.append((size1, size2, root1, root2, wrong, f"proof[{i}] bit 4"))
    if len(proof) > 1:
        probes.append(
            (size1, size2, root1, root2, [proof[0], SOME_HASH] + proof[1:], "inserted component")
        )
    return probes


# -- reference vectors ------------------------------------------------------------------------


def test_roots_match_rfc6962_reference():
    for n in range(len(CT_LEAVES) + 1):
        assert root(CT_LEAF_HASHES[:n]) == CT_ROOTS[n], n
    assert EMPTY_ROOT == hashlib.sha256(b"").digest()
    assert hash_leaf(b"") == CT_ROOTS[1]


@pytest.mark.parametrize("index,size,proof", CT_INCLUSION)
def test_inclusion_reference_vectors(index, size, proof):
    proof = [dh(p) for p in proof]
    assert inclusion_proof(CT_LEAF_HASHES, index, size) == proof
    leaf = CT_LEAF_HASHES[index]
    assert verify_inclusion(index, size, leaf, proof, CT_ROOTS[size])
    wrongly_accepted = [
        desc
        for i, s, r, lf, p, desc in corrupt_inclusion(index, size, proof, CT_ROOTS[size], leaf)
        if verify_inclusion(i, s, lf, p, r)
    ]
    assert wrongly_accepted == []


@pytest.mark.parametrize("size1,size2,proof", CT_CONSISTENCY)
def test_consistency_reference_vectors(size1, size2, proof):
    proof = [dh(p) for p in proof]
    assert consistency_proof(CT_LEAF_HASHES, size1, size2) == proof
    r1, r2 = CT_ROOTS[size1], CT_ROOTS[size2]
    assert verify_consistency(size1, size2, r1, r2, proof)
    if proof:
        wrongly_accepted = [
            desc
            for s1, s2, a, b, p, desc in corrupt_consistency(size1, size2, r1, r2, proof)
            if verify_consistency(s1, s2, a, b, p)
        ]
        assert wrongly_accepted == []


def test_degenerate_inclusion_probes_fail():
    for index, size in [(0, 0), (1, 1), (2, 1), (-1, 1)]:
        assert not verify_inclusion(index, size, SOME_HASH, [], EMPTY_ROOT)
        assert not verify_inclusion(index, size, b"", [], EMPTY_ROOT)
    leaf = hash_leaf(b"data")
    assert verify_inclusion(0, 1, leaf, [], leaf)
    assert not verify_inclusion(0, 1, leaf, [], b"")
    assert not verify_inclusion(0, 1, b"", [], leaf)


def test_degenerate_consistency_cases():
    r1, r2 = SOME_HASH, hash_leaf(b"x")
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 5, EMPTY_ROOT, r2, [])  # everything extends the empty tree
    assert not verify_consistency(0, 5, r1, r2, [])  # ...but a size-0 tree has the empty root
    assert verify_consistency(3, 3, r1, r1, [])
    assert not verify_consistency(3, 3, r1, r2, [])  # same size, different roots
    assert not verify_consistency(3, 3, r1, r1, [EMPTY_ROOT])  # same size needs no proof
    assert not verify_consistency(1, 0, r1, r2, [])  # time travel
    assert not verify_consistency(2, 1, r1, r2, [])
    assert not verify_consistency(1, 2, r1, r2, [])  # missing proof


# -- every index and size up to 64 ------------------------------------------------------------


def test_roots_iterative_recursive_and_streaming_agree():
    acc = RootAccumulator()
    assert acc.root() == EMPTY_ROOT
    for n in range(1, MAX_SIZE + 1):
        acc.append(LEAVES_64[n - 1])
        assert ROOTS_64[n] == ref_mth(LEAVES_64[:n]) == acc.root(), n
        assert acc.size == n


def test_every_inclusion_proof_verifies_and_every_mutation_is_rejected():
    for size in range(1, MAX_SIZE + 1):
        r = ROOTS_64[size]
        for index in range(size):
            proof = inclusion_proof(LEAVES_64, index, size)
            assert proof == ref_path(index, LEAVES_64[:size])
            leaf = LEAVES_64[index]
            assert verify_inclusion(index, size, leaf, proof, r), (index, size)
            for i, s, rr, lf, p, desc in corrupt_inclusion(index, size, proof, r, leaf):
                assert not verify_inclusion(i, s, lf, p, rr), (index, size, desc)
            # another leaf of the same tree is not at this index
            other = LEAVES_64[(index + 1) % size]
            if size > 1:
                assert not verify_inclusion(index, size, other, proof, r)


def test_every_consistency_proof_verifies_and_every_mutation_is_rejected():
    for size2 in range(1, MAX_SIZE + 1):
        r2 = ROOTS_64[size2]
        for size1 in range(0, size2 + 1):
            r1 = ROOTS_64[size1]
            proof = consistency_proof(LEAVES_64, size1, size2)
            if 0 < size1 < size2:
                assert proof == ref_subproof(size1, LEAVES_64[:size2], True)
            else:
                assert proof == []
            assert verify_consistency(size1, size2, r1, r2, proof), (size1, size2)
            if not proof:
                continue
            for s1, s2, a, b, p, desc in corrupt_consistency(size1, size2, r1, r2, proof):
                assert not verify_consistency(s1, s2, a, b, p), (size1, size2, desc)
            # a different old tree of the same size is not extended
            forged = ROOTS_64[size1 - 1] if size1 > 1 else SOME_HASH
            assert not verify_consistency(size1, size2, forged, r2, proof)


@examples(60)
@given(st.lists(st.integers(0, 300), max_size=6))
def test_extending_by_blocks_is_appending_leaf_by_leaf(blocks):
    """The writer feeds the frontier a chunk of leaves at a time (`extend` hashes the aligned
    perfect subtrees in one go); any split gives the root and stack of one leaf at a time."""
    leaves = [hash_leaf(i.to_bytes(4, "big")) for i in range(sum(blocks))]
    by_blocks, one_by_one, start = RootAccumulator(), RootAccumulator(), 0
    for n in blocks:
        by_blocks.extend(leaves[start:start + n])
        for leaf in leaves[start:start + n]:
            one_by_one.append(leaf)
        start += n
        assert by_blocks.size == one_by_one.size == start
        assert by_blocks._stack == one_by_one._stack
        assert by_blocks.root() == ref_mth(leaves[:start])


@examples(60)
@given(st.lists(st.binary(max_size=40), min_size=1, max_size=300), st.data())
def test_random_trees(leaf_data, data):
    leaves = [hash_leaf(x) for x in leaf_data]
    n = len(leaves)
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(0, size))
    r = root(leaves[:size])
    assert r == ref_mth(leaves[:size])
    assert verify_inclusion(index, size, leaves[index], inclusion_proof(leaves, index, size), r)
    proof = consistency_proof(leaves, old, size)
    assert verify_consistency(old, size, root(leaves[:old]), r, proof)


def test_proof_arguments_are_checked():
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES_64[:4], 4)
    with pytest.raises(ValueError):
        inclusion_proof(LEAVES_64[:4], 0, 5)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES_64[:4], 5, 4)
    with pytest.raises(ValueError):
        consistency_proof(LEAVES_64[:4], 1, 5)


# -- checkpoints and proof objects -------------------------------------------------------------


def test_checkpoint_text_form():
    cp = Checkpoint.of(CT_LEAF_HASHES)
    assert str(cp) == "8:" + CT_ROOTS[8].hex()
    assert Checkpoint.parse(str(cp)) == cp
    assert Checkpoint.parse(f" 8:{CT_ROOTS[8].hex().upper()} ") == cp
    assert Checkpoint.of([]) == Checkpoint(0, EMPTY_ROOT.hex())
    for bad in ["", "8", "8:", ":ab", "x:" + "0" * 64, "-1:" + "0" * 64, "8:" + "0" * 63,
                "8:" + "g" * 64, "8:" + "0" * 66, "8.0:" + "0" * 64]:  # fmt: skip
        with pytest.raises(ValueError):
            Checkpoint.parse(bad)


def test_proof_objects_verify_against_checkpoints():
    cp8 = Checkpoint.of(CT_LEAF_HASHES)
    cp5 = Checkpoint.of(CT_LEAF_HASHES[:5])
    p = InclusionProof(3, 8, CT_LEAF_HASHES[3].hex(), [x.hex() for x in inclusion_proof(CT_LEAF_HASHES, 3)])
    assert p.seq == 4 and p.verify(cp8)
    assert not p.verify(cp5)  # another size
    assert not InclusionProof(3, 8, "zz", p.path).verify(cp8)
    c = ConsistencyProof(5, 8, [x.hex() for x in consistency_proof(CT_LEAF_HASHES, 5)])
    assert c.verify(cp5, cp8)
    assert not c.verify(cp8, cp5)
    assert not c.verify(Checkpoint(5, SOME_HASH.hex()), cp8)


def test_root_of_half_a_million_leaves_is_fast():
    leaves = [i.to_bytes(32, "big") for i in range(500_000)]
    t0 = time.perf_counter()
    r = root(leaves)
    elapsed = time.perf_counter() - t0
    acc = RootAccumulator()
    for h in leaves[:1000]:
        acc.append(h)
    assert acc.root() == root(leaves[:1000])
    assert len(r) == 32
    assert elapsed < 5, f"root of 500k leaves took {elapsed:.2f}s"
