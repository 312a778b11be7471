"""Orders from the regulator, taken in by the operator's node: fetched, verified (the
authority key pinned at registration, the addressee, numbering without gaps), kept, written
to the ledger (``regulator.order``, filed under the deployment so its evidence shows it) and
acknowledged, with the acknowledgement's signed receipt kept and ledgered.
Enforcement is :func:`facegate.regulator.link.check_orders`.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from facegate._internal.canonical import sha256_hex
from facegate.core import Core
from facegate.errors import Conflict, InvalidInput
from facegate.ledger.events import Event, Kind
from facegate.regulator.link import client_for, link_for, store_receipt
from facegate.regulator.link_client import RegulatorClient
from facegate.regulator.protocol import ORDER_HEADER, open_document
from facegate.storage import tables as t

__all__ = ["fetch_orders"]


def fetch_orders(
    core: Core, *, url: str | None = None, client: RegulatorClient | None = None
) -> list[dict[str, Any]]:
    """Fetch new orders, verify, ledger and acknowledge each; returns those taken in."""
    with core.db.read() as s:
        link = link_for(s, url)
    own = client is None
    client = client or client_for(core, link)
    taken: list[dict[str, Any]] = []
    try:
        for item in client.orders(after=link.orders_seq):
            order = _take_order(core, link.id, str(item.get("note", "")))
            if order is None:
                continue
            _acknowledge(core, link.id, order, client)
            taken.append(order)
    finally:
        if own:
            client.close()
    return taken


def _order_fields(doc: dict[str, Any]) -> tuple[str, str, str | None, datetime | None, datetime]:
    """(id, kind, deployment, due, issued_at) of a signed order; :class:`InvalidInput` if the
    regulator's document cannot be read (it is signed, so this would be the regulator's bug)."""
    try:
        order_id, kind = str(doc["id"]), str(doc["kind"])
        deployment = doc.get("deployment")
        due = datetime.fromisoformat(doc["due"]) if doc.get("due") else None
        issued = datetime.fromisoformat(str(doc["issued_at"]))
    except (KeyError, TypeError, ValueError) as err:
        raise InvalidInput(f"the regulator's order cannot be read: {err}") from None
    if kind not in {"stop", "resume", "rectify"} or not 0 < len(order_id) <= 40:
        raise InvalidInput(f"not an order this node knows: kind {kind!r}, id {order_id!r}")
    if deployment is not None and not isinstance(deployment, str):
        raise InvalidInput("an order names its deployment by id")
    return order_id, kind, deployment, due, issued


def _take_order(core: Core, link_id: str, note: str) -> dict[str, Any] | None:
    """Verify one order and, in one transaction, keep it and ledger it."""
    now = core.clock()
    with core.db.transaction() as s:
        link = s.get(t.RegulatorLink, link_id)
        assert link is not None
        doc = open_document(note, ORDER_HEADER, link.authority_key)
        seq = doc.get("seq")
        if doc.get("origin") != core.ledger.origin:
            raise Conflict("the regulator sent an order addressed to another log")
        if not isinstance(seq, int) or seq <= link.orders_seq:
            return None  # already taken in
        if seq != link.orders_seq + 1:
            raise Conflict(f"order {link.orders_seq + 1} is missing (received {seq})")
        order_id, kind, deployment, due, issued = _order_fields(doc)
        recorded = core.record(
            s,
            Event(
                Kind.REGULATOR_ORDER,
                now,
                deployment=deployment,
                rule_ids=(f"ORDER:{order_id}",),
                details={
                    "order_id": order_id,
                    "seq": seq,
                    "kind": kind,
                    "due": due.isoformat() if due else None,
                    "reason_sha256": sha256_hex(str(doc.get("reason", ""))),
                    "note_sha256": hashlib.sha256(note.encode()).hexdigest(),
                    "regulator": link.url,
                },
            ),
        )
        s.add(
            t.RegulatorOrder(
                id=order_id,
                link_id=link.id,
                seq=seq,
                kind=kind,
                deployment_id=deployment,
                due_at=due,
                reason=str(doc.get("reason", "")),
                note=note,
                issued_at=issued,
                received_at=now,
                event_id=recorded[0].event_id,
            )
        )
        link.orders_seq = seq
    return {**doc, "event_id": recorded[0].event_id}


def _acknowledge(core: Core, link_id: str, order: dict[str, Any], client: RegulatorClient) -> None:
    document = {
        "order_id": order["id"],
        "seq": order["seq"],
        "event_id": order["event_id"],
        "enforced_from": core.clock().isoformat(),
    }
    receipt = client.deliver("order_ack", str(order["id"]), document)
    with core.db.transaction() as s:
        link = s.get(t.RegulatorLink, link_id)
        assert link is not None
        store_receipt(
            core, s, link, receipt, what="order_ack", ref=str(order["id"]), document=document
        )
        row = s.get(t.RegulatorOrder, str(order["id"]))
        if row is not None:
            row.acknowledged_at = core.clock()
