"""The wire formats both parties speak: pure functions, no I/O, no database.

* c2sp.org/tlog-witness ``add-checkpoint``: the request body is ``old <N>``, up to 63
  base64 consistency-proof lines, an empty line, then the signed checkpoint note; a conflict
  answer is the witness's size and a newline, ``Content-Type: text/x.tlog.size``; a success
  is one or more cosignature lines.
* Link requests (operator to regulator, beyond the witness protocol) carry an Ed25519
  signature by the operator's *ledger* key over a domain-separated message naming the
  origin, method, path, time and body hash, so the regulator needs no password: the key it
  registered is the credential.
* Orders and receipts are C2SP signed notes by the regulator's *authority* key: a header
  line naming the document type, then one line of canonical JSON.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from facegate._internal.canonical import canonical_json
from facegate.errors import InvalidInput, Unauthenticated
from facegate.ledger.checkpoint import (
    CheckpointError,
    SignedNote,
    Signer,
    Verifier,
    parse_signed_note,
)

__all__ = [
    "AUTH_HEADER",
    "MAX_PROOF_LINES",
    "ORDER_HEADER",
    "ORIGIN_HEADER",
    "RECEIPT_HEADER",
    "SIZE_CONTENT_TYPE",
    "AddCheckpoint",
    "link_message",
    "open_document",
    "parse_add_checkpoint",
    "parse_size",
    "registration_message",
    "render_add_checkpoint",
    "sign_document",
    "sign_link",
    "verify_link",
]

MAX_PROOF_LINES: Final = 63
SIZE_CONTENT_TYPE: Final = "text/x.tlog.size"
AUTH_HEADER: Final = "X-Facegate-Link"
ORIGIN_HEADER: Final = "X-Facegate-Origin"
ORDER_HEADER: Final = "facegate.regulator/order/v1"
RECEIPT_HEADER: Final = "facegate.regulator/receipt/v1"
#: link signatures older or newer than this are refused (replay window)
LINK_SKEW_SECONDS: Final = 300
MAX_BODY: Final = 1 << 20

_DECIMAL = re.compile(r"0|[1-9][0-9]{0,19}", re.ASCII)
_LINK_PREFIX: Final = b"facegate-link/v1\n"
_REGISTRATION_PREFIX: Final = b"facegate-registration/v1\n"


# --- tlog-witness add-checkpoint -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """One ``add-checkpoint`` request: the size the client believes the witness holds, the
    consistency proof from it, and the signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


def _size(text: str, what: str) -> int:
    if not _DECIMAL.fullmatch(text) or int(text) > 2**64 - 1:
        raise InvalidInput(f"{what} is not a decimal tree size without leading zeros: {text!r}")
    return int(text)


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Parse a request body strictly; :class:`InvalidInput` (HTTP 400) if malformed."""
    if len(body) > MAX_BODY:
        raise InvalidInput("the add-checkpoint body is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput("the add-checkpoint body is not UTF-8") from None
    split = text.find("\n\n")
    if split < 0:
        raise InvalidInput("the add-checkpoint body has no empty line before the checkpoint")
    head, note = text[: split + 1].split("\n")[:-1], text[split + 2 :]
    if not head or not head[0].startswith("old "):
        raise InvalidInput("the add-checkpoint body must start with 'old <size>'")
    old = _size(head[0][4:], "the old size")
    lines = head[1:]
    if len(lines) > MAX_PROOF_LINES:
        raise InvalidInput(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof: list[bytes] = []
    for number, line in enumerate(lines, start=1):
        try:
            raw = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, UnicodeEncodeError):
            raise InvalidInput(f"consistency proof line {number} is not base64") from None
        if len(raw) != 32 or base64.b64encode(raw).decode() != line:
            raise InvalidInput(f"consistency proof line {number} is not one canonical hash")
        proof.append(raw)
    if old == 0 and proof:
        raise InvalidInput("the consistency proof must be empty when the old size is 0")
    try:
        parse_signed_note(note)
    except CheckpointError as err:
        raise InvalidInput(f"the checkpoint is not a signed note: {err.message}") from None
    return AddCheckpoint(old, tuple(proof), note)


def render_add_checkpoint(
    old_size: int, proof: tuple[bytes, ...] | list[bytes], note: str
) -> bytes:
    """The request body for ``POST <witness>/add-checkpoint``."""
    lines = [f"old {old_size}", *(base64.b64encode(h).decode() for h in proof)]
    return ("".join(line + "\n" for line in lines) + "\n" + note).encode("utf-8")


def parse_size(text: str) -> int:
    """A ``text/x.tlog.size`` body: a decimal size and a newline."""
    if not text.endswith("\n"):
        raise InvalidInput("a tlog size body ends with a newline")
    return _size(text[:-1], "the witness's size")


# --- link requests ---------------------------------------------------------------------------


def link_message(origin: str, method: str, path: str, timestamp: int, body: bytes) -> bytes:
    """What a link signature covers; the prefix keeps it from ever being a note signature."""
    digest = hashlib.sha256(body).hexdigest()
    return _LINK_PREFIX + f"{origin}\n{method.upper()} {path}\n{timestamp}\n{digest}\n".encode()


def sign_link(
    key: Ed25519PrivateKey, origin: str, method: str, path: str, *, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers that authenticate one request as coming from the log ``origin``."""
    sig = key.sign(link_message(origin, method, path, timestamp, body))
    return {ORIGIN_HEADER: origin, AUTH_HEADER: f"{timestamp} {base64.b64encode(sig).decode()}"}


