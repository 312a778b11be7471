"""The operator's side of the regulator link: registration, orders, receipts, enforcement.

What the policy door calls before enroll, verify and identify (the face is not touched if it
raises)::

    from facegate.regulator.link import check_orders
    with core.db.read() as s:
        check_orders(s, deployment_id)      # raises StoppedByOrder (a PolicyDenied)

``orders_in_force`` lists what binds a deployment now: for each deployment, the orders since
the last ``resume`` (a ``resume`` lifts every stop and rectify order before it). Orders that
name no deployment bind all of them. Orders arrive as notes signed by the regulator's
authority key, pinned when the link was registered; each is checked, numbered without gaps,
written to the ledger, enforced and acknowledged, and the acknowledgement's signed receipt
is kept (and its hash ledgered) like any other receipt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate._internal.ids import new_id
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from facegate.ledger import cosignatures
from facegate.ledger.events import Event, Kind
from facegate.regulator.link_client import RegulatorClient
from facegate.regulator.protocol import RECEIPT_HEADER, open_document
from facegate.regulator.registry import sign_registration
from facegate.storage import tables as t

__all__ = [
    "OrderInForce",
    "StoppedByOrder",
    "check_orders",
    "client_for",
    "link_for",
    "orders_in_force",
    "register_link",
    "store_receipt",
]


class StoppedByOrder(PolicyDenied):
    """A regulator's stop order is in force on the deployment (rule id ``ORDER:<id>``)."""

    code = "stopped_by_order"


@dataclass(frozen=True, slots=True)
class OrderInForce:
    id: str
    seq: int
    kind: str
    deployment_id: str | None
    reason: str
    issued_at: datetime
    due_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: getattr(self, k) for k in self.__slots__}
        out["issued_at"] = self.issued_at.isoformat()
        out["due_at"] = self.due_at.isoformat() if self.due_at else None
        return out


def orders_in_force(session: Session, deployment_id: str) -> list[OrderInForce]:
    """The stop and rectify orders binding ``deployment_id`` now, oldest first."""
    rows = session.scalars(
        select(t.RegulatorOrder)
        .where(
            or_(
                t.RegulatorOrder.deployment_id == deployment_id,
                t.RegulatorOrder.deployment_id.is_(None),
            )
        )
        .order_by(t.RegulatorOrder.issued_at, t.RegulatorOrder.link_id, t.RegulatorOrder.seq)
    )
    binding: list[OrderInForce] = []
    for row in rows:
        if row.kind == "resume":
            binding.clear()
            continue
        binding.append(
            OrderInForce(
                id=row.id,
                seq=row.seq,
                kind=row.kind,
                deployment_id=row.deployment_id,
                reason=row.reason,
                issued_at=aware(row.issued_at),
                due_at=aware(row.due_at) if row.due_at else None,
            )
        )
    return binding


def check_orders(session: Session, deployment_id: str) -> None:
    """Raise :class:`StoppedByOrder` if a stop order is in force on the deployment."""
    stops = [o for o in orders_in_force(session, deployment_id) if o.kind == "stop"]
    if stops:
        order = stops[-1]
        raise StoppedByOrder(
            f"processing on deployment {deployment_id} is stopped by the regulator's order "
            f"{order.id} of {order.issued_at.date().isoformat()}: {order.reason}",
            rule_id=f"ORDER:{order.id}",
            rule_ids=tuple(f"ORDER:{o.id}" for o in stops),
            advice="Nothing may be processed on it until the regulator issues a resume order;\n"
            "'facegate orders fetch' picks it up (facegate serve polls by itself).",
        )


# --- the link itself -------------------------------------------------------------------------


def link_for(s: Session, url: str | None = None) -> t.RegulatorLink:
    """The link to ``url``, or the only link when ``url`` is None."""
    q = select(t.RegulatorLink).order_by(t.RegulatorLink.created_at)
    if url is not None:
        q = q.where(t.RegulatorLink.url == url.rstrip("/"))
    rows = list(s.scalars(q))
    if not rows:
        raise NotFound(
            "this installation has no link to a regulator" + (f" at {url}" if url else ""),
            advice="Register with 'facegate link register --url REGULATOR_URL'.",
        )
    if len(rows) > 1 and url is None:
        raise InvalidInput("several regulators are linked; name one with --url")
    return rows[0]


