"""Storage-agnostic addressing of an append-only RFC 9162 Merkle tree.

A log of ``n`` leaves is stored as its *complete* (perfect) subtrees only: the node
``NodeId(level, index)`` is the root of the perfect subtree over leaves
``[index * 2**level, (index + 1) * 2**level)``. Leaves are level 0. Such a node never changes
once all its leaves exist, so it is written exactly once, when its last leaf is appended: an
append writes the leaf and each parent it completes (2 nodes per leaf, amortised).

Any tree size ``s <= n`` is then the ordered list of perfect subtrees given by the binary
decomposition of ``s`` (its *frontier*, largest first), and the RFC 9162 root MTH(D[0:s]) is
their right fold: ``h(f0, h(f1, ... h(f[k-2], f[k-1])))``. So a root of any past size costs
popcount(s) <= log2(s) + 1 stored nodes, read in one batch.

Storage is behind two tiny protocols, :class:`NodeReader` (one batched read) and
:class:`NodeWriter`; :class:`MemoryNodeStore` implements both in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol, runtime_checkable

from facegate.errors import LedgerError
from facegate.ledger.hasher import EMPTY_ROOT, HASH_SIZE, _node

__all__ = [
    "MAX_TREE_SIZE",
    "AppendResult",
    "MemoryNodeStore",
    "MissingNodesError",
    "NodeConflictError",
    "NodeId",
    "NodeReader",
    "NodeWriter",
    "append_plan",
    "fold_frontier",
    "frontier_ids",
    "range_ids",
    "read_nodes",
    "root_at",
]

#: tree sizes are unsigned 64-bit integers, as in RFC 9162 and C2SP checkpoints
MAX_TREE_SIZE = 2**64 - 1


# --- errors ----------------------------------------------------------------------------------


class MissingNodesError(LedgerError):
    """The node store lacks nodes that a tree of the requested size must have."""

    code = "ledger_missing_nodes"
    default_advice = (
        "The node table is incomplete for this tree size: check that every append persisted\n"
        "all the nodes append_plan returned, and that the size asked for is not beyond the log."
    )

    def __init__(self, ids: Sequence[NodeId], *, advice: str | None = None) -> None:
        self.ids = tuple(ids)
        shown = ", ".join(str(i) for i in self.ids[:4])
        more = f" and {len(self.ids) - 4} more" if len(self.ids) > 4 else ""
        super().__init__(
            f"node store is missing {len(self.ids)} node(s): {shown}{more}", advice=advice
        )


class NodeConflictError(LedgerError):
    """A write would replace a stored complete node with a different hash."""

    code = "ledger_node_conflict"
    default_advice = (
        "A complete subtree never changes; a different hash for it means the log was forked or\n"
        "altered. Preserve the store as it is and compare it with the last signed checkpoint."
    )

    def __init__(
        self, node: NodeId, *, expected: bytes, computed: bytes, advice: str | None = None
    ) -> None:
        self.node = node
        self.expected = expected
        self.computed = computed
        super().__init__(
            f"{node} is stored as {expected.hex()} but the write has {computed.hex()}",
            advice=advice,
        )


# --- addressing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class NodeId:
    """The perfect subtree over leaves ``[index * 2**level, (index + 1) * 2**level)``."""

    level: int
    index: int

    MAX_LEVEL: ClassVar[int] = 64

    def __post_init__(self) -> None:
        if not 0 <= self.level <= self.MAX_LEVEL:
            raise ValueError(f"node level must be in [0, {self.MAX_LEVEL}], got {self.level}")
        if self.index < 0:
            raise ValueError(f"node index must be >= 0, got {self.index}")

    @property
    def start(self) -> int:
        """First leaf index covered."""
        return self.index << self.level

    @property
    def end(self) -> int:
        """One past the last leaf index covered."""
        return (self.index + 1) << self.level

    @property
    def width(self) -> int:
        """Number of leaves covered."""
        return 1 << self.level

    def parent(self) -> NodeId:
        return NodeId(self.level + 1, self.index >> 1)

    def sibling(self) -> NodeId:
        return NodeId(self.level, self.index ^ 1)

    def children(self) -> tuple[NodeId, NodeId]:
        if self.level == 0:
            raise ValueError("a leaf has no children")
        left = NodeId(self.level - 1, self.index << 1)
        return left, left.sibling()

    def __str__(self) -> str:
        return f"node(level={self.level}, index={self.index}, leaves [{self.start}, {self.end}))"


def _check_size(size: int, what: str = "tree size") -> None:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"{what} must be an int, not {type(size).__name__}")
    if not 0 <= size <= MAX_TREE_SIZE:
        raise ValueError(f"{what} must be in [0, 2**64 - 1], got {size}")


def range_ids(start: int, end: int) -> tuple[NodeId, ...]:
    """The perfect subtrees that tile ``[start, end)`` when ``start`` is aligned to them.

    ``start`` must be a multiple of the largest power of two not above ``end - start`` (true for
    every range this package asks for: tree prefixes and the ragged right edge of a subtree).
    The result is ordered left to right, largest first; folding it right to left gives the
    RFC 9162 MTH of the range.
    """
    if not 0 <= start <= end:
        raise ValueError(f"bad leaf range [{start}, {end})")
    out: list[NodeId] = []
    pos = start
    remaining = end - start
    while remaining:
        level = remaining.bit_length() - 1
        width = 1 << level
        if pos & (width - 1):
            raise ValueError(f"range [{start}, {end}) is not aligned to its perfect subtrees")
        out.append(NodeId(level, pos >> level))
        pos += width
        remaining -= width
    return tuple(out)


def frontier_ids(size: int) -> tuple[NodeId, ...]:
    """The perfect subtrees of a tree of ``size`` leaves (binary decomposition), largest first."""
    _check_size(size)
    return range_ids(0, size)


def fold_frontier(hashes: Sequence[bytes]) -> bytes:
    """Right-fold perfect-subtree hashes (largest first) into the RFC 9162 root of their range.

    An empty sequence folds to :data:`EMPTY_ROOT`.
    """
    if not hashes:
        return EMPTY_ROOT
    for h in hashes:
        _check_hash(h, "frontier hash")
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = _node(h, acc)
    return bytes(acc)


def _check_hash(h: object, what: str) -> None:
    if not isinstance(h, bytes | bytearray):
        raise TypeError(f"{what} must be bytes, not {type(h).__name__}")
    if len(h) != HASH_SIZE:
        raise ValueError(f"{what} must be {HASH_SIZE} bytes, got {len(h)}")


# --- storage protocols -----------------------------------------------------------------------


@runtime_checkable
class NodeReader(Protocol):
    """Reads stored complete nodes, many at a time (one round trip to the database)."""

    def get_nodes(self, ids: Sequence[NodeId]) -> Mapping[NodeId, bytes]:
        """Return the 32-byte hash of each id that is stored; ids not stored are left out."""
        ...


@runtime_checkable
class NodeWriter(Protocol):
    """Persists the new complete nodes of an append."""

    def put_nodes(self, nodes: Iterable[tuple[NodeId, bytes]]) -> None:
        """Store each ``(id, hash)``; a complete node is written once and never changes."""
        ...


def read_nodes(reader: NodeReader, ids: Sequence[NodeId]) -> list[bytes]:
    """Read ``ids`` in one batched call and return their hashes in the same order.

    Raises :class:`MissingNodesError` naming every id the reader did not return, and ValueError if
    the reader returns something that is not a 32-byte hash.
    """
    if not ids:
        return []
    found = reader.get_nodes(ids)
    out: list[bytes] = []
    missing: list[NodeId] = []
    for node in ids:
        h = found.get(node)
        if h is None:
            missing.append(node)
            continue
        _check_hash(h, f"stored hash of {node}")
        out.append(bytes(h))
    if missing:
        raise MissingNodesError(missing)
    return out


def root_at(size: int, reader: NodeReader) -> bytes:
    """MTH(D[0:size]) from the popcount(size) stored nodes of its frontier (one batched read)."""
    return fold_frontier(read_nodes(reader, frontier_ids(size)))


# --- appending -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append changes: the nodes to persist and the new tree head.

    ``nodes`` holds every newly completed node, leaves included, in the order they complete
    (each leaf followed by the parents it completes); within a level, indices are contiguous
    and increasing. ``frontier`` is the new tree's frontier (largest subtree first), which is
    all a caller needs to plan the next append without reading the store.
    """

    old_size: int
    new_size: int
    nodes: tuple[tuple[NodeId, bytes], ...]
    root: bytes
    frontier: tuple[bytes, ...]


