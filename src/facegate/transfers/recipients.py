"""Recipients and their agreements; a person's consent to one recipient.

A recipient is recorded with every term CN-SPC-7 and PIPL Art 21/23 ask for (who, how to
reach them, processor or controller, where, for what, for how long, whether for profit, the
mechanism abroad, how many people, the signed agreement's hash and end) and ledgered, so
that every recipient and co-processor is on the record. Revoking it ends every transfer to
it; its export keys are marked revoked (kept wrapped: a leaked copy must stay traceable).

A person may consent to one recipient after their first consent: the new consent is judged
by the packs like any other (the notice in force, explicit, written where BIPA asks, a
guardian's under 14), gets a signed receipt that names the recipient (Kantara
``thirdPartyDisclosure``, ``thirdPartyName``), and goes with the person when they are erased.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.consent.receipts import ReceiptFacts, receipt_body, sign_receipt
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.enforce import enforce, require
from facegate.flows.evidence import keep_receipt
from facegate.flows.facts import consent_facts
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import CONSENT_METHODS, METHOD_ALIASES, WRITTEN_METHODS
from facegate.storage import tables as t
from facegate.transfers.results import RecipientInfo, TransferConsentReceipt
from facegate.transfers.specs import FIELD_RULES, RecipientAgreement, TransferConsentTerms

__all__ = [
    "add_recipient",
    "give_transfer_consent",
    "info",
    "list_recipients",
    "recipient_row",
    "revoke_recipient",
]


def add_recipient(
    core: Core, actor: Actor, deployment_id: str, agreement: RecipientAgreement
) -> RecipientInfo:
    require(actor, "manage_deployments", "record recipients")
    now = core.clock()
    if aware(agreement.ends_at) <= now:
        raise InvalidInput("the agreement's end (ends_at) is in the past")
    rid = new_id("rcv", core.entropy)
    retention = None if agreement.retention_days == "unlimited" else agreement.retention_days
    if retention is not None and not 1 <= retention <= 36_500:
        raise InvalidInput("retention_days is 1 to 36500, or 'unlimited' (CN-SPC-7)")
    with core.db.transaction() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        row = _row(rid, dep, agreement, retention)
        recorded = core.record(
            s,
            Event(
                Kind.RECIPIENT_ADDED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                rule_ids=("CN-SPC-7",),
                by=actor.principal_id,
                details=_terms(row),
            ),
        )
        row.created_at, row.created_by, row.event_id = now, actor.principal_id, recorded[0].event_id
        s.add(row)
        s.flush()
        return info(s, row)


def _row(
    rid: str, dep: t.Deployment, agreement: RecipientAgreement, retention: int | None
) -> t.TransferRecipient:
    return t.TransferRecipient(
        id=rid,
        operator_id=dep.operator_id,
        deployment_id=dep.id,
        name=agreement.name,
        contact=agreement.contact,
        role=agreement.role,
        country=agreement.country.upper(),
        purpose=agreement.purpose,
        same_purpose=agreement.same_purpose,
        retention_days=retention,
        irrevocable=agreement.irrevocable,
        for_profit=agreement.for_profit,
        mechanism=agreement.mechanism,
        max_people=agreement.max_people,
        agreement_sha256=agreement.agreement_sha256.lower(),
        agreement_ends_at=aware(agreement.ends_at),
        revoked_reason="",
    )


def _terms(row: t.TransferRecipient) -> dict[str, object]:
    """What the ledger keeps of the agreement (the purpose by hash: it is free text)."""
    return {
        "recipient_id": row.id,
        "name": row.name,
        "contact": row.contact,
        "role": row.role,
        "country": row.country,
        "purpose_sha256": sha256_hex(row.purpose),
        "same_purpose": row.same_purpose,
        "retention_days": row.retention_days,
        "irrevocable": row.irrevocable,
        "for_profit": row.for_profit,
        "mechanism": row.mechanism,
        "max_people": row.max_people,
        "agreement_sha256": row.agreement_sha256,
        "ends_at": aware(row.agreement_ends_at).isoformat(),
    }


def recipient_row(
    s: Session, recipient_id: str, operator_id: str, *, deployment_id: str | None = None
) -> t.TransferRecipient:
    """The recipient, if it is the operator's (and the deployment's): else not found."""
    row = s.get(t.TransferRecipient, recipient_id) if len(recipient_id) <= 40 else None
    if (
        row is None
        or row.operator_id != operator_id
        or (deployment_id is not None and row.deployment_id != deployment_id)
    ):
        raise NotFound(
            f"no recipient {recipient_id!r} of this deployment",
            advice="List them with 'facegate recipient list -d DEPLOYMENT'.",
        )
    return row


def list_recipients(core: Core, actor: Actor, deployment_id: str) -> list[RecipientInfo]:
    require(actor, "read", "read recipients")
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        rows = s.scalars(
            select(t.TransferRecipient)
            .where(t.TransferRecipient.deployment_id == dep.id)
            .order_by(t.TransferRecipient.created_at)
        )
        return [info(s, r) for r in rows]


def revoke_recipient(
    core: Core, actor: Actor, recipient_id: str, *, reason: str, deployment_id: str | None = None
) -> RecipientInfo:
    """End the agreement: no share or export to it from now on; its export keys revoked."""
    require(actor, "manage_deployments", "revoke recipients")
    reason = reason.strip()
    if not 10 <= len(reason) <= 500:
        raise InvalidInput("say why the recipient is revoked, in 10 to 500 characters")
    now = core.clock()
    with core.db.transaction() as s:
        row = recipient_row(s, recipient_id, actor.operator_id, deployment_id=deployment_id)
        if row.revoked_at is not None:
            raise Conflict(f"recipient {recipient_id} was already revoked")
        exports = list(
            s.scalars(select(t.TransferExport).where(t.TransferExport.recipient_id == row.id))
        )
        for export in exports:
            export.revoked_at = export.revoked_at or now
        row.revoked_at, row.revoked_reason = now, reason
        core.record(
            s,
            Event(
                Kind.RECIPIENT_REVOKED,
                now,
                operator=row.operator_id,
                deployment=row.deployment_id,
                rule_ids=("CN-SPC-7", "ISO-24745"),
                by=actor.principal_id,
                details={
                    "recipient_id": row.id,
                    "reason": reason,
                    "exports": [e.id for e in exports],
                    "key_ids": [e.key_id for e in exports],
                },
            ),
        )
        s.flush()
        return info(s, row)


def info(s: Session, row: t.TransferRecipient) -> RecipientInfo:
    received = (
        s.scalar(
            select(func.count(func.distinct(t.TransferItem.pseudonym)))
            .join(t.TransferExport, t.TransferExport.id == t.TransferItem.export_id)
            .where(t.TransferExport.recipient_id == row.id)
        )
        or 0
    )
    return RecipientInfo(
        id=row.id,
        deployment_id=row.deployment_id,
        name=row.name,
        contact=row.contact,
        role=row.role,
        country=row.country,
        purpose=row.purpose,
        same_purpose=row.same_purpose,
        retention_days=row.retention_days,
        irrevocable=row.irrevocable,
        for_profit=row.for_profit,
        mechanism=row.mechanism,
        max_people=row.max_people,
        agreement_sha256=row.agreement_sha256,
        ends_at=aware(row.agreement_ends_at),
        created_at=aware(row.created_at),
        event_id=row.event_id,
        revoked_at=aware(row.revoked_at) if row.revoked_at else None,
        revoked_reason=row.revoked_reason,
        people_received=received,
    )


def give_transfer_consent(
    core: Core, actor: Actor, deployment_id: str, subject_ref: str, terms: TransferConsentTerms
) -> TransferConsentReceipt:
    """Record a person's separate consent to one recipient, judged by the packs."""
    require(actor, "record_consent", "record consents")
    method = _method(terms)
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        rec = recipient_row(s, terms.recipient_id, actor.operator_id, deployment_id=dep.id)
        if rec.revoked_at is not None:
            raise Conflict(f"recipient {rec.id} is revoked; no consent to it can be recorded")
        subject = core.subject(s, dep, subject_ref)
        base = _base_consent(s, subject)
        assert subject is not None  # a person without a consent was refused just above
        facts = dataclasses.replace(
            consent_facts(base, held=subject.hold_ground is not None),
            method=method,
            given_at=now,
            separate=True,
            form_sha256=terms.form_sha256,
            egress=terms.egress,
            disclosure=terms.disclosure,
        )
        event = Event(
            Kind.TRANSFER_CONSENT,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            subject=subject.pseudonym,
            by=actor.principal_id,
            details={"recipient_id": rec.id, "method": method},
        )
        decision = enforce(core, s, dep, Act.GIVE_CONSENT, event, now=now, consent=facts)
        s.expunge_all()
    judged = _Judged(dep, rec, subject, base, method, now, decision.rule_ids)
    return _record_transfer_consent(core, actor, judged, terms)


