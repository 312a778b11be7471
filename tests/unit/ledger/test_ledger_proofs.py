"""Inclusion and consistency proofs against the RFC 9162 reference, and their checking."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from functools import cache, lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_reference import (
    CT_CONSISTENCY,
    CT_INCLUSION,
    CT_LEAVES,
    CT_ROOTS,
    leaf_hash,
    mth,
    path,
    proof,
)

from facegate.errors import LedgerError
from facegate.ledger.hasher import EMPTY_ROOT, hash_leaf
from facegate.ledger.proofs import (
    ConsistencyProof,
    InclusionProof,
    MalformedProofError,
    ProofError,
    RootMismatchError,
    _path_segments,
    consistency_proof,
    inclusion_proof,
    root_from_consistency,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)
from facegate.ledger.tree import MemoryNodeStore, MissingNodesError, NodeId, NodeReader

BIG = 3000


class CountingReader:
    def __init__(self, inner: NodeReader) -> None:
        self.inner = inner
        self.calls: list[tuple[NodeId, ...]] = []

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        self.calls.append(tuple(ids))
        return self.inner.get_nodes(ids)


@lru_cache(maxsize=1)
def big_tree() -> tuple[list[bytes], MemoryNodeStore]:
    hs = [leaf_hash(f"entry {i}".encode()) for i in range(BIG)]
    return hs, MemoryNodeStore.from_leaf_hashes(hs)


@cache
def big_root(size: int) -> bytes:
    return mth(big_tree()[0][:size])


def ceil_log2(n: int) -> int:
    return (n - 1).bit_length()


def flip(h: bytes, bit: int = 0) -> bytes:
    return bytes([h[0] ^ (1 << bit)]) + h[1:]


# --- known answers -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ct_store() -> MemoryNodeStore:
    return MemoryNodeStore.from_leaf_hashes([hash_leaf(d) for d in CT_LEAVES])


@pytest.mark.parametrize(("index", "size", "want"), CT_INCLUSION)
def test_ct_known_answer_inclusion(
    ct_store: MemoryNodeStore, index: int, size: int, want: tuple[bytes, ...]
) -> None:
    got = inclusion_proof(index, size, ct_store)
    assert got == InclusionProof(index, size, want)
    verify_inclusion(hash_leaf(CT_LEAVES[index]), got, CT_ROOTS[size])


@pytest.mark.parametrize(("old", "new", "want"), CT_CONSISTENCY)
def test_ct_known_answer_consistency(
    ct_store: MemoryNodeStore, old: int, new: int, want: tuple[bytes, ...]
) -> None:
    got = consistency_proof(old, new, ct_store)
    assert got == ConsistencyProof(old, new, want)
    verify_consistency(CT_ROOTS[old], CT_ROOTS[new], got)


# --- exhaustive small trees ----------------------------------------------------------------------


def test_every_small_proof_matches_the_rfc_definitions() -> None:
    hs = [leaf_hash(bytes([i])) for i in range(70)]
    store = MemoryNodeStore.from_leaf_hashes(hs)
    for n in range(1, len(hs) + 1):
        root = mth(hs[:n])
        for i in range(n):
            p = inclusion_proof(i, n, store)
            assert list(p.hashes) == path(i, hs[:n]), (i, n)
            assert len(p.hashes) <= ceil_log2(n)
            verify_inclusion(hs[i], p, root)
            assert root_from_inclusion(hs[i], p) == root
        for m in range(1, n):
            c = consistency_proof(m, n, store)
            assert list(c.hashes) == proof(m, hs[:n]), (m, n)
            assert 1 <= len(c.hashes) <= ceil_log2(n) + 1
            verify_consistency(mth(hs[:m]), root, c)
            assert root_from_consistency(mth(hs[:m]), c) == root


# --- random trees up to a few thousand leaves -------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_inclusion_proofs_match_reference(data: st.DataObject) -> None:
    hs, store = big_tree()
    size = data.draw(st.integers(min_value=1, max_value=BIG), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    reader = CountingReader(store)
    p = inclusion_proof(index, size, reader)
    assert list(p.hashes) == path(index, hs[:size])
    assert len(p.hashes) <= ceil_log2(size)
    # O(log n) nodes in one batched read (none for a one-leaf tree).
    assert len(reader.calls) == (1 if size > 1 else 0)
    assert sum(map(len, reader.calls)) <= 2 * ceil_log2(size)
    verify_inclusion(hs[index], p, big_root(size))


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_consistency_proofs_match_reference(data: st.DataObject) -> None:
    hs, store = big_tree()
    new = data.draw(st.integers(min_value=1, max_value=BIG), label="new")
    old = data.draw(st.integers(min_value=0, max_value=new), label="old")
    reader = CountingReader(store)
    c = consistency_proof(old, new, reader)
    if old in (0, new):
        assert c.hashes == ()
        assert reader.calls == []
    else:
        assert list(c.hashes) == proof(old, hs[:new])
        assert len(c.hashes) <= ceil_log2(new) + 1
        assert len(reader.calls) == 1
        assert len(reader.calls[0]) <= 2 * ceil_log2(new) + 1
    verify_consistency(big_root(old), big_root(new), c)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_tampered_inclusion_proofs_fail(data: st.DataObject) -> None:
    hs, store = big_tree()
    size = data.draw(st.integers(min_value=2, max_value=BIG), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    p = inclusion_proof(index, size, store)
    root = big_root(size)
    k = data.draw(st.integers(min_value=0, max_value=len(p.hashes) - 1), label="k")
    bit = data.draw(st.integers(min_value=0, max_value=7), label="bit")
    hashes = list(p.hashes)
    hashes[k] = flip(hashes[k], bit)
    with pytest.raises(RootMismatchError) as err:
        verify_inclusion(hs[index], InclusionProof(index, size, tuple(hashes)), root)
    assert err.value.expected == root
    assert err.value.computed != root
    with pytest.raises(RootMismatchError):
        verify_inclusion(flip(hs[index], bit), p, root)
    with pytest.raises(RootMismatchError):
        verify_inclusion(hs[index], p, flip(root, bit))
    with pytest.raises(MalformedProofError) as short:
        verify_inclusion(hs[index], InclusionProof(index, size, p.hashes[:-1]), root)
    assert (short.value.expected, short.value.computed) == (len(p.hashes), len(p.hashes) - 1)
    with pytest.raises(MalformedProofError):
        verify_inclusion(hs[index], InclusionProof(index, size, (*p.hashes, root)), root)
    other = data.draw(st.integers(min_value=0, max_value=size - 1), label="other")
    if other != index:
        with pytest.raises(ProofError):
            verify_inclusion(hs[index], InclusionProof(other, size, p.hashes), root)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_tampered_consistency_proofs_fail(data: st.DataObject) -> None:
    _, store = big_tree()
    new = data.draw(st.integers(min_value=2, max_value=BIG), label="new")
    old = data.draw(st.integers(min_value=1, max_value=new - 1), label="old")
    c = consistency_proof(old, new, store)
    old_root, new_root = big_root(old), big_root(new)
    k = data.draw(st.integers(min_value=0, max_value=len(c.hashes) - 1), label="k")
    hashes = list(c.hashes)
    hashes[k] = flip(hashes[k], 4)
    with pytest.raises(RootMismatchError):
        verify_consistency(old_root, new_root, ConsistencyProof(old, new, tuple(hashes)))
    with pytest.raises(RootMismatchError):
        verify_consistency(new_root, old_root, c)
    with pytest.raises(RootMismatchError):
        verify_consistency(flip(old_root), new_root, c)
    with pytest.raises(RootMismatchError):
        verify_consistency(old_root, flip(new_root), c)
    with pytest.raises(MalformedProofError):
        verify_consistency(old_root, new_root, ConsistencyProof(old, new, c.hashes[:-1]))
    with pytest.raises(MalformedProofError):
        verify_consistency(old_root, new_root, ConsistencyProof(old, new, (*c.hashes, new_root)))
    with pytest.raises(MalformedProofError):
        verify_consistency(old_root, new_root, ConsistencyProof(old, new, ()))


# --- edge cases of checking ------------------------------------------------------------------


def test_inclusion_index_outside_tree_is_malformed() -> None:
    h = hash_leaf(b"x")
    for index, size in [(0, 0), (1, 1), (5, 3)]:
        with pytest.raises(MalformedProofError, match="outside"):
            verify_inclusion(h, InclusionProof(index, size, ()), h)


def test_single_leaf_tree() -> None:
    h = hash_leaf(b"data")
    verify_inclusion(h, InclusionProof(0, 1, ()), h)
    with pytest.raises(RootMismatchError):
        verify_inclusion(h, InclusionProof(0, 1, ()), EMPTY_ROOT)


def test_wrong_sized_proof_hash_is_malformed() -> None:
    hs = [hash_leaf(bytes([i])) for i in range(4)]
    store = MemoryNodeStore.from_leaf_hashes(hs)
    p = inclusion_proof(1, 4, store)
    bad = InclusionProof(1, 4, (p.hashes[0][:31], p.hashes[1]))
    with pytest.raises(MalformedProofError, match="wrong size") as err:
        verify_inclusion(hs[1], bad, store.root())
    assert (err.value.expected, err.value.computed) == (32, 31)


def test_trivial_consistency() -> None:
    r1, r2 = hash_leaf(b"1"), hash_leaf(b"2")
    verify_consistency(EMPTY_ROOT, EMPTY_ROOT, ConsistencyProof(0, 0, ()))
    verify_consistency(EMPTY_ROOT, r2, ConsistencyProof(0, 5, ()))
    verify_consistency(r1, r1, ConsistencyProof(3, 3, ()))
    with pytest.raises(RootMismatchError):
        verify_consistency(r1, r2, ConsistencyProof(3, 3, ()))
    with pytest.raises(RootMismatchError):
        verify_consistency(r1, r2, ConsistencyProof(0, 3, ()))
    with pytest.raises(MalformedProofError):
        verify_consistency(r1, r1, ConsistencyProof(3, 3, (r1,)))
    with pytest.raises(MalformedProofError):
        verify_consistency(EMPTY_ROOT, r2, ConsistencyProof(0, 3, (r2,)))
    with pytest.raises(MalformedProofError, match="shrink"):
        verify_consistency(r1, r2, ConsistencyProof(4, 3, ()))
    assert root_from_consistency(r1, ConsistencyProof(3, 3, ())) == r1
    with pytest.raises(ValueError):
        root_from_consistency(EMPTY_ROOT, ConsistencyProof(0, 3, ()))


def test_proof_errors_are_ledger_errors_with_advice() -> None:
    h = hash_leaf(b"x")
    with pytest.raises(LedgerError) as err:
        verify_inclusion(h, InclusionProof(0, 1, ()), EMPTY_ROOT)
    assert isinstance(err.value, ProofError)
    assert h.hex() in str(err.value) and EMPTY_ROOT.hex() in str(err.value)
    assert err.value.advice
    assert err.value.to_dict()["error"] == "ledger_root_mismatch"


def test_verification_misuse_is_value_error() -> None:
    h = hash_leaf(b"x")
    with pytest.raises(ValueError):
        verify_inclusion(b"short", InclusionProof(0, 1, ()), h)
    with pytest.raises(ValueError):
        verify_inclusion(h, InclusionProof(0, 1, ()), b"short")
    with pytest.raises(ValueError):
        verify_consistency(b"", h, ConsistencyProof(1, 1, ()))
    with pytest.raises(ValueError):
        InclusionProof(-1, 1, ())
    with pytest.raises(TypeError):
        InclusionProof(0, 1, b"x" * 32)  # type: ignore[arg-type]


def test_building_misuse() -> None:
    store = MemoryNodeStore.from_leaf_hashes([hash_leaf(b"a"), hash_leaf(b"b")])
    with pytest.raises(ValueError):
        inclusion_proof(2, 2, store)
    with pytest.raises(ValueError):
        consistency_proof(3, 2, store)
    with pytest.raises(MissingNodesError):
        inclusion_proof(0, 5, store)
    assert consistency_proof(2, 2, store).hashes == ()


def test_proof_lists_are_frozen_to_tuples() -> None:
    h = hash_leaf(b"x")
    p = InclusionProof(0, 2, [bytearray(h)])  # type: ignore[arg-type]
    assert p.hashes == (h,)
    assert isinstance(p.hashes[0], bytes)


def test_length_bound_at_scale() -> None:
    # Sizes well past the test trees: the shape of a proof follows from the sizes alone.
    for n in (2**20, 2**20 + 1, 10_000_000, 2**40 - 1, 2**64 - 1):
        for i in (0, 1, n // 3, n - 2, n - 1):
            segments = _path_segments(i, 0, n)
            assert len(segments) <= math.ceil(math.log2(n))
            assert sum(map(len, segments)) <= 2 * math.ceil(math.log2(n))
