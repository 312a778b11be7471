"""RFC 9162 hashing: known answers and misuse."""

from __future__ import annotations

import hashlib

import pytest
from ledger_reference import CT_LEAVES, CT_ROOTS

from facegate.ledger.hasher import EMPTY_ROOT, HASH_SIZE, hash_children, hash_leaf


def test_empty_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT == CT_ROOTS[0] == hashlib.sha256(b"").digest()
    assert len(EMPTY_ROOT) == HASH_SIZE


def test_leaf_hash_known_answer() -> None:
    # A one-leaf tree's root is its leaf hash: MTH({""}) in the CT test suite.
    assert hash_leaf(b"") == CT_ROOTS[1]
    assert hash_leaf(b"abc") == hashlib.sha256(b"\x00abc").digest()
    assert hash_leaf(bytearray(b"abc")) == hash_leaf(memoryview(b"abc")) == hash_leaf(b"abc")


def test_interior_hash_known_answer() -> None:
    assert hash_children(hash_leaf(CT_LEAVES[0]), hash_leaf(CT_LEAVES[1])) == CT_ROOTS[2]


def test_leaf_and_node_domains_differ() -> None:
    a, b = hash_leaf(b"a"), hash_leaf(b"b")
    assert hash_leaf(a + b) != hash_children(a, b)


@pytest.mark.parametrize(("left", "right"), [(b"", b"x" * 32), (b"x" * 32, b"x" * 33)])
def test_hash_children_rejects_non_hashes(left: bytes, right: bytes) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        hash_children(left, right)


def test_hash_leaf_rejects_text() -> None:
    with pytest.raises(TypeError):
        hash_leaf("text")  # type: ignore[arg-type]
