"""Offline verification of a facegate evidence bundle, for a court that trusts nobody.

Self-contained on purpose: the standard library, ``cryptography`` for Ed25519, and
:mod:`.evidence_findings`, :mod:`.evidence_complete`, :mod:`.evidence_facts` and
:mod:`.evidence_verdict` (stdlib only). It shares no code with the operator's side, so an
expert can check it against the public specifications it follows:

* RFC 9162 §2.1: leaf hash SHA-256(0x00 || entry), node hash SHA-256(0x01 || left || right),
  and the inclusion-proof check of §2.1.3.2, written out below in a dozen lines;
* c2sp.org/signed-note and c2sp.org/tlog-checkpoint: the tree head the operator signed;
* c2sp.org/tlog-cosignature (cosignature/v1): witnesses vouching for that head;
* consent receipts: Ed25519 over canonical JSON (sorted keys, no spaces, UTF-8);
* facegate's verifiable index (docs/evidence.md): the checkpoint commits to an index root, and
  the bundle's completeness proof shows how many entries name its person or deployment.

Success means: every event in the bundle is, byte for byte, entry ``index`` of the log whose
head carries the operator's signature (and any listed witness's cosignature); the events about
the bundle's person or deployment are *all* those the log holds up to the head's size, in log
order; every notice, document, purpose and receipt matches what those events committed to;
every other value the bundle shows is listed as not authenticated. The index root is the
operator's statement until a witness that rebuilds the index from the log cosigns the head.

    verdict = verify_bundle(Path("bundle.json").read_bytes(), log_key="origin+1a2b3c4d+AQ...")
    print(verdict.summary())

:func:`verify_bundle` raises :class:`BundleInvalid` naming the first check that fails.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from facegate.ledger.evidence_complete import check_completeness, index_root_of
from facegate.ledger.evidence_facts import read_facts
from facegate.ledger.evidence_findings import (
    FORMATS,
    BundleInvalid,
    Cosigned,
    ProvenEvent,
    canonical_json,
    read_events,
)
from facegate.ledger.evidence_verdict import Verdict

__all__ = ["BundleInvalid", "Verdict", "root_from_inclusion", "verify_bundle"]

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_HEX32 = re.compile(r"[0-9a-f]{64}")
_ED25519, _COSIGNATURE_V1 = 0x01, 0x04


# --- encodings -------------------------------------------------------------------------------


def _b64(text: object, what: str) -> bytes:
    if not isinstance(text, str):
        raise BundleInvalid(f"{what} is not a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BundleInvalid(f"{what} is not valid base64") from None
    if base64.b64encode(raw).decode() != text:
        raise BundleInvalid(f"{what} is not canonical base64")
    return raw


def _hash_hex(text: object, what: str) -> bytes:
    if not isinstance(text, str) or not _HEX32.fullmatch(text):
        raise BundleInvalid(f"{what} is not a 32-byte hash in lowercase hex")
    return bytes.fromhex(text)


def _field(obj: object, name: str, kind: type, what: str) -> Any:
    if not isinstance(obj, Mapping) or not isinstance(obj.get(name), kind):
        raise BundleInvalid(f"{what} has no {kind.__name__} field {name!r}")
    return obj[name]


# --- RFC 9162 --------------------------------------------------------------------------------


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_inclusion(leaf: bytes, index: int, size: int, path: Sequence[bytes]) -> bytes:
    """The root implied by an audit path: RFC 9162 §2.1.3.2, step by step."""
    if not 0 <= index < size:
        raise BundleInvalid(f"leaf index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise BundleInvalid(f"the proof of entry {index} has too many hashes")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise BundleInvalid(f"the proof of entry {index} has too few hashes")
    return r


# --- keys, signed notes, checkpoints ---------------------------------------------------------


@dataclass(frozen=True)
class _Key:
    name: str
    key_id: bytes
    public: Ed25519PublicKey
    raw: bytes
    text: str


def _parse_key(text: object, algorithm: int, what: str) -> _Key:
    """``<name>+<8 hex key ID>+<base64(type || 32-byte key)>`` (c2sp.org/signed-note)."""
    parts = text.split("+", 2) if isinstance(text, str) else []
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]) or not parts[0]:
        raise BundleInvalid(f"{what} is not a key of the form <name>+<hex id>+<base64>")
    name, key_id, blob = parts[0], bytes.fromhex(parts[1]), _b64(parts[2], what)
    if len(blob) != 33 or blob[0] != algorithm:
        raise BundleInvalid(f"{what} is not a type 0x{algorithm:02x} Ed25519 key")
    digest = hashlib.sha256(name.encode() + b"\n" + blob).digest()[:4]
    if digest != key_id:
        raise BundleInvalid(f"{what}: its key ID {key_id.hex()} does not match the key")
    return _Key(name, key_id, Ed25519PublicKey.from_public_bytes(blob[1:]), blob[1:], str(text))


def _ed25519_ok(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def _split_note(note: str) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """A signed note's text and its signature lines as (key name, key ID, signature)."""
    if not note.endswith("\n") or "\n\n" not in note:
        raise BundleInvalid("the checkpoint is not a signed note (text, blank line, signatures)")
    cut = note.rindex("\n\n")
    text, lines = note[: cut + 1], note[cut + 2 : -1].split("\n")
    sigs: list[tuple[str, bytes, bytes]] = []
    for line in lines:
        fields = line.split(" ")
        if len(fields) != 3 or fields[0] != "\u2014":
            raise BundleInvalid(f"bad signature line in the checkpoint: {line!r}")
        raw = _b64(fields[2], f"the signature of {fields[1]}")
        if len(raw) < 5:
            raise BundleInvalid(f"the signature of {fields[1]} is too short")
        sigs.append((fields[1], raw[:4], raw[4:]))
    return text, sigs