def client_for(core: Core, link: t.RegulatorLink) -> RegulatorClient:
    return RegulatorClient(
        link.url,
        origin=core.ledger.origin,
        signing_key=core.ledger.signing_key,
        clock=core.clock,
    )


def register_link(
    core: Core,
    url: str,
    *,
    operator_name: str,
    contact: str,
    operator_url: str,
    witness_key: str | None = None,
    authority_key: str | None = None,
    push_interval_s: int = 300,
    poll_s: float = 2.0,
    client: RegulatorClient | None = None,
) -> dict[str, Any]:
    """Send a signed registration to the regulator at ``url`` and keep the link.

    The regulator's keys are pinned here: given (from a second source, as they should be) or
    taken from the regulator's answer (trust on first use), and never changed afterwards.
    """
    url = url.rstrip("/")
    if push_interval_s < 1 or poll_s <= 0:
        raise InvalidInput("the push interval is at least 1 s and the poll period positive")
    own = client is None
    client = client or RegulatorClient(
        url, origin=core.ledger.origin, signing_key=core.ledger.signing_key, clock=core.clock
    )
    try:
        keys = client.keys()
        for given, name in ((witness_key, "witness_key"), (authority_key, "authority_key")):
            if given is not None and given.strip() != keys.get(name):
                raise Conflict(f"the regulator at {url} answers with another {name}")
        request = sign_registration(
            core.ledger.signing_key,
            origin=core.ledger.origin,
            vkey=core.ledger.verifier_key,
            operator_name=operator_name,
            contact=contact,
            operator_url=operator_url,
            regulator_url=url,
            requested_at=core.clock().isoformat(),
        )
        answer = client.register(request)
    finally:
        if own:
            client.close()
    now = core.clock()
    with core.db.transaction() as s:
        if s.scalar(select(t.RegulatorLink).where(t.RegulatorLink.url == url)) is not None:
            raise Conflict(f"a link to {url} exists already")
        cosignatures.add_witness(s, keys["witness_key"], now=now)
        link = t.RegulatorLink(
            id=new_id("rgl", core.entropy),
            url=url,
            witness_key=keys["witness_key"],
            authority_key=keys["authority_key"],
            state=str(answer.get("state", "pending")),
            push_interval_s=push_interval_s,
            poll_s=poll_s,
            created_at=now,
            witness_size=0,
            last_error="",
            orders_seq=0,
        )
        s.add(link)
        recorded = core.record(
            s,
            Event(
                Kind.REGULATOR_LINKED,
                now,
                operator=None,
                details={
                    "url": url,
                    "witness_key": link.witness_key,
                    "authority_key": link.authority_key,
                    "request_sha256": sha256_hex(canonical_json(request)),
                },
            ),
        )
    return {
        "link_id": link.id,
        "url": url,
        "state": link.state,
        "event_id": recorded[0].event_id,
        "witness_key": link.witness_key,
        "authority_key": link.authority_key,
    }


# --- receipts --------------------------------------------------------------------------------


def store_receipt(
    core: Core,
    s: Session,
    link: t.RegulatorLink,
    receipt: dict[str, Any],
    *,
    what: str,
    ref: str,
    document: dict[str, Any],
) -> t.RegulatorReceipt:
    """Check a receipt (the authority's signature, and that it names what was sent), keep it
    and ledger its hash, in the caller's transaction."""
    note = str(receipt.get("note", ""))
    doc = open_document(note, RECEIPT_HEADER, link.authority_key)
    sent = sha256_hex(canonical_json(document))
    expected = {"origin": core.ledger.origin, "what": what, "ref": ref, "document_sha256": sent}
    wrong = [k for k, v in expected.items() if doc.get(k) != v]
    if wrong:
        raise Conflict(f"the regulator's receipt does not match what was sent ({', '.join(wrong)})")
    now = core.clock()
    recorded = core.record(
        s,
        Event(
            Kind.REGULATOR_RECEIPT,
            now,
            details={
                "receipt_id": doc["id"],
                "what": what,
                "ref": ref,
                "document_sha256": sent,
                "receipt_sha256": hashlib.sha256(note.encode()).hexdigest(),
                "regulator": link.url,
            },
        ),
    )
    row = t.RegulatorReceipt(
        id=str(doc["id"])[:40],
        link_id=link.id,
        what=what,
        ref=ref[:100],
        document_sha256=sent,
        note=note,
        received_at=now,
        event_id=recorded[0].event_id,
    )
    s.add(row)
    return row
