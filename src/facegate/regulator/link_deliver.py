"""Filings (CN-FR-15) and incident notifications (GDPR Art 33, PIPL Art 57) delivered to the
regulator over the link, each answered with a signed receipt that is kept, ledgered by hash,
and then recorded as the submission or notification the supervision module tracks.

The lead's flows may call these directly; the command line does (``facegate link
deliver-filing``, ``facegate link notify-incident``).
"""

from __future__ import annotations

from typing import Any

from facegate.core import Core
from facegate.errors import Conflict
from facegate.flows.operators import LOCAL_OPERATOR
from facegate.regulator.link import client_for, link_for, store_receipt
from facegate.regulator.link_client import RegulatorClient
from facegate.storage import tables as t
from facegate.supervision import filings, incidents

__all__ = ["deliver_filing", "deliver_incident"]


def _deliver(
    core: Core,
    url: str | None,
    client: RegulatorClient | None,
    *,
    what: str,
    ref: str,
    document: dict[str, Any],
) -> dict[str, Any]:
    """Send one document; keep the receipt (checked, ledgered) in one transaction."""
    with core.db.read() as s:
        link = link_for(s, url)
    own = client is None
    client = client or client_for(core, link)
    try:
        receipt = client.deliver(what, ref, document)
    finally:
        if own:
            client.close()
    with core.db.transaction() as s:
        row = s.get(t.RegulatorLink, link.id)
        assert row is not None
        kept = store_receipt(core, s, row, receipt, what=what, ref=ref, document=document)
        return {
            "receipt_id": kept.id,
            "event_id": kept.event_id,
            "note": kept.note,
            "document_sha256": kept.document_sha256,
            "regulator": link.url,
        }


def deliver_filing(
    core: Core,
    *,
    url: str | None = None,
    operator_id: str = LOCAL_OPERATOR,
    threshold: int = filings.FILING_THRESHOLD,
    client: RegulatorClient | None = None,
) -> dict[str, Any]:
    """Deliver what the open CN-FR-15 filing owes (file, amend or cancel), then record the
    submission with the receipt's id as its reference."""
    state = filings.filing_status(core, operator_id=operator_id, threshold=threshold)
    if state.filing_id is None or state.pending is None:
        raise Conflict(
            "no CN-FR-15 filing is owed now",
            advice="'facegate filing status' shows the filing; one opens at 100,000 people.",
        )
    report = filings.filing_document(core, operator_id=operator_id, threshold=threshold)
    document = {
        "rule_id": filings.RULE,
        "filing_id": state.filing_id,
        "act": state.pending,
        "state": state.to_dict(),
        "report": report.model_dump(mode="json"),
        "report_sha256": report.sha256(),
    }
    delivered = _deliver(core, url, client, what="filing", ref=state.filing_id, document=document)
    after = filings.record_submission(
        core, reference=delivered["receipt_id"], operator_id=operator_id, threshold=threshold
    )
    return {**delivered, "filing": after.to_dict()}


def deliver_incident(
    core: Core,
    incident_id: str,
    *,
    url: str | None = None,
    operator_id: str | None = None,
    client: RegulatorClient | None = None,
) -> dict[str, Any]:
    """Notify the regulator of an incident (GDPR Art 33 / PIPL Art 57), then record the
    notification with the receipt's id as the regulator's reference."""
    info = incidents.get_incident(core, incident_id, operator_id=operator_id)
    owed = [o for o in info.obligations if o.audience == "regulator"]
    if any(o.done_at is not None for o in owed):
        raise Conflict(f"the regulator was already notified of incident {incident_id}")
    document = {
        "rules": sorted({o.rule_id for o in owed}),
        "incident": info.to_dict(),
    }
    delivered = _deliver(core, url, client, what="incident", ref=incident_id, document=document)
    after = incidents.notify_incident(
        core,
        incident_id,
        audience="regulator",
        reference=delivered["receipt_id"],
        operator_id=operator_id,
    )
    return {**delivered, "incident": after.to_dict()}