def append_plan(
    size: int,
    frontier: Sequence[bytes] | NodeReader,
    leaf_hashes: Iterable[bytes],
) -> AppendResult:
    """Plan appending ``leaf_hashes`` (already :func:`~facegate.ledger.hasher.hash_leaf`-ed)
    to a tree of ``size`` leaves.

    ``frontier`` is either the current frontier hashes (``popcount(size)`` of them, largest
    subtree first, as returned in :attr:`AppendResult.frontier`) or a :class:`NodeReader` to
    read them from in one batch. Nothing is written: persist ``result.nodes`` (for example with
    :meth:`NodeWriter.put_nodes`) in the same transaction that stores the leaves.

    Cost: one hash per leaf plus one per completed parent (< 2 per leaf overall), no reads
    beyond the frontier, whatever the batch size.
    """
    _check_size(size)
    ids = frontier_ids(size)
    hashes: list[bytes]
    if isinstance(frontier, bytes | bytearray | memoryview | str):
        raise TypeError("frontier must be a sequence of hashes or a NodeReader, not one value")
    if isinstance(frontier, NodeReader):
        hashes = read_nodes(frontier, ids)
    else:
        hashes = list(frontier)
        if len(hashes) != len(ids):
            raise ValueError(
                f"a tree of size {size} has a frontier of {len(ids)} hashes, got {len(hashes)}"
            )
        for h in hashes:
            _check_hash(h, "frontier hash")
        hashes = [bytes(h) for h in hashes]

    # The frontier as a stack of (level, hash), smallest subtree on top.
    stack: list[tuple[int, bytes]] = [(node.level, h) for node, h in zip(ids, hashes, strict=True)]
    nodes: list[tuple[NodeId, bytes]] = []
    add = nodes.append
    index = size
    for leaf in leaf_hashes:
        if not isinstance(leaf, bytes | bytearray) or len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash #{index - size} is not a {HASH_SIZE}-byte hash")
        h = bytes(leaf)
        add((NodeId(0, index), h))
        level = 0
        i = index
        # A node with an odd index is a right child: it completes its parent, whose left child
        # is the top of the stack.
        while i & 1:
            top_level, top = stack.pop()
            if top_level != level:  # pragma: no cover - guarded by frontier_ids()
                raise AssertionError("frontier stack out of order")
            h = _node(top, h)
            i >>= 1
            level += 1
            add((NodeId(level, i), h))
        stack.append((level, h))
        index += 1
        if index > MAX_TREE_SIZE:
            raise ValueError("tree size would exceed 2**64 - 1")

    new_frontier = tuple(h for _, h in stack)
    return AppendResult(
        old_size=size,
        new_size=index,
        nodes=tuple(nodes),
        root=fold_frontier(new_frontier),
        frontier=new_frontier,
    )