def verify_link(
    vkey: str, header: str | None, method: str, path: str, body: bytes, *, now: int
) -> None:
    """Check a link signature against the registered note key; :class:`Unauthenticated`."""
    if not header:
        raise Unauthenticated(
            f"no {AUTH_HEADER} header", advice="Link requests are signed with the ledger key."
        )
    verifier = Verifier.from_key(vkey)
    try:
        stamp_text, sig_text = header.split(" ")
        stamp = int(stamp_text)
        sig = base64.b64decode(sig_text, validate=True)
    except (ValueError, binascii.Error):
        raise Unauthenticated(f"the {AUTH_HEADER} header is malformed") from None
    if abs(now - stamp) > LINK_SKEW_SECONDS:
        raise Unauthenticated(
            "the link signature is too old or from the future",
            advice=f"Clocks must agree within {LINK_SKEW_SECONDS} seconds.",
        )
    public = Ed25519PublicKey.from_public_bytes(verifier.public_key)
    try:
        public.verify(sig, link_message(verifier.name, method, path, stamp, body))
    except InvalidSignature:
        raise Unauthenticated("the link signature does not verify") from None


def registration_message(document: dict[str, Any]) -> bytes:
    return _REGISTRATION_PREFIX + canonical_json(document)


# --- orders and receipts ---------------------------------------------------------------------


def sign_document(header: str, document: dict[str, Any], signer: Signer) -> str:
    """``document`` as a signed note: the header line, then its canonical JSON."""
    text = f"{header}\n{canonical_json(document).decode()}\n"
    return SignedNote(text, (signer.sign(text),)).render()


def open_document(note: str, header: str, authority_key: str) -> dict[str, Any]:
    """The JSON of a signed order or receipt after checking the authority's signature;
    :class:`InvalidInput` for anything else (wrong type, other key, altered text)."""
    try:
        parsed = parse_signed_note(note)
        verifier = Verifier.from_key(authority_key)
    except (CheckpointError, ValueError) as err:
        raise InvalidInput(f"not a signed regulator document: {err}") from None
    if not any(verifier.verify(parsed.text, sig) for sig in parsed.signatures):
        raise InvalidInput(
            "the document does not carry a valid signature of the regulator's authority key",
            advice="Check that the regulator key pinned at 'facegate link register' is right.",
        )
    first, _, rest = parsed.text.partition("\n")
    if first != header or rest.count("\n") != 1:
        raise InvalidInput(f"not a {header} document")
    try:
        doc = json.loads(rest)
    except ValueError:
        raise InvalidInput("the signed document is not JSON") from None
    if not isinstance(doc, dict):
        raise InvalidInput("the signed document is not a JSON object")
    return doc
