"""Subject rights (CN-PIPL-44, CN-PIPL-15, EU-GDPR-17): a person, holding only the access code
printed on their consent receipt, can see what is held about them and where, withdraw, have it
erased, ask for a correction, and lodge a complaint. Every request is recorded with a deadline
and answered or refused with reasons (a decided act: an answer without reasons is refused
citing CN-PIPL-44); requests and answers are ledger events. The person's own words are sealed
under their data key, so that erasing them shreds their words too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from facegate._internal.ids import new_id
from facegate.consent.receipts import access_code_hash
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, Unauthenticated
from facegate.flows.erasure import erase_subject
from facegate.flows.sealing import seal_text
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.results import ErasureReceipt
from facegate.storage import tables as t
from facegate.transfers.records import transfers_of

#: days an operator has to answer a request, by pack. GDPR Art 12(3) gives one month; PIPL
#: Art 50 says "promptly" with no number, so the stricter 15 days of GB/T 35273-2020 8.7 is
#: used (provisional: kept in this one place so it can be corrected).
ANSWER_DAYS = {"cn": 15, "eu": 30, "us-il": 30}
_DEFAULT_ANSWER_DAYS = 15
#: the PIPL right each kind of request exercises (Art 44-48); a complaint asks the processor
#: to explain and put right its processing (Art 48)
_RIGHT = {
    "access": "access",
    "erase": "delete",
    "withdraw": "delete",
    "complaint": "explain",
    "correction": "correct",
}


@dataclass(frozen=True)
class Holder:
    """Who an access code belongs to, resolved once per request."""

    subject_id: str
    pseudonym: str
    deployment_id: str
    operator_id: str
    jurisdiction: str


@dataclass(frozen=True)
class RequestRecord:
    request_id: str
    kind: str
    status: str
    received_at: datetime
    due_at: datetime
    reason: str
    event_id: str

    def to_dict(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "status": self.status,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "reason": self.reason,
            "event_id": self.event_id,
        }


def holder(core: Core, code: str) -> Holder:
    """The person an access code belongs to. The same error for unknown and malformed codes."""
    if not code or len(code) > 64:
        raise Unauthenticated(
            "the access code is not valid", advice="Use the code printed on your consent receipt."
        )
    with core.db.read() as s:
        row = s.execute(
            select(
                t.Consent.subject_id,
                t.Subject.pseudonym,
                t.Subject.deployment_id,
                t.Deployment.operator_id,
                t.Deployment.jurisdiction,
            )
            .join(t.Subject, t.Subject.id == t.Consent.subject_id)
            .join(t.Deployment, t.Deployment.id == t.Subject.deployment_id)
            .where(t.Consent.access_code_hash == access_code_hash(code))
        ).first()
    if row is None:
        raise Unauthenticated(
            "the access code is not valid, or everything about you was already erased",
            advice="Use the code printed on your consent receipt. After erasure, your\n"
            "receipt's piiPrincipalId still identifies your events in an evidence bundle.",
        )
    return Holder(*row)


def _due(core: Core, h: Holder, received: datetime) -> datetime:
    days = min(ANSWER_DAYS.get(p, _DEFAULT_ANSWER_DAYS) for p in h.jurisdiction.split("+"))
    return received + timedelta(days=days)


def _log(
    core: Core, h: Holder, *, kind: str, status: str, reason: str, text: str = ""
) -> RequestRecord:
    now = core.clock()
    request_id = new_id("req", core.entropy)
    due = _due(core, h, now)
    with core.db.transaction() as s:
        sealed = None
        if text:
            dep = s.get(t.Deployment, h.deployment_id)
            assert dep is not None  # the holder was just read
            key = core.keyring.data_key(dep, h.subject_id)
            sealed = seal_text(core, dep, h.subject_id, key, label="request", text=text)
        s.add(
            t.SubjectRequest(
                id=request_id,
                deployment_id=h.deployment_id,
                pseudonym=h.pseudonym,
                kind=kind,
                status=status,
                received_at=now,
                due_at=due,
                reason=reason,
                text="",
                text_sealed=sealed,
                answered_at=now if status != "open" else None,
            )
        )
        rec = core.record(
            s,
            Event(
                Kind.SUBJECT_REQUEST,
                now,
                operator=h.operator_id,
                deployment=h.deployment_id,
                subject=h.pseudonym,
                rule_ids=("CN-PIPL-44",),
                details={
                    "request_id": request_id,
                    "request": kind,
                    "status": status,
                    "due_at": due.isoformat(),
                },
            ),
        )
    return RequestRecord(
        request_id=request_id,
        kind=kind,
        status=status,
        received_at=now,
        due_at=due,
        reason=reason,
        event_id=rec[0].event_id,
    )


def what_is_held(core: Core, code: str) -> dict[str, object]:
    """Everything facegate holds about the person, in plain words, and where it is."""
    h = holder(core, code)
    with core.db.read() as s:
        dep = s.get(t.Deployment, h.deployment_id)
        op = s.get(t.Operator, h.operator_id)
        consent = s.scalar(select(t.Consent).where(t.Consent.subject_id == h.subject_id))
        templates, encrypted = (
            s.execute(
                select(kept.created_at, kept.expires_at).where(kept.subject_id == h.subject_id)
            ).all()
            for kept in (t.Template, t.EncryptedTemplate)
        )
        uses = (
            s.scalar(
                select(func.count())
                .select_from(t.SubjectRequest)
                .where(t.SubjectRequest.pseudonym == h.pseudonym)
            )
            or 0
        )
        transfers = transfers_of(s, h.pseudonym)  # shares and exports that carried them
    assert dep is not None and op is not None and consent is not None
    record = _log(core, h, kind="access", status="answered", reason="answered at once")
    return {
        "request": record.to_dict(),
        "pseudonym": h.pseudonym,
        "processor": {"name": op.name, "contact": op.contact},
        "deployment": {
            "id": dep.id,
            "name": dep.name,
            "purpose": dep.purpose,
            "location_type": dep.location_type,
            "alternative": dep.alternative,
            "retention_days": dep.retention_days,
            "legal_basis": dep.legal_basis,
        },
        "consent": {
            "given_at": aware(consent.given_at).isoformat(),
            "notice_version": consent.notice_version,
            "method": consent.method,
            "expires_at": aware(consent.expires_at).isoformat() if consent.expires_at else None,
        },
        "held": {
            "photos": 0,
            "raw_embeddings": 0,
            "protected_templates": [
                {"created_at": aware(c).isoformat(), "deleted_by": aware(e).isoformat()}
                for c, e in templates
            ],
            # issue 16: a capture device's ciphertext, which the operator cannot open
            "encrypted_templates": [
                {"created_at": aware(c).isoformat(), "deleted_by": aware(e).isoformat()}
                for c, e in encrypted
            ],
            "where": "sealed in the operator's facegate database; its key is in a separate "
            "key store and is destroyed when you withdraw or ask for erasure",
        },
        "earlier_requests": uses,
        "transfers": transfers,
    }


def withdraw(core: Core, code: str) -> tuple[RequestRecord, ErasureReceipt]:
    return _erase_request(core, code, kind="withdraw")


def erase(core: Core, code: str) -> tuple[RequestRecord, ErasureReceipt]:
    return _erase_request(core, code, kind="erase")


def _erase_request(core: Core, code: str, *, kind: str) -> tuple[RequestRecord, ErasureReceipt]:
    """Withdrawal and erasure happen at once; under a legal hold the request stays open."""
    h = holder(core, code)
    act = Act.WITHDRAW if kind == "withdraw" else Act.ERASE
    with core.db.read() as s:
        subject = s.get(t.Subject, h.subject_id)
        held = subject.hold_ground if subject is not None else None
    if held:
        record = _log(
            core,
            h,
            kind=kind,
            status="open",
            reason=f"held on the ground '{held}'; erased when the hold ends",
        )
        raise Conflict(
            f"your data is held on a legal ground ({held}); it is not used, and it is erased "
            "when the hold ends",
            advice=f"Your request {record.request_id} is recorded; the operator must answer it "
            f"by {record.due_at.date()}.",
        )
    record = _log(
        core,
        h,
        kind=kind,
        status="answered",
        reason="withdrawn at once" if kind == "withdraw" else "erased at once",
    )
    receipt = erase_subject(
        core,
        h.deployment_id,
        h.subject_id,
        reason="consent withdrawn by the person"
        if kind == "withdraw"
        else "erasure requested by the person",
        act=act,
        kind=Kind.CONSENT_WITHDRAWN if kind == "withdraw" else Kind.ERASED,
        actor=None,
    )
    return record, receipt


def complain(core: Core, code: str, text: str) -> RequestRecord:
    """Lodge a complaint; the operator must answer it by ``due_at``."""
    return _ask(core, code, text, kind="complaint")


def correct(core: Core, code: str, text: str) -> RequestRecord:
    """Ask for a correction (a wrong match, a wrong record): the operator answers by
    ``due_at``, e.g. by re-enrolling the person or fixing the record (PIPL Art 46)."""
    return _ask(core, code, text, kind="correction")


def _ask(core: Core, code: str, text: str, *, kind: str) -> RequestRecord:
    text = text.strip()
    if not 10 <= len(text) <= 5000 or any(ord(c) < 32 and c not in "\n\r\t" for c in text):
        raise InvalidInput(
            f"a {kind} is 10 to 5000 characters of text",
            advice="Say what happened, when, and what you want done.",
        )
    h = holder(core, code)
    return _log(
        core, h, kind=kind, status="open", reason="awaiting the operator's answer", text=text
    )


def _record(req: t.SubjectRequest, event_id: str = "") -> RequestRecord:
    return RequestRecord(
        request_id=req.id,
        kind=req.kind,
        status=req.status,
        received_at=aware(req.received_at),
        due_at=aware(req.due_at),
        reason=req.reason,
        event_id=event_id,
    )
