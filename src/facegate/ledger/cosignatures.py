"""Witnesses the operator accepts, and the cosignatures it receives from them.

A witness (typically the regulator) checks that each new checkpoint extends the last one it
saw and cosigns it (c2sp.org/tlog-cosignature). The operator keeps those cosignature lines
next to its own signed heads, so that an evidence bundle can carry a checkpoint that someone
other than the operator vouches for. Only witnesses the operator registered are accepted;
anything else is refused, so the table cannot be filled by strangers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.errors import Conflict, Forbidden, InvalidInput
from facegate.ledger.checkpoint import (
    Checkpoint,
    CheckpointError,
    CosignatureVerifier,
    parse_signed_note,
)
from facegate.ledger.records import SignedHead, head_at
from facegate.storage import tables as t

__all__ = ["Accepted", "accept_cosigned", "add_witness", "cosigned_note", "witness_keys"]


@dataclass(frozen=True, slots=True)
class Accepted:
    """Which registered witnesses' cosignatures on the head of ``size`` were stored."""

    size: int
    witnesses: tuple[str, ...]
    timestamps: tuple[int, ...]


def _verifier(key: str) -> CosignatureVerifier:
    try:
        return CosignatureVerifier.from_key(key.strip())
    except ValueError as err:
        raise InvalidInput(
            f"not a witness verifier key: {err}",
            advice="A witness key looks like <name>+<8 hex digits>+<base64>, as printed by\n"
            "'facegate witness init' (signature type 0x04, cosignature/v1).",
        ) from None


def add_witness(s: Session, key: str, *, now: datetime) -> str:
    """Register a witness by its verifier key; return its name. Registering twice is a no-op."""
    verifier = _verifier(key)
    canonical = verifier.verifier_key()
    if s.get(t.LedgerWitness, canonical) is None:
        s.add(t.LedgerWitness(key=canonical, name=verifier.name, added_at=now))
    return verifier.name


def witness_keys(s: Session) -> list[str]:
    return list(s.scalars(select(t.LedgerWitness.key).order_by(t.LedgerWitness.added_at)))


def accept_cosigned(s: Session, note: str, *, now: datetime) -> Accepted:
    """Store the registered witnesses' valid cosignatures found on ``note``.

    The note's text must be exactly the checkpoint this log signed at that size; a witness
    returning anything else saw another log, which is refused as a conflict.
    """
    try:
        parsed = parse_signed_note(note)
        checkpoint = Checkpoint.from_body(parsed.text)
    except CheckpointError as err:
        raise InvalidInput(f"the cosigned checkpoint is malformed: {err.message}") from None
    head: SignedHead = head_at(s, checkpoint.size)
    if parse_signed_note(head.note).text != parsed.text:
        raise Conflict(
            f"the cosigned checkpoint is not the one this log signed at size {checkpoint.size}",
            advice="The witness was shown a different tree head: keep both notes and compare\n"
            "them; two signed heads of one size with different roots prove a fork.",
        )
    known = [_verifier(k) for k in witness_keys(s)]
    names: list[str] = []
    stamps: list[int] = []
    for sig in parsed.signatures:
        for verifier in known:
            if not verifier.matches(sig):
                continue
            timestamp = verifier.verify(parsed.text, sig)
            if timestamp is None:
                raise InvalidInput(f"the cosignature of witness {verifier.name} does not verify")
            key = verifier.verifier_key()
            row = s.get(t.LedgerCosignature, (checkpoint.size, key))
            if row is None:
                s.add(
                    t.LedgerCosignature(
                        size=checkpoint.size,
                        witness_key=key,
                        timestamp=timestamp,
                        line=sig.line(),
                        received_at=now,
                    )
                )
            elif timestamp > row.timestamp:
                row.timestamp, row.line, row.received_at = timestamp, sig.line(), now
            names.append(verifier.name)
            stamps.append(timestamp)
    if not names:
        raise Forbidden(
            "the note carries no cosignature from a witness this log has registered",
            advice="Register the witness first: 'facegate ledger witness-add <verifier key>'.",
        )
    return Accepted(checkpoint.size, tuple(names), tuple(stamps))


def cosigned_note(s: Session, size: int) -> tuple[str, list[str]]:
    """The head signed at ``size`` with every stored cosignature line added, and the keys of
    the witnesses that cosigned it."""
    head = head_at(s, size)
    rows = s.execute(
        select(t.LedgerCosignature.witness_key, t.LedgerCosignature.line)
        .where(t.LedgerCosignature.size == size)
        .order_by(t.LedgerCosignature.witness_key)
    ).all()
    note = head.note + "".join(line for _, line in rows)
    parse_signed_note(note)  # the stored lines must still form a valid note
    return note, [key for key, _ in rows]


def latest_cosigned_size(s: Session) -> int | None:
    """The largest size that any registered witness has cosigned."""
    sizes = s.scalars(
        select(t.LedgerCosignature.size).order_by(t.LedgerCosignature.size.desc()).limit(1)
    )
    return next(iter(sizes), None)
