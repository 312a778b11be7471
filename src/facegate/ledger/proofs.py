"""RFC 9162 inclusion and consistency proofs: building from stored nodes, and checking.

Building (:func:`inclusion_proof`, :func:`consistency_proof`) reads only stored complete
subtrees (see :mod:`facegate.ledger.tree`), O(log n) of them in a single batched
:meth:`~facegate.ledger.tree.NodeReader.get_nodes` call. Where the audit path crosses the
ragged right edge of the tree, the sibling there is not a complete subtree; its hash is folded
from the perfect subtrees that tile it. The proofs are exactly RFC 9162 §2.1.3.1 PATH(m, D[n])
and §2.1.4.1 PROOF(m, D[n]).

Checking (:func:`verify_inclusion`, :func:`verify_consistency`, :func:`root_from_inclusion`,
:func:`root_from_consistency`) is pure: it follows the algorithms of RFC 9162 §2.1.3.2 and
§2.1.4.2 step by step and shares no code with the building side. Failures raise a
:class:`ProofError` carrying the expected and the computed values; success returns None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facegate.errors import LedgerError
from facegate.ledger.hasher import EMPTY_ROOT, HASH_SIZE, _node
from facegate.ledger.tree import (
    MAX_TREE_SIZE,
    NodeId,
    NodeReader,
    fold_frontier,
    range_ids,
    read_nodes,
)

__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "MalformedProofError",
    "ProofError",
    "RootMismatchError",
    "consistency_proof",
    "inclusion_proof",
    "root_from_consistency",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]


# --- errors ----------------------------------------------------------------------------------


def _show(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex() or "<empty>"
    return str(value)


class ProofError(LedgerError):
    """A Merkle proof does not verify. ``expected`` and ``computed`` say how it fails."""

    code = "ledger_proof_invalid"
    default_advice = (
        "Do not trust the entry or tree head this proof was meant to vouch for. Fetch a fresh\n"
        "proof; if a fresh one fails too, the log may have been altered."
    )

    def __init__(
        self,
        message: str,
        *,
        expected: object,
        computed: object,
        advice: str | None = None,
    ) -> None:
        super().__init__(
            f"{message}: expected {_show(expected)}, computed {_show(computed)}", advice=advice
        )
        self.expected = expected
        self.computed = computed


class MalformedProofError(ProofError):
    """The proof cannot be right for its sizes: wrong length, hash size or index range."""

    code = "ledger_proof_malformed"


class RootMismatchError(ProofError):
    """The proof is well formed but leads to a different root hash."""

    code = "ledger_root_mismatch"


# --- proof values ----------------------------------------------------------------------------


def _check_count(value: int, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an int, not {type(value).__name__}")
    if not 0 <= value <= MAX_TREE_SIZE:
        raise ValueError(f"{what} must be in [0, 2**64 - 1], got {value}")


def _freeze_hashes(hashes: Sequence[bytes]) -> tuple[bytes, ...]:
    if isinstance(hashes, bytes | bytearray | str):
        raise TypeError("proof hashes must be a sequence of bytes values, not one value")
    out: list[bytes] = []
    for h in hashes:
        if not isinstance(h, bytes | bytearray):
            raise TypeError(f"proof hashes must be bytes, not {type(h).__name__}")
        out.append(bytes(h))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """RFC 9162 audit path for leaf ``index`` in the tree of ``size`` leaves, leaf end first."""

    index: int
    size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_count(self.index, "leaf index")
        _check_count(self.size, "tree size")
        object.__setattr__(self, "hashes", _freeze_hashes(self.hashes))


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """RFC 9162 consistency proof that the tree of ``new_size`` extends that of ``old_size``."""

    old_size: int
    new_size: int
    hashes: tuple[bytes, ...]

    def __post_init__(self) -> None:
        _check_count(self.old_size, "old tree size")
        _check_count(self.new_size, "new tree size")
        object.__setattr__(self, "hashes", _freeze_hashes(self.hashes))


# --- building --------------------------------------------------------------------------------


def _path_segments(leaf: int, level: int, size: int) -> list[tuple[NodeId, ...]]:
    """Audit path, bottom up, of the complete node at ``level`` holding ``leaf``, in ``size``.

    Each segment is the tuple of perfect subtrees whose right fold is one proof hash: a single
    node, except for the sibling on the ragged right edge of the tree.
    """
    last = size - 1
    # Below level `split` the ancestors of `leaf` are complete subtrees that end before the
    # last leaf; from `split` up they lie on the right edge shared with the last leaf.
    split = (leaf ^ last).bit_length()
    segments: list[tuple[NodeId, ...]] = [
        (NodeId(lvl, (leaf >> lvl) ^ 1),) for lvl in range(level, split - 1)
    ]
    if split > level:
        # The right sibling at level split-1 is cut short by the end of the tree.
        start = ((leaf >> (split - 1)) + 1) << (split - 1)
        segments.append(range_ids(start, size))
    # On the right edge a node with a left sibling is hashed with it; one without (a left
    # child whose right sibling lies past the end) is carried up unchanged.
    segments.extend(
        (NodeId(lvl, (leaf >> lvl) ^ 1),)
        for lvl in range(split, last.bit_length())
        if (leaf >> lvl) & 1
    )
    return segments


def _resolve(segments: list[tuple[NodeId, ...]], reader: NodeReader) -> tuple[bytes, ...]:
    ids = [node for segment in segments for node in segment]
    hashes = read_nodes(reader, ids)
    out: list[bytes] = []
    pos = 0
    for segment in segments:
        n = len(segment)
        out.append(hashes[pos] if n == 1 else fold_frontier(hashes[pos : pos + n]))
        pos += n
    return tuple(out)


def inclusion_proof(index: int, size: int, reader: NodeReader) -> InclusionProof:
    """RFC 9162 PATH(index, D[0:size]) from stored complete nodes, in one batched read.

    ``size`` may be any size the store has reached. At most ceil(log2(size)) hashes.
    """
    _check_count(size, "tree size")
    _check_count(index, "leaf index")
    if index >= size:
        raise ValueError(f"leaf index {index} is not in a tree of size {size}")
    return InclusionProof(index, size, _resolve(_path_segments(index, 0, size), reader))


def consistency_proof(old_size: int, new_size: int, reader: NodeReader) -> ConsistencyProof:
    """RFC 9162 PROOF(old_size, D[0:new_size]) from stored complete nodes, in one batched read.

    Empty when ``old_size`` is 0 or equal to ``new_size`` (nothing to prove).
    """
    _check_count(old_size, "old tree size")
    _check_count(new_size, "new tree size")
    if old_size > new_size:
        raise ValueError(f"old tree size {old_size} is larger than new tree size {new_size}")
    if old_size in (0, new_size):
        return ConsistencyProof(old_size, new_size, ())
    # The old tree's smallest perfect subtree ends at old_size; the proof is that subtree
    # (left out when it is the whole old tree) followed by its audit path in the new tree.
    level = (old_size & -old_size).bit_length() - 1
    segments: list[tuple[NodeId, ...]] = []
    if old_size != 1 << level:
        segments.append((NodeId(level, (old_size >> level) - 1),))
    segments.extend(_path_segments(old_size - 1, level, new_size))
    return ConsistencyProof(old_size, new_size, _resolve(segments, reader))


# --- checking (RFC 9162 §2.1.3.2 and §2.1.4.2) -----------------------------------------------


def _check_input_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray):
        raise TypeError(f"{what} must be bytes, not {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise ValueError(f"{what} must be a {HASH_SIZE}-byte hash, got {len(value)} bytes")


def _check_proof_hashes(hashes: tuple[bytes, ...], what: str) -> None:
    for i, h in enumerate(hashes):
        if len(h) != HASH_SIZE:
            raise MalformedProofError(
                f"{what} hash #{i} has the wrong size", expected=HASH_SIZE, computed=len(h)
            )


def _inclusion_length(index: int, size: int) -> int:
    """How many hashes the §2.1.3.2 loop consumes for (index, size); index < size."""
    fn, sn, count = index, size - 1, 0
    while sn:
        if (fn & 1) == 0 and fn == sn:
            while (fn & 1) == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        fn >>= 1
        sn >>= 1
        count += 1
    return count


def root_from_inclusion(leaf_hash: bytes, proof: InclusionProof) -> bytes:
    """The root that ``proof`` implies for ``leaf_hash`` (RFC 9162 §2.1.3.2 steps 1 to 4).

    Raises :class:`MalformedProofError` if the proof cannot be valid for any root.
    """
    _check_input_hash(leaf_hash, "leaf hash")
    index, size, path = proof.index, proof.size, proof.hashes
    # 1. leaf_index must be below tree_size.
    if index >= size:
        raise MalformedProofError(
            f"leaf index {index} is outside a tree of size {size}",
            expected=f"index < {size}",
            computed=index,
        )
    want = _inclusion_length(index, size)
    if len(path) != want:
        raise MalformedProofError(
            f"inclusion proof for leaf {index} in a tree of size {size} has the wrong length",
            expected=want,
            computed=len(path),
        )
    _check_proof_hashes(path, "inclusion proof")
    # 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
    fn, sn = index, size - 1
    r = bytes(leaf_hash)
    # 4. For each p in inclusion_path:
    for p in path:
        # a. sn == 0: fail.
        if sn == 0:  # pragma: no cover - ruled out by the length check
            raise MalformedProofError("inclusion proof too long", expected=0, computed=sn)
        # b. LSB(fn) set, or fn == sn:
        if fn & 1 or fn == sn:
            r = _node(p, r)  # i. r = HASH(0x01 || p || r)
            if not fn & 1:  # ii. shift until LSB(fn) is set or fn is 0
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)  # r = HASH(0x01 || r || p)
        # c. shift once.
        fn >>= 1
        sn >>= 1
    # 5. (first half) sn must be 0.
    if sn != 0:  # pragma: no cover - ruled out by the length check
        raise MalformedProofError("inclusion proof too short", expected=0, computed=sn)
    return r


def verify_inclusion(leaf_hash: bytes, proof: InclusionProof, root: bytes) -> None:
    """Check that ``leaf_hash`` is leaf ``proof.index`` of the tree with ``root`` (§2.1.3.2).

    Returns None on success; raises :class:`MalformedProofError` or :class:`RootMismatchError`.
    """
    _check_input_hash(root, "root hash")
    computed = root_from_inclusion(leaf_hash, proof)
    # 5. r must equal root_hash.
    if computed != root:
        raise RootMismatchError(
            f"inclusion proof for leaf {proof.index} in a tree of size {proof.size} "
            "leads to another root",
            expected=bytes(root),
            computed=computed,
        )


def _consistency_length(first: int, second: int) -> int:
    """How many hashes the §2.1.4.2 algorithm consumes for 0 < first < second."""
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    count = 0
    while sn:
        if (fn & 1) == 0 and fn == sn:
            while (fn & 1) == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        fn >>= 1
        sn >>= 1
        count += 1
    power_of_two = first & (first - 1) == 0
    return count if power_of_two else count + 1


def _consistency_roots(old_root: bytes, proof: ConsistencyProof) -> tuple[bytes, bytes]:
    """Steps 1 to 6 of RFC 9162 §2.1.4.2 for 0 < first < second: return (fr, sr)."""
    first, second = proof.old_size, proof.new_size
    want = _consistency_length(first, second)
    # 1. An empty consistency_path fails (want is always >= 1 here).
    if len(proof.hashes) != want:
        raise MalformedProofError(
            f"consistency proof from size {first} to size {second} has the wrong length",
            expected=want,
            computed=len(proof.hashes),
        )
    _check_proof_hashes(proof.hashes, "consistency proof")
    path = list(proof.hashes)
    # 2. If first is an exact power of 2, prepend first_hash.
    if first & (first - 1) == 0:
        path.insert(0, bytes(old_root))
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. If LSB(fn) is set, shift both until it is not.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = first value of the path.
    fr = sr = path[0]
    # 6. For each subsequent value c:
    for c in path[1:]:
        # a. sn == 0: fail.
        if sn == 0:  # pragma: no cover - ruled out by the length check
            raise MalformedProofError("consistency proof too long", expected=0, computed=sn)
        # b. LSB(fn) set, or fn == sn:
        if fn & 1 or fn == sn:
            fr = _node(c, fr)  # i. fr = HASH(0x01 || c || fr)
            sr = _node(c, sr)  # ii. sr = HASH(0x01 || c || sr)
            if not fn & 1:  # iii. shift until LSB(fn) is set or fn is 0
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _node(sr, c)  # sr = HASH(0x01 || sr || c)
        # c. shift once.
        fn >>= 1
        sn >>= 1
    # 7. (first part) sn must be 0.
    if sn != 0:  # pragma: no cover - ruled out by the length check
        raise MalformedProofError("consistency proof too short", expected=0, computed=sn)
    return fr, sr


def _check_consistency_sizes(old_root: bytes, proof: ConsistencyProof) -> bool:
    """Handle the sizes RFC 9162 leaves implicit; True when there is nothing left to compute."""
    first, second = proof.old_size, proof.new_size
    if first > second:
        raise MalformedProofError(
            "a tree cannot shrink", expected=f"new size >= {first}", computed=second
        )
    if first in (0, second):
        if proof.hashes:
            raise MalformedProofError(
                f"consistency proof from size {first} to size {second} must be empty",
                expected=0,
                computed=len(proof.hashes),
            )
        if first == 0 and old_root != EMPTY_ROOT:
            raise RootMismatchError(
                "the root of the empty tree is SHA-256 of nothing",
                expected=EMPTY_ROOT,
                computed=bytes(old_root),
            )
        return True
    return False


def root_from_consistency(old_root: bytes, proof: ConsistencyProof) -> bytes:
    """Check ``proof`` against ``old_root`` and return the new root it implies.

    For a witness that has the old tree head and wants the new root the proof commits to.
    Raises :class:`ProofError` when the proof does not lead back to ``old_root``. With nothing
    to prove (old size 0 or equal sizes) the new root is not determined by the proof: for equal
    sizes it is ``old_root``; for an old size of 0, ValueError.
    """
    _check_input_hash(old_root, "old root hash")
    if _check_consistency_sizes(old_root, proof):
        if proof.old_size == 0 and proof.new_size != 0:
            raise ValueError("a consistency proof from the empty tree does not fix the new root")
        return bytes(old_root)
    fr, sr = _consistency_roots(old_root, proof)
    if fr != old_root:
        raise RootMismatchError(
            f"consistency proof from size {proof.old_size} to size {proof.new_size} "
            "does not lead back to the old root",
            expected=bytes(old_root),
            computed=fr,
        )
    return sr


def verify_consistency(old_root: bytes, new_root: bytes, proof: ConsistencyProof) -> None:
    """Check that the tree (new_size, new_root) extends (old_size, old_root) (§2.1.4.2).

    RFC 9162 defines proofs for 0 < old_size < new_size. The remaining sizes have nothing to
    prove and take an empty proof: old_size == new_size requires equal roots, and old_size == 0
    requires old_root to be the empty-tree root. Returns None on success; raises
    :class:`MalformedProofError` or :class:`RootMismatchError`.
    """
    _check_input_hash(old_root, "old root hash")
    _check_input_hash(new_root, "new root hash")
    if _check_consistency_sizes(old_root, proof):
        if proof.old_size == proof.new_size and old_root != new_root:
            raise RootMismatchError(
                f"two tree heads of the same size {proof.old_size} differ",
                expected=bytes(old_root),
                computed=bytes(new_root),
            )
        return
    fr, sr = _consistency_roots(old_root, proof)
    # 7. fr must equal first_hash and sr must equal second_hash.
    if fr != old_root:
        raise RootMismatchError(
            f"consistency proof from size {proof.old_size} to size {proof.new_size} "
            "leads to another old root",
            expected=bytes(old_root),
            computed=fr,
        )
    if sr != new_root:
        raise RootMismatchError(
            f"consistency proof from size {proof.old_size} to size {proof.new_size} "
            "leads to another new root",
            expected=bytes(new_root),
            computed=sr,
        )