def _checkpoint(text: str) -> tuple[str, int, bytes, list[str]]:
    """Origin, tree size, root hash and extension lines of a checkpoint text
    (c2sp.org/tlog-checkpoint)."""
    lines = text[:-1].split("\n")
    if len(lines) < 3 or not all(lines) or not _DECIMAL.fullmatch(lines[1]):
        raise BundleInvalid("the checkpoint text is not origin, size and root hash lines")
    root = _b64(lines[2], "the checkpoint root hash")
    if len(root) != 32:
        raise BundleInvalid("the checkpoint root hash is not 32 bytes")
    return lines[0], int(lines[1]), root, lines[3:]


def _check_log_signature(text: str, sigs: list[tuple[str, bytes, bytes]], key: _Key) -> None:
    mine = [sig for name, kid, sig in sigs if (name, kid) == (key.name, key.key_id)]
    if not mine:
        raise BundleInvalid(f"the checkpoint carries no signature by the log key {key.name}")
    for sig in mine:
        if not _ed25519_ok(key.public, sig, text.encode()):
            raise BundleInvalid("the log's signature on the checkpoint does not verify")


def _cosignatures(
    text: str, sigs: list[tuple[str, bytes, bytes]], keys: Sequence[_Key], trusted: set[str]
) -> list[Cosigned]:
    """Each listed witness's cosignature/v1 on the checkpoint; a broken one is fatal."""
    found: list[Cosigned] = []
    for key in keys:
        for name, kid, raw in sigs:
            if (name, kid) != (key.name, key.key_id):
                continue
            stamp = int.from_bytes(raw[:8], "big")
            message = f"cosignature/v1\ntime {stamp}\n{text}".encode()
            if len(raw) != 72 or not _ed25519_ok(key.public, raw[8:], message):
                raise BundleInvalid(f"the cosignature of witness {key.name} does not verify")
            found.append(Cosigned(key.name, key.text, stamp, key.text in trusted))
    return found


def _witnessed(
    text: str, sigs: list[tuple[str, bytes, bytes]], claimed: list[str], trusted: Sequence[str]
) -> list[Cosigned]:
    """Cosignatures of the witnesses the bundle names (each must be there) and of those the
    court trusts (reported, trusted or not)."""
    keys = [_parse_key(k, _COSIGNATURE_V1, "a witness key") for k in claimed]
    keys += [
        _parse_key(k, _COSIGNATURE_V1, "a trusted witness key") for k in trusted if k not in claimed
    ]
    cosigned = _cosignatures(text, sigs, keys, set(trusted))
    missing = {k.name for k in keys if k.text in claimed} - {c.name for c in cosigned}
    if missing:
        raise BundleInvalid(
            f"the bundle says witness {', '.join(sorted(missing))} cosigned the checkpoint, "
            "but the checkpoint carries no cosignature from it"
        )
    return cosigned


# --- the bundle ------------------------------------------------------------------------------