def _method(terms: TransferConsentTerms) -> str:
    method = METHOD_ALIASES.get(terms.method, terms.method)
    if method not in CONSENT_METHODS:
        raise InvalidInput(f"unknown consent method {terms.method!r}")
    if method in WRITTEN_METHODS and terms.form_sha256 is None:
        raise InvalidInput(
            f"form_sha256 is required for a {method} consent ({FIELD_RULES['method']})",
            advice="Pass --form FILE (hashed here) or --form SHA256.",
        )
    return method


def _base_consent(s: Session, subject: t.Subject | None) -> t.Consent:
    row = (
        s.scalar(select(t.Consent).where(t.Consent.subject_id == subject.id))
        if subject is not None
        else None
    )
    if row is None:
        raise NotFound(
            "no such person in this deployment (never consented, or erased)",
            advice="A person consents to the deployment first, then to a recipient.",
        )
    return row


def _receipt(core: Core, s: Session, judged: _Judged, consent_id: str) -> dict[str, object]:
    """A signed Kantara receipt for the consent, naming the recipient."""
    dep, rec, base = judged.dep, judged.rec, judged.base
    op = s.get(t.Operator, dep.operator_id)
    assert op is not None  # foreign key
    body = receipt_body(
        ReceiptFacts(
            receipt_id=consent_id,
            subject_pseudonym=judged.subject.pseudonym,
            operator_name=op.name,
            operator_contact=op.contact,
            operator_email=op.email,
            operator_address=op.address,
            operator_url=op.url,
            deployment_id=dep.id,
            purpose=f"{dep.purpose} (to {rec.name}, {rec.country}: {rec.purpose})",
            jurisdiction=dep.jurisdiction,
            notice_version=base.notice_version,
            notice_sha256=base.notice_sha256,
            method=judged.method,
            given_at=judged.now,
            expires_at=aware(base.expires_at) if base.expires_at else None,
            third_party_disclosure=True,
        )
    )
    for service in body["services"]:  # type: ignore[attr-defined]
        for purpose in service["purposes"]:
            purpose["thirdPartyName"] = f"{rec.name} ({rec.role}, {rec.country})"
    return sign_receipt(body, core.ledger.signing_key)


