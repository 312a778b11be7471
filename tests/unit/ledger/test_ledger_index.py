"""The verifiable index, pure parts: hashing, the tree, the builder, proofs, head lines."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from facegate.ledger.checkpoint import Checkpoint, NoteFormatError
from facegate.ledger.head_lines import head_extensions, read_head_lines
from facegate.ledger.index_hasher import (
    DEFAULTS,
    DEPTH,
    EMPTY_CHAIN,
    History,
    bucket_hash,
    bucket_of,
    decode_records,
    encode_records,
    event_keys,
    key_hash,
    keys_of_leaf,
    node_hash,
)
from facegate.ledger.index_proofs import (
    HistoryMismatchError,
    IndexProof,
    history_in,
    index_proof,
    verify_history,
    verify_index_proof,
)
from facegate.ledger.index_tree import BUCKETS, IndexBuilder, TopTree
from facegate.ledger.proofs import MalformedProofError, RootMismatchError

ROOT = b"\x07" * 32


def _sha(*parts: bytes) -> bytes:
    return hashlib.sha256(b"".join(parts)).digest()


def test_hashes_follow_the_documented_formulas() -> None:
    assert key_hash("subject", "ab") == _sha(b"\x10\x01ab")
    assert key_hash("deployment", "ab") == _sha(b"\x10\x02ab")
    assert History().then(5, ROOT).chain == _sha(b"\x11", EMPTY_CHAIN, (5).to_bytes(8, "big"), ROOT)
    assert bucket_hash(b"") == _sha(b"\x12") == DEFAULTS[0]
    assert node_hash(ROOT, ROOT) == _sha(b"\x13", ROOT, ROOT)
    assert DEFAULTS[DEPTH] == node_hash(DEFAULTS[DEPTH - 1], DEFAULTS[DEPTH - 1])
    key = key_hash("subject", "x")
    assert bucket_of(key) == int.from_bytes(key[:2], "big")


@pytest.mark.parametrize(
    ("kind", "value"), [("operator", "op_1"), ("subject", ""), ("deployment", None)]
)
def test_bad_keys_are_refused(kind: str, value: object) -> None:
    with pytest.raises(ValueError):
        key_hash(kind, value)  # type: ignore[arg-type]


def test_event_keys_and_keys_of_a_leaf() -> None:
    assert event_keys("p", "d") == (key_hash("subject", "p"), key_hash("deployment", "d"))
    assert event_keys(None, 3) == () and event_keys("", None) == ()
    assert keys_of_leaf(b'{"subject":"p","deployment":null}') == (key_hash("subject", "p"),)
    assert keys_of_leaf(b"not json") == () and keys_of_leaf(b"[1]") == ()


def test_history_values_are_checked() -> None:
    with pytest.raises(ValueError):
        History(0, ROOT)
    with pytest.raises(ValueError):
        History(-1)
    with pytest.raises(ValueError):
        History(1, b"short")
    assert History(2, ROOT).to_text().startswith("2 ")


def test_records_round_trip_and_reject_what_is_not_a_bucket() -> None:
    a, b = key_hash("subject", "a"), key_hash("subject", "b")
    data = encode_records([(b, History(1, ROOT)), (a, History(2, ROOT)), (ROOT, History())])
    assert decode_records(data) == sorted([(a, History(2, ROOT)), (b, History(1, ROOT))])
    first, second = data[:72], data[72:]
    for bad in (data[:-1], second + first, first + first, first[:32] + bytes(8) + first[40:]):
        with pytest.raises(ValueError):
            decode_records(bad)
    with pytest.raises(ValueError, match="twice"):
        encode_records([(a, History(1, ROOT)), (a, History(2, ROOT))])


def _naive_root(buckets: dict[int, bytes]) -> bytes:
    level = [buckets.get(i, DEFAULTS[0]) for i in range(BUCKETS)]
    while len(level) > 1:
        level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
    return level[0]


def test_the_tree_equals_the_naive_definition() -> None:
    rng = random.Random(1)
    hashes = {rng.randrange(BUCKETS): rng.randbytes(32) for _ in range(50)}
    built = TopTree.from_buckets(hashes.items(), size=3)
    assert built.root == _naive_root(hashes) and built.size == 3
    stepwise, one_by_one = TopTree(), TopTree()
    items = list(hashes.items())
    stepwise.set_buckets(dict(items[:20]))
    stepwise.set_buckets(dict(items[20:]))
    for n in range(0, len(items), 2):  # paths walked one by one (a few buckets at a time)
        one_by_one.set_buckets(dict(items[n : n + 2]))
    assert stepwise.root == built.root == one_by_one.root
    twin = built.copy()
    twin.set_buckets({0: ROOT})
    assert built.root == _naive_root(hashes) != twin.root
    assert TopTree().root == DEFAULTS[DEPTH]
    with pytest.raises(ValueError):
        built.path(BUCKETS)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2)), min_size=1, max_size=40))
def test_builder_proofs_verify_for_present_and_absent_keys(events: list[tuple[int, int]]) -> None:
    builder = IndexBuilder()
    named: dict[bytes, list[tuple[int, bytes]]] = {}
    for i, (subject, dep) in enumerate(events):
        leaf = _sha(b"leaf", bytes([i]))
        keys = event_keys(f"s{subject}", f"d{dep}" if dep else None)
        builder.add(i, leaf, keys)
        for k in keys:
            named.setdefault(k, []).append((i, leaf))
    tree = builder.tree()
    for key in [*named, key_hash("subject", "absent")]:
        proof = index_proof(key, builder.records(bucket_of(key)), tree)
        verify_index_proof(proof, builder.root())
        verify_history(proof, named.get(key, []))
        assert history_in(proof) == builder.history(key)


def test_builder_needs_entries_in_order() -> None:
    builder = IndexBuilder()
    builder.add(0, ROOT, ())
    with pytest.raises(ValueError, match="expected entry 1"):
        builder.add(2, ROOT, ())


def _one_key_proof() -> tuple[IndexProof, bytes, list[tuple[int, bytes]]]:
    builder = IndexBuilder()
    key = key_hash("subject", "p")
    entries = [(i, _sha(bytes([i]))) for i in range(3)]
    for i, leaf in entries:
        builder.add(i, leaf, (key,))
    return (
        index_proof(key, builder.records(bucket_of(key)), builder.tree()),
        builder.root(),
        entries,
    )


def test_proof_failures_carry_expected_and_computed() -> None:
    proof, root, entries = _one_key_proof()
    with pytest.raises(RootMismatchError) as err:
        verify_index_proof(proof, ROOT)
    assert err.value.expected == ROOT and err.value.computed == root
    with pytest.raises(MalformedProofError):
        verify_index_proof(IndexProof(proof.key, proof.size, proof.records, proof.path[:-1]), root)
    with pytest.raises(MalformedProofError):
        verify_index_proof(IndexProof(key_hash("subject", "q"), 3, proof.records, proof.path), root)
    for bad in (entries[:2], [entries[1], entries[0], entries[2]], [*entries, (3, ROOT)]):
        with pytest.raises(HistoryMismatchError):
            verify_history(proof, bad)
    with pytest.raises(RootMismatchError):  # records that are not the tree's
        index_proof(proof.key, b"", TopTree.from_buckets([(bucket_of(proof.key), ROOT)], size=3))


def test_head_lines_round_trip_and_are_strict() -> None:
    lines = head_extensions(index_root=ROOT, prev=4)
    parsed = read_head_lines(Checkpoint("o", 9, ROOT, lines))
    assert (parsed.index_root, parsed.prev) == (ROOT, 4)
    assert read_head_lines(Checkpoint("o", 9, ROOT, ("other line",))).index_root is None
    assert head_extensions(index_root=None, prev=0) == ("facegate/prev 0",)
    for bad in (
        (*lines, lines[0]),
        ("facegate/index/v1 AAAA",),
        ("facegate/prev 01",),
        ("facegate/prev 9",),
    ):
        with pytest.raises(NoteFormatError):
            read_head_lines(Checkpoint("o", 9, ROOT, bad))
    with pytest.raises(ValueError):
        head_extensions(index_root=b"short", prev=0)