def _load(bundle: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(bundle, Mapping):
        return bundle
    try:
        data = json.loads(bundle)
    except (ValueError, UnicodeDecodeError) as err:
        raise BundleInvalid(f"the bundle is not JSON: {err}") from None
    if not isinstance(data, dict):
        raise BundleInvalid("the bundle is not a JSON object")
    return data


def _entries(data: Mapping[str, Any], size: int, root: bytes) -> list[tuple[int, bytes]]:
    """Check every entry's inclusion proof against the signed root; return (index, leaf)."""
    out: list[tuple[int, bytes]] = []
    last = -1
    for n, item in enumerate(_field(data, "entries", list, "the bundle")):
        index = _field(item, "index", int, f"entry #{n}")
        if index <= last:
            raise BundleInvalid(f"entry #{n} (index {index}) is out of order or repeated")
        last = index
        leaf = _b64(_field(item, "leaf", str, f"entry {index}"), f"entry {index}'s leaf")
        path = [
            _hash_hex(h, f"hash #{k} of entry {index}'s proof")
            for k, h in enumerate(_field(item, "proof", list, f"entry {index}"))
        ]
        computed = root_from_inclusion(leaf_hash(leaf), index, size, path)
        if computed != root:
            raise BundleInvalid(
                f"entry {index} is not in the signed log: its proof leads to root "
                f"{computed.hex()}, the checkpoint says {root.hex()}"
            )
        out.append((index, leaf))
    return out


def _receipts(data: Mapping[str, Any], key: _Key) -> list[Mapping[str, Any]]:
    """Signed consent receipts; each must carry the operator's key and a valid signature."""
    bodies: list[Mapping[str, Any]] = []
    for n, doc in enumerate(data.get("receipts") or []):
        body = _field(doc, "receipt", dict, f"receipt #{n}")
        signature = _b64(_field(doc, "signature", str, f"receipt #{n}"), f"receipt #{n} signature")
        if _b64(body.get("publicKey"), f"receipt #{n} publicKey") != key.raw:
            raise BundleInvalid(f"receipt #{n} was not signed with the log operator's key")
        if not _ed25519_ok(key.public, signature, canonical_json(body)):
            raise BundleInvalid(f"the signature of receipt #{n} does not verify")
        bodies.append(body)
    return bodies


def verify_bundle(
    bundle: bytes | str | Mapping[str, Any],
    *,
    log_key: str | None = None,
    witness_keys: Sequence[str] = (),
) -> Verdict:
    """Check a bundle completely, offline; return what it proves or raise :class:`BundleInvalid`.

    ``log_key`` is the operator's checkpoint verifier key as the court obtained it (from the
    regulator's filing, a witness, a publication). Without it the key inside the bundle is
    used and the verdict says so. ``witness_keys`` are witnesses the court trusts.
    """
    data = _load(bundle)
    if data.get("format") not in FORMATS:
        raise BundleInvalid(f"not a facegate evidence bundle (format {data.get('format')!r})")
    log = _field(data, "log", dict, "the bundle")
    key = _parse_key(_field(log, "verifier_key", str, "the log"), _ED25519, "the log key")
    given = key if log_key is None else _parse_key(log_key, _ED25519, "the given log key")
    if (given.name, given.raw) != (key.name, key.raw):
        raise BundleInvalid(
            "the bundle's log key is not the key you trust",
            advice=f"The bundle was signed with {key.text}; obtain the operator's key again.",
        )
    note = _field(log, "checkpoint", str, "the log")
    text, sigs = _split_note(note)
    _check_log_signature(text, sigs, key)
    origin, size, root, extensions = _checkpoint(text)
    if origin != key.name or log.get("origin", origin) != origin:
        raise BundleInvalid(f"the checkpoint is for log {origin!r}, not {key.name!r}")
    cosigned = _witnessed(text, sigs, list(log.get("witnesses") or []), witness_keys)
    leaves = _entries(data, size, root)
    events: list[ProvenEvent] = read_events(leaves)
    about = [
        (e.index, leaf_hash(leaf), e.subject, e.deployment)
        for e, (_, leaf) in zip(events, leaves, strict=True)
    ]
    complete = check_completeness(data, about, size=size, index_root=index_root_of(extensions))
    return Verdict.build(
        data,
        origin=origin,
        size=size,
        root=root,
        log_key=key.text,
        log_key_trusted=log_key is not None,
        cosigned=cosigned,
        witnesses_trusted=bool(witness_keys),
        events=events,
        receipts=_receipts(data, key),
        completeness=complete,
        facts=read_facts(data, events),
    )
