"""Stored complete subtrees: appends, roots of past sizes, and the in-memory store."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_reference import CT_LEAVES, CT_ROOTS, leaf_hash, mth

from facegate.errors import LedgerError
from facegate.ledger.hasher import EMPTY_ROOT, hash_leaf
from facegate.ledger.tree import (
    MemoryNodeStore,
    MissingNodesError,
    NodeConflictError,
    NodeId,
    NodeReader,
    append_plan,
    fold_frontier,
    frontier_ids,
    range_ids,
    root_at,
)


def leaves(n: int, salt: int = 0) -> list[bytes]:
    return [leaf_hash(f"leaf-{salt}-{i}".encode()) for i in range(n)]


class CountingReader:
    """Wraps a reader and records every batched call."""

    def __init__(self, inner: NodeReader) -> None:
        self.inner = inner
        self.calls: list[tuple[NodeId, ...]] = []

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        self.calls.append(tuple(ids))
        return self.inner.get_nodes(ids)


# --- addressing --------------------------------------------------------------------------------


def test_node_id_ranges_and_relatives() -> None:
    node = NodeId(3, 5)
    assert (node.start, node.end, node.width) == (40, 48, 8)
    assert node.parent() == NodeId(4, 2)
    assert node.sibling() == NodeId(3, 4)
    assert node.children() == (NodeId(2, 10), NodeId(2, 11))
    assert NodeId(0, 7).sibling() == NodeId(0, 6)
    with pytest.raises(ValueError):
        NodeId(0, 1).children()
    with pytest.raises(ValueError):
        NodeId(-1, 0)
    with pytest.raises(ValueError):
        NodeId(0, -1)
    assert "leaves [40, 48)" in str(node)


def test_frontier_is_the_binary_decomposition() -> None:
    assert frontier_ids(0) == ()
    assert frontier_ids(1) == (NodeId(0, 0),)
    assert frontier_ids(8) == (NodeId(3, 0),)
    assert frontier_ids(13) == (NodeId(3, 0), NodeId(2, 2), NodeId(0, 12))
    assert range_ids(12, 15) == (NodeId(1, 6), NodeId(0, 14))
    with pytest.raises(ValueError):
        range_ids(1, 3)  # not aligned
    with pytest.raises(ValueError):
        frontier_ids(-1)
    with pytest.raises(ValueError):
        frontier_ids(2**64)


def test_fold_frontier() -> None:
    assert fold_frontier([]) == EMPTY_ROOT
    with pytest.raises(ValueError):
        fold_frontier([b"short"])


# --- known answers -------------------------------------------------------------------------------


def test_ct_known_answer_roots() -> None:
    store = MemoryNodeStore()
    assert store.root() == EMPTY_ROOT
    for n, data in enumerate(CT_LEAVES, start=1):
        plan = store.append([hash_leaf(data)])
        assert plan.root == CT_ROOTS[n], n
    for n in range(len(CT_LEAVES) + 1):
        assert root_at(n, store) == CT_ROOTS[n]


def test_ct_known_answer_roots_in_one_batch() -> None:
    plan = append_plan(0, [], [hash_leaf(d) for d in CT_LEAVES])
    assert plan.root == CT_ROOTS[8]
    assert plan.new_size == 8
    assert len(plan.nodes) == 15


# --- appends -----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=3000),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=12),
    use_reader=st.booleans(),
)
def test_batched_appends_match_reference(n: int, cuts: list[int], use_reader: bool) -> None:
    hs = leaves(n)
    bounds = sorted({0, n, *(c for c in cuts if c <= n)})
    store = MemoryNodeStore()
    frontier: tuple[bytes, ...] = ()
    for lo, hi in itertools.pairwise(bounds):
        plan = append_plan(lo, store if use_reader else frontier, hs[lo:hi])
        assert (plan.old_size, plan.new_size) == (lo, hi)
        assert plan.root == mth(hs[:hi])
        # Leaves are level 0; every completed parent comes right after the leaf completing it.
        assert [node for node, _ in plan.nodes if node.level == 0] == [
            NodeId(0, i) for i in range(lo, hi)
        ]
        assert all(node.end <= hi and node.end > lo for node, _ in plan.nodes)
        store.put_nodes(plan.nodes)
        frontier = plan.frontier
        assert fold_frontier(frontier) == plan.root
    assert store.size == n
    # Exactly the complete subtrees are stored: 2n - popcount(n) nodes, none twice.
    assert store.node_count == 2 * n - n.bit_count()
    for size in {0, n, n // 2, max(n - 1, 0), 2 ** max(n.bit_length() - 1, 0)}:
        if size <= n:
            assert root_at(size, store) == mth(hs[:size])


@settings(max_examples=15, deadline=None)
@given(n=st.integers(min_value=1, max_value=600))
def test_every_stored_node_is_the_mth_of_its_range(n: int) -> None:
    hs = leaves(n, salt=1)
    store = MemoryNodeStore.from_leaf_hashes(hs)
    level = 0
    while (1 << level) <= n:
        ids = [NodeId(level, i) for i in range(n >> level)]
        got = store.get_nodes(ids)
        assert len(got) == len(ids)
        for node in ids:
            assert got[node] == mth(hs[node.start : node.end])
        assert NodeId(level, n >> level) not in store.get_nodes([NodeId(level, n >> level)])
        level += 1


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=1, max_value=3000), data=st.data())
def test_root_at_reads_one_batch_of_the_decomposition(n: int, data: st.DataObject) -> None:
    hs = leaves(n, salt=2)
    store = MemoryNodeStore.from_leaf_hashes(hs)
    size = data.draw(st.integers(min_value=0, max_value=n))
    reader = CountingReader(store)
    assert root_at(size, reader) == mth(hs[:size])
    if size:
        assert reader.calls == [frontier_ids(size)]
        assert len(reader.calls[0]) == size.bit_count()
    else:
        assert reader.calls == []


def test_single_appends_write_two_nodes_per_leaf_amortised() -> None:
    store = MemoryNodeStore()
    written = 0
    for i, h in enumerate(leaves(1024)):
        plan = store.append([h])
        # The leaf plus one parent per trailing one bit of its index.
        trailing_ones = (~i & (i + 1)).bit_length() - 1
        assert len(plan.nodes) == 1 + trailing_ones
        written += len(plan.nodes)
    assert written == 2 * 1024 - 1


def test_append_plan_rejects_misuse() -> None:
    hs = leaves(5)
    with pytest.raises(ValueError, match="frontier of 2 hashes"):
        append_plan(5, [hs[0]], [hs[1]])
    with pytest.raises(TypeError):
        append_plan(1, hs[0], [hs[1]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="leaf hash #1"):
        append_plan(0, [], [hs[0], b"not a hash"])
    with pytest.raises(ValueError):
        append_plan(-1, [], [])
    with pytest.raises(ValueError):
        append_plan(1, [b"short"], [])


def test_append_plan_from_reader_reports_missing_frontier() -> None:
    store = MemoryNodeStore.from_leaf_hashes(leaves(4))
    with pytest.raises(MissingNodesError) as err:
        append_plan(6, store, leaves(1))
    assert err.value.ids == (NodeId(1, 2),)
    assert isinstance(err.value, LedgerError)


def test_root_beyond_the_store_is_missing_nodes() -> None:
    store = MemoryNodeStore.from_leaf_hashes(leaves(5))
    with pytest.raises(MissingNodesError, match="missing 2 node"):
        root_at(7, store)


# --- the in-memory store ---------------------------------------------------------------------


def test_store_rewrites_are_idempotent_and_conflicts_are_caught() -> None:
    hs = leaves(4)
    store = MemoryNodeStore.from_leaf_hashes(hs)
    store.put_nodes([(NodeId(0, 1), hs[1])])  # same value again: fine
    with pytest.raises(NodeConflictError) as err:
        store.put_nodes([(NodeId(0, 1), hs[2])])
    assert err.value.expected == hs[1]
    assert err.value.computed == hs[2]
    assert store.root() == mth(hs)


def test_store_refuses_gaps_and_bad_hashes() -> None:
    store = MemoryNodeStore()
    with pytest.raises(ValueError, match="contiguous"):
        store.put_nodes([(NodeId(0, 1), leaves(1)[0])])
    with pytest.raises(ValueError):
        store.put_nodes([(NodeId(0, 0), b"short")])
    assert len(store) == 0