@dataclasses.dataclass(frozen=True)
class _Judged:
    """A transfer consent the packs allowed, with the rows it was judged on."""

    dep: t.Deployment
    rec: t.TransferRecipient
    subject: t.Subject
    base: t.Consent
    method: str
    now: datetime
    rules: tuple[str, ...]


def _record_transfer_consent(
    core: Core, actor: Actor, judged: _Judged, terms: TransferConsentTerms
) -> TransferConsentReceipt:
    dep, rec, subject = judged.dep, judged.rec, judged.subject
    method, now, rules = judged.method, judged.now, judged.rules
    consent_id = new_id("tcn", core.entropy)
    with core.db.transaction() as s:
        if s.get(t.Subject, subject.id) is None:
            raise NotFound("this person withdrew or was erased meanwhile")
        receipt = _receipt(core, s, judged, consent_id)
        recorded = core.record(
            s,
            Event(
                Kind.TRANSFER_CONSENT,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=subject.pseudonym,
                rule_ids=rules,
                by=actor.principal_id,
                details={
                    "consent_id": consent_id,
                    "recipient_id": rec.id,
                    "egress": terms.egress,
                    "disclosure": terms.disclosure,
                    "method": method,
                    "form_sha256": terms.form_sha256.lower() if terms.form_sha256 else None,
                },
            ),
        )
        s.add(
            t.TransferConsent(
                id=consent_id,
                subject_id=subject.id,
                recipient_id=rec.id,
                egress=terms.egress,
                disclosure=terms.disclosure,
                method=method,
                form_sha256=terms.form_sha256.lower() if terms.form_sha256 else None,
                given_at=now,
                event_id=recorded[0].event_id,
            )
        )
        keep_receipt(
            s,
            consent_id=consent_id,
            deployment_id=dep.id,
            pseudonym=subject.pseudonym,
            document=receipt,
            now=now,
        )
    return TransferConsentReceipt(
        consent_id=consent_id,
        deployment_id=dep.id,
        recipient_id=rec.id,
        egress=terms.egress,
        disclosure=terms.disclosure,
        receipt=receipt,
        event_id=recorded[0].event_id,
    )
