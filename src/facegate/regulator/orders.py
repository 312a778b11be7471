"""Orders the regulator issues, and the filings, notifications and acknowledgements it
receives, each answered with a signed receipt.

An order is a signed note by the regulator's authority key (see :mod:`.protocol`) holding
``{id, origin, seq, kind, deployment, due, reason, issued_at}``. ``seq`` numbers one log's
orders from 1 without gaps, so the operator can tell that it holds all of them and applies
them in the order given. Kinds: ``stop`` (stop processing on a deployment), ``resume`` (lift
a stop) and ``rectify`` (put something right by ``due``).

A receipt is a signed note ``{id, origin, what, ref, document_sha256, received_at}``: the
operator keeps it (and its hash in its ledger) as proof of what it delivered and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate._internal.ids import new_id
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.regulator.common import RegCore, rowcount
from facegate.regulator.findings import resolve
from facegate.regulator.protocol import ORDER_HEADER, RECEIPT_HEADER, sign_document
from facegate.regulator.registry import log_by_origin
from facegate.regulator.tables import RegInbox, RegLog, RegObligation, RegOrder

__all__ = [
    "INBOX_KINDS",
    "ORDER_KINDS",
    "Receipt",
    "issue_order",
    "orders_after",
    "receive",
]

ORDER_KINDS: Final = ("stop", "resume", "rectify")
#: "alert": harvesting or an attack an operator detected and stopped (facegate.transfers)
INBOX_KINDS: Final = ("filing", "incident", "order_ack", "alert")
MAX_DOCUMENT: Final = 256 * 1024
MAX_REASON: Final = 2000


@dataclass(frozen=True, slots=True)
class Receipt:
    id: str
    what: str
    ref: str
    document_sha256: str
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


def issue_order(
    core: RegCore,
    origin: str,
    *,
    kind: str,
    reason: str,
    deployment_id: str | None = None,
    due_at: datetime | None = None,
) -> dict[str, Any]:
    """Issue a signed order to the log ``origin``; returns ``{id, seq, note, ...}``."""
    reason = reason.strip()
    if kind not in ORDER_KINDS:
        raise InvalidInput(f"an order is one of {', '.join(ORDER_KINDS)}, not {kind!r}")
    if kind in {"stop", "resume"} and not deployment_id:
        raise InvalidInput(f"a {kind} order names the deployment it applies to")
    if kind == "rectify" and due_at is None:
        raise InvalidInput("a rectify order gives the date by which it must be done")
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"give the order's reason in 1 to {MAX_REASON} characters")
    now = core.now()
    with core.db.transaction() as s:
        log = log_by_origin(s, origin)
        if log.state == "retired":
            raise Conflict(f"{origin!r} is retired; it takes no more orders")
        seq = log.order_seq + 1
        # Conditional, like the witness: two officials issuing at once cannot share a number.
        moved = rowcount(
            s.execute(
                update(RegLog)
                .where(RegLog.id == log.id, RegLog.order_seq == log.order_seq)
                .values(order_seq=seq)
                .execution_options(synchronize_session=False)
            )
        )
        if moved != 1:
            raise Conflict("another order was issued at the same moment; issue it again")
        doc: dict[str, Any] = {
            "id": new_id("ord", core.entropy),
            "origin": origin,
            "seq": seq,
            "kind": kind,
            "deployment": deployment_id,
            "due": due_at.isoformat() if due_at else None,
            "reason": reason,
            "issued_at": now.isoformat(),
        }
        note = sign_document(ORDER_HEADER, doc, core.authority)
        s.add(
            RegOrder(
                id=doc["id"],
                log_id=log.id,
                seq=seq,
                kind=kind,
                deployment_id=deployment_id,
                due_at=due_at,
                reason=reason,
                note=note,
                issued_at=now,
            )
        )
    return {**doc, "note": note}


def orders_after(core: RegCore, origin: str, after: int) -> list[dict[str, Any]]:
    """The log's orders with ``seq > after``, oldest first, as signed notes."""
    with core.db.read() as s:
        log = log_by_origin(s, origin)
        rows = s.execute(
            select(RegOrder.seq, RegOrder.id, RegOrder.note, RegOrder.acknowledged_at)
            .where(RegOrder.log_id == log.id, RegOrder.seq > after)
            .order_by(RegOrder.seq)
        ).all()
    return [
        {"seq": seq, "id": oid, "note": note, "acknowledged": acked is not None}
        for seq, oid, note, acked in rows
    ]


def receive(
    core: RegCore, origin: str, *, what: str, ref: str, document: dict[str, Any]
) -> Receipt:
    """File a filing, incident notification or order acknowledgement; return the receipt."""
    if what not in INBOX_KINDS:
        raise InvalidInput(f"the regulator receives {', '.join(INBOX_KINDS)}, not {what!r}")
    body = canonical_json(document)
    if len(body) > MAX_DOCUMENT:
        raise InvalidInput(f"the document is larger than {MAX_DOCUMENT} bytes")
    ref = ref.strip()
    if not ref or len(ref) > 100:
        raise InvalidInput("a delivery names what it is about (an id of 1-100 characters)")
    now = core.now()
    digest = sha256_hex(body)
    with core.db.transaction() as s:
        log = log_by_origin(s, origin)
        receipt_id = new_id("rcp", core.entropy)
        doc = {
            "id": receipt_id,
            "origin": origin,
            "what": what,
            "ref": ref,
            "document_sha256": digest,
            "received_at": now.isoformat(),
        }
        note = sign_document(RECEIPT_HEADER, doc, core.authority)
        _file(s, log, what, ref, now=now)
        s.add(
            RegInbox(
                id=receipt_id,
                log_id=log.id,
                what=what,
                ref=ref,
                document=document,
                document_sha256=digest,
                receipt=note,
                received_at=now,
            )
        )
    return Receipt(receipt_id, what, ref, digest, note)


def _file(s: Session, log: RegLog, what: str, ref: str, *, now: datetime) -> None:
    """What a delivery settles on the regulator's side."""
    if what == "order_ack":
        order = s.scalar(select(RegOrder).where(RegOrder.log_id == log.id, RegOrder.id == ref))
        if order is None:
            raise NotFound(f"no order {ref!r} was issued to {log.origin!r}")
        order.acknowledged_at = order.acknowledged_at or now
    elif what == "filing":
        log.filing_seen_at = log.filing_seen_at or now
        resolve(s, log.id, "filing-threshold", now=now)
    elif what == "incident":
        prefix = f"incident:{ref}:"
        for row in s.scalars(
            select(RegObligation).where(
                RegObligation.log_id == log.id, RegObligation.key.startswith(prefix)
            )
        ):
            if row.key.endswith("/regulator") and row.done_at is None:
                row.done_at = now
                resolve(s, log.id, f"obligation:{row.key}", now=now)
