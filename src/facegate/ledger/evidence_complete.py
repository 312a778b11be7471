"""Part of the offline verifier: is the bundle *every* event about its person or deployment?

Standard library only, and no code shared with the operator's side (an expert can check it
against docs/evidence.md). The log's signed checkpoint carries an extension line
``facegate/index/v1 <base64 root>``: the root of an index that maps each subject pseudonym and
each deployment id to the number of log entries naming it and a hash chain over them. The bundle
carries the key's bucket of that index and the sibling hashes up to the root. From these the
verifier learns the count N and the chain, recomputes the chain over the bundle's own entries
naming the key, and so knows that the bundle holds all N of them, in log order, up to the
checkpoint's size, or fails.

Hashes (see :mod:`facegate.ledger.index_hasher` for the operator's side):

* key     = SHA-256(0x10 || 0x01 "subject" or 0x02 "deployment" || UTF-8 value)
* chain   = 32 zero bytes, then SHA-256(0x11 || chain || uint64be(index) || leaf hash) per entry
* bucket  = 72-byte records (key, uint64be count, chain), sorted by key, SHA-256(0x12 || records)
* node    = SHA-256(0x13 || left || right), 16 levels; a key's bucket is its first 16 bits
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from facegate.ledger.evidence_findings import BundleInvalid

INDEX_LINE = "facegate/index/v1"
DEPTH = 16
_KINDS = {"subject": 1, "deployment": 2}
_RECORD = 72
_HEX32 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Completeness:
    """What the bundle shows about the completeness of its events."""

    kind: str  # "subject" or "deployment"
    value: str
    proven: bool
    count: int = 0
    size: int = 0
    index_root_hex: str = ""
    why: str = ""  # when not proven


def index_root_of(extensions: Sequence[str]) -> bytes | None:
    """The index root a checkpoint's extension lines commit to (None: no index line)."""
    found = [
        line[len(INDEX_LINE) + 1 :] for line in extensions if line.startswith(INDEX_LINE + " ")
    ]
    if not found:
        return None
    if len(found) > 1:
        raise BundleInvalid("the checkpoint carries two index lines")
    try:
        root = base64.b64decode(found[0].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BundleInvalid("the checkpoint's index root is not base64") from None
    if len(root) != 32 or base64.b64encode(root).decode() != found[0]:
        raise BundleInvalid("the checkpoint's index root is not a canonical 32-byte hash")
    return root


def key_hash(kind: str, value: str) -> bytes:
    return hashlib.sha256(b"\x10" + bytes([_KINDS[kind]]) + value.encode("utf-8")).digest()


def _bucket_of(key: bytes) -> int:
    return int.from_bytes(key[:2], "big")


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x13" + left + right).digest()


def claimed_history(
    key: bytes, records: bytes, path: Sequence[bytes], root: bytes
) -> tuple[int, bytes]:
    """Check the bucket and its path against the index root; return (count, chain) of ``key``
    in it ((0, zeros) if absent). Raises :class:`BundleInvalid`."""
    if len(records) % _RECORD or len(path) != DEPTH or any(len(h) != 32 for h in path):
        raise BundleInvalid("the completeness proof is malformed (bucket or path sizes)")
    found, last = (0, bytes(32)), b""
    for pos in range(0, len(records), _RECORD):
        k = records[pos : pos + 32]
        count = int.from_bytes(records[pos + 32 : pos + 40], "big")
        if k <= last or count == 0 or _bucket_of(k) != _bucket_of(key):
            raise BundleInvalid("the completeness proof's bucket is not a well-formed bucket")
        last = k
        if k == key:
            found = (count, records[pos + 40 : pos + 72])
    node, position = hashlib.sha256(b"\x12" + records).digest(), _bucket_of(key)
    for sibling in path:
        node = _node(sibling, node) if position & 1 else _node(node, sibling)
        position >>= 1
    if node != root:
        raise BundleInvalid(
            "the completeness proof does not lead to the index root the checkpoint signed "
            f"(computed {node.hex()}, signed {root.hex()}): the proof is stale or altered"
        )
    return found


def chain_of(entries: Sequence[tuple[int, bytes]]) -> bytes:
    """The hash chain over (index, leaf hash) pairs, in the order given."""
    chain = bytes(32)
    for index, leaf_hash in entries:
        chain = hashlib.sha256(b"\x11" + chain + index.to_bytes(8, "big") + leaf_hash).digest()
    return chain


def scope_key(scope: object) -> tuple[str, str]:
    """The bundle's scope: exactly one of a subject pseudonym or a deployment id."""
    named = [
        (kind, value)
        for kind in ("subject", "deployment")
        if isinstance(scope, Mapping) and (value := scope.get(kind)) is not None
    ]
    if len(named) != 1 or not isinstance(named[0][1], str) or not named[0][1]:
        raise BundleInvalid("the bundle's scope must name one person or one deployment")
    return named[0][0], str(named[0][1])


def _proof_parts(proof: object, kind: str, value: str, size: int) -> tuple[bytes, list[bytes]]:
    if not isinstance(proof, Mapping) or proof.get("key") != {kind: value}:
        raise BundleInvalid(f"the completeness proof is not for the bundle's {kind} {value}")
    if proof.get("size") != size:
        raise BundleInvalid(
            f"the completeness proof is for size {proof.get('size')}, the checkpoint for size "
            f"{size}: a stale index proves nothing about the events since"
        )
    try:
        records = base64.b64decode(str(proof.get("records")).encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BundleInvalid("the completeness proof's bucket is not base64") from None
    hashes = proof.get("path")
    if not isinstance(hashes, list) or not all(
        isinstance(h, str) and _HEX32.fullmatch(h) for h in hashes
    ):
        raise BundleInvalid("the completeness proof's path is not a list of hex hashes")
    return records, [bytes.fromhex(h) for h in hashes]


def check_completeness(
    data: Mapping[str, Any],
    about: Sequence[tuple[int, bytes, str | None, str | None]],
    *,
    size: int,
    index_root: bytes | None,
) -> Completeness:
    """Check the bundle's completeness proof. ``about`` holds each proven entry as (index,
    leaf hash, its subject, its deployment), in log order. Raises :class:`BundleInvalid` on
    any omission, addition, reordering or stale proof."""
    kind, value = scope_key(data.get("scope"))
    proof = data.get("completeness")
    if index_root is None:
        if proof is not None:
            raise BundleInvalid("the bundle proves completeness, but its checkpoint has no index")
        return Completeness(kind, value, proven=False, why="the checkpoint commits to no index")
    if proof is None:
        raise BundleInvalid(
            "the checkpoint commits to an index, but the bundle carries no completeness proof: "
            "events may have been left out"
        )
    records, path = _proof_parts(proof, kind, value, size)
    count, chain = claimed_history(key_hash(kind, value), records, path, index_root)
    mine = [
        (i, h) for i, h, subject, dep in about if (subject if kind == "subject" else dep) == value
    ]
    if len(mine) != count or chain_of(mine) != chain:
        raise BundleInvalid(
            f"the log holds {count} events about this {kind} up to size {size}, and the bundle "
            f"shows {len(mine)}"
            + ("" if len(mine) != count else " that are not those events")
            + ": one is missing, added or out of order"
        )
    return Completeness(kind, value, True, count, size, index_root.hex())