# --- in-memory store -------------------------------------------------------------------------


class MemoryNodeStore:
    """Complete nodes in memory: one contiguous byte array per level (32 bytes a node).

    Because the log is append-only, each level only ever grows at its end, so a write must
    either extend its level by exactly the next index or repeat a stored node with the same
    hash (idempotent); a different hash raises :class:`NodeConflictError`, a gap raises ValueError.
    """

    __slots__ = ("_levels",)

    def __init__(self) -> None:
        self._levels: list[bytearray] = []

    @classmethod
    def from_leaf_hashes(cls, leaf_hashes: Iterable[bytes]) -> MemoryNodeStore:
        store = cls()
        store.append(leaf_hashes)
        return store

    @property
    def size(self) -> int:
        """Number of leaves stored."""
        return len(self._levels[0]) // HASH_SIZE if self._levels else 0

    def __len__(self) -> int:
        return self.size

    @property
    def node_count(self) -> int:
        """Number of complete nodes stored (2 * size - popcount(size))."""
        return sum(len(level) for level in self._levels) // HASH_SIZE

    def get_nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        out: dict[NodeId, bytes] = {}
        levels = self._levels
        for node in ids:
            if node.level < len(levels):
                data = levels[node.level]
                off = node.index * HASH_SIZE
                if off + HASH_SIZE <= len(data):
                    out[node] = bytes(data[off : off + HASH_SIZE])
        return out

    def put_nodes(self, nodes: Iterable[tuple[NodeId, bytes]]) -> None:
        levels = self._levels
        for node, h in nodes:
            _check_hash(h, f"hash of {node}")
            while len(levels) <= node.level:
                levels.append(bytearray())
            data = levels[node.level]
            off = node.index * HASH_SIZE
            if off == len(data):
                data += h
            elif off < len(data):
                stored = bytes(data[off : off + HASH_SIZE])
                if stored != h:
                    raise NodeConflictError(node, expected=stored, computed=bytes(h))
            else:
                raise ValueError(
                    f"cannot write {node}: level {node.level} holds only "
                    f"{len(data) // HASH_SIZE} nodes (writes must be contiguous)"
                )

    def append(self, leaf_hashes: Iterable[bytes]) -> AppendResult:
        """Plan and persist an append; return the plan (new nodes and root)."""
        plan = append_plan(self.size, self, leaf_hashes)
        self.put_nodes(plan.nodes)
        return plan

    def root(self, size: int | None = None) -> bytes:
        """Root of the tree at ``size`` leaves (default: all stored leaves)."""
        return root_at(self.size if size is None else size, self)
