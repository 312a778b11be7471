"""Completeness proofs from the verifiable index: building, and checking.

An :class:`IndexProof` says, for one key and one log size: "this is the bucket the key falls
in, and these are the sibling hashes up to the index root". The bucket lists the key with its
history (count and chain) or shows it absent, so a checker that knows the index root committed
in the signed checkpoint of that size learns how many entries name the key and the chain over
them; recomputing the chain from the entries it was handed (:func:`verify_history`) shows that
none is missing, added or out of order.

Building (:func:`index_proof`) reads a :class:`~facegate.ledger.index_tree.TopTree` and the
bucket's records. Checking (:func:`root_from_index_proof`, :func:`verify_index_proof`,
:func:`verify_history`) is pure and shares no code with building; failures raise a
:class:`~facegate.ledger.proofs.ProofError` subclass carrying expected and computed values;
success returns None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facegate.ledger.hasher import HASH_SIZE
from facegate.ledger.index_hasher import (
    DEPTH,
    History,
    bucket_hash,
    bucket_of,
    chain_next,
    decode_records,
    node_hash,
)
from facegate.ledger.index_tree import TopTree
from facegate.ledger.proofs import MalformedProofError, ProofError, RootMismatchError

__all__ = [
    "HistoryMismatchError",
    "IndexProof",
    "history_in",
    "index_proof",
    "root_from_index_proof",
    "verify_history",
    "verify_index_proof",
]


class HistoryMismatchError(ProofError):
    """The entries handed over are not the history the index commits to: one is missing,
    added, or out of order."""

    code = "ledger_history_mismatch"
    default_advice = (
        "The entries shown are not every entry the log holds about this key, in log order.\n"
        "Ask for the complete set; an operator that withholds one is caught by this check."
    )


@dataclass(frozen=True, slots=True)
class IndexProof:
    """The bucket of ``key`` in the index of the log's first ``size`` entries, and its path.

    ``records`` is the bucket exactly as hashed (72-byte records sorted by key hash);
    ``path`` holds DEPTH sibling hashes, bucket end first.
    """

    key: bytes
    size: int
    records: bytes
    path: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.key, bytes) or len(self.key) != HASH_SIZE:
            raise ValueError(f"an index key is a {HASH_SIZE}-byte hash")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 0:
            raise ValueError("a log size is a non-negative int")
        if not isinstance(self.records, bytes):
            raise TypeError("bucket records must be bytes")
        object.__setattr__(self, "path", tuple(bytes(h) for h in self.path))


def index_proof(key: bytes, records: bytes, tree: TopTree) -> IndexProof:
    """The proof for ``key`` from a tree and the records of the key's bucket in it."""
    bucket = bucket_of(key)
    computed = bucket_hash(records)
    if computed != tree.bucket_hash(bucket):
        raise RootMismatchError(
            f"the records of bucket {bucket} are not the ones the index tree holds",
            expected=tree.bucket_hash(bucket),
            computed=computed,
        )
    return IndexProof(key, tree.size, records, tree.path(bucket))


# --- checking --------------------------------------------------------------------------------


def _parsed(proof: IndexProof) -> list[tuple[bytes, History]]:
    try:
        records = decode_records(proof.records)
    except ValueError as err:
        raise MalformedProofError(
            f"the bucket in the proof is malformed: {err}",
            expected="sorted records",
            computed=f"{len(proof.records)} bytes",
        ) from None
    prefix = bucket_of(proof.key)
    for key, _ in records:
        if bucket_of(key) != prefix:
            raise MalformedProofError(
                f"key {key.hex()} does not belong in bucket {prefix}",
                expected=prefix,
                computed=bucket_of(key),
            )
    return records


def history_in(proof: IndexProof) -> History:
    """The history the proof claims for its key (count 0: the key is absent)."""
    for key, hist in _parsed(proof):
        if key == proof.key:
            return hist
    return History()


def root_from_index_proof(proof: IndexProof) -> bytes:
    """The index root the proof leads to. Raises :class:`MalformedProofError`."""
    _parsed(proof)
    if len(proof.path) != DEPTH:
        raise MalformedProofError(
            "an index proof has one sibling per level", expected=DEPTH, computed=len(proof.path)
        )
    for i, h in enumerate(proof.path):
        if len(h) != HASH_SIZE:
            raise MalformedProofError(
                f"index proof hash #{i} has the wrong size", expected=HASH_SIZE, computed=len(h)
            )
    node, position = bucket_hash(proof.records), bucket_of(proof.key)
    for sibling in proof.path:
        node = node_hash(sibling, node) if position & 1 else node_hash(node, sibling)
        position >>= 1
    return node


def verify_index_proof(proof: IndexProof, root: bytes) -> None:
    """Check that ``proof`` leads to ``root`` (the index root signed at ``proof.size``)."""
    computed = root_from_index_proof(proof)
    if computed != root:
        raise RootMismatchError(
            f"the index proof for size {proof.size} leads to another root",
            expected=bytes(root),
            computed=computed,
        )


def verify_history(proof: IndexProof, entries: Sequence[tuple[int, bytes]]) -> None:
    """Check that ``entries`` ((index, leaf hash), in the order given) are exactly the history
    the proof claims: the same number, below the proof's size, in log order, the same chain."""
    claimed = history_in(proof)
    chain, count, last = bytes(HASH_SIZE), 0, -1
    for index, leaf_hash in entries:
        if not last < index < proof.size:
            raise HistoryMismatchError(
                f"entry {index} is out of order or beyond size {proof.size}",
                expected=f"{last} < index < {proof.size}",
                computed=index,
            )
        chain, count, last = chain_next(chain, index, leaf_hash), count + 1, index
    if count != claimed.count:
        raise HistoryMismatchError(
            f"the index counts {claimed.count} entries for this key up to size {proof.size}, "
            f"{count} were handed over",
            expected=claimed.count,
            computed=count,
        )
    if chain != claimed.chain:
        raise HistoryMismatchError(
            f"the {count} entries handed over are not the ones the index chains for this key",
            expected=claimed.chain,
            computed=chain,
        )
