"""Consent, withdrawal and erasure.

A consent creates the person's subject row, their data key and a signed receipt. Withdrawal
and erasure delete every row about the person and destroy the data key (crypto-shredding);
the ledger keeps only the pseudonymous events, now unlinkable to anyone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from facegate._internal.canonical import sha256_hex
from facegate._internal.clock import Entropy
from facegate._internal.ids import new_id
from facegate.consent.receipts import ReceiptFacts, access_code_hash, receipt_body, sign_receipt
from facegate.core import Core, aware, clean_ref
from facegate.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from facegate.ledger.events import Event, Kind
from facegate.results import ConsentReceipt, ErasureReceipt
from facegate.storage import tables as t

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def give_consent(
    core: Core,
    deployment_id: str,
    subject_ref: str,
    *,
    notice_version: int | None = None,
    method: str = "signed_form",
    expires_at: datetime | None = None,
    operator_id: str | None = None,
) -> ConsentReceipt:
    ref = clean_ref(subject_ref)
    now = core.clock()
    if expires_at is not None and aware(expires_at) <= now:
        raise InvalidInput("the consent's expiry is in the past")
    subject_id = new_id("sub", core.entropy)
    try:
        return _give(
            core,
            deployment_id,
            ref,
            subject_id=subject_id,
            now=now,
            notice_version=notice_version,
            method=method,
            expires_at=expires_at,
            operator_id=operator_id,
        )
    except BaseException:
        # The key store is written just before the main commit; if that commit failed, the
        # orphan key is destroyed so that nothing dangles.
        core.keyring.keystore.destroy(subject_id)
        raise


def _give(
    core: Core,
    deployment_id: str,
    ref: str,
    *,
    subject_id: str,
    now: datetime,
    notice_version: int | None,
    method: str,
    expires_at: datetime | None,
    operator_id: str | None,
) -> ConsentReceipt:
    with core.db.transaction() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        notice = core.notice(s, dep.id)
        if notice_version is not None and notice_version != notice.version:
            raise PolicyDenied(
                f"the person was shown notice version {notice_version}, but the current one "
                f"is {notice.version}",
                rule_id="CN-FR-5",
                advice="Show the person the current notice, then record their consent.",
            )
        if core.subject(s, dep, ref) is not None:
            raise Conflict(
                "this person already holds a consent to this deployment",
                advice="Withdraw it first if they want to consent to a new notice.",
            )
        data_key, wrapped = core.keyring.new_subject(dep, subject_id)
        pseudonym = core.entropy(16).hex()
        s.add(
            t.Subject(
                id=subject_id,
                deployment_id=dep.id,
                ref_hmac=core.keyring.ref_hmac(dep, ref),
                ref_sealed=core.keyring.seal_ref(dep, subject_id, data_key, ref),
                pseudonym=pseudonym,
                created_at=now,
            )
        )
        s.flush()  # the consent row below refers to it
        consent_id = new_id("con", core.entropy)
        code = access_code(core.entropy)
        s.add(
            t.Consent(
                id=consent_id,
                subject_id=subject_id,
                deployment_id=dep.id,
                notice_version=notice.version,
                notice_sha256=notice.sha256,
                purpose_sha256=sha256_hex(dep.purpose),
                method=method,
                given_at=now,
                expires_at=expires_at,
                access_code_hash=access_code_hash(code),
            )
        )
        op = s.get(t.Operator, dep.operator_id)
        assert op is not None  # foreign key
        receipt = sign_receipt(
            receipt_body(
                ReceiptFacts(
                    receipt_id=consent_id,
                    subject_pseudonym=pseudonym,
                    operator_name=op.name,
                    operator_contact=op.contact,
                    deployment_id=dep.id,
                    purpose=dep.purpose,
                    jurisdiction=dep.jurisdiction,
                    notice_version=notice.version,
                    notice_sha256=notice.sha256,
                    method=method,
                    given_at=now,
                    expires_at=expires_at,
                )
            ),
            core.ledger.signing_key,
        )
        recorded = core.record(
            s,
            Event(
                Kind.CONSENT_GIVEN,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=pseudonym,
                rule_ids=("CN-FR-5", "CN-FR-6"),
                details={
                    "consent_id": consent_id,
                    "notice_version": notice.version,
                    "notice_sha256": notice.sha256,
                    "method": method,
                },
            ),
        )
        s.flush()  # surface constraint errors before the key store is written
        core.keyring.keystore.put(subject_id, wrapped, now=now)
    return ConsentReceipt(
        consent_id=consent_id,
        deployment_id=dep.id,
        notice_version=notice.version,
        access_code=code,
        receipt=receipt,
        event_id=recorded[0].event_id,
    )


def erase(
    core: Core,
    deployment_id: str,
    subject_ref: str,
    *,
    reason: str,
    kind: Kind,
    operator_id: str | None,
) -> ErasureReceipt:
    """Delete the person's rows with a receipt event in one transaction, then shred the key."""
    now = core.clock()
    with core.db.transaction() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        subject = core.subject(s, dep, subject_ref)
        if subject is None:
            raise NotFound("no such person in this deployment (already erased?)")
        n = (
            s.scalar(
                select(func.count())
                .select_from(t.Template)
                .where(t.Template.subject_id == subject.id)
            )
            or 0
        )
        subject_id, pseudonym = subject.id, subject.pseudonym
        s.delete(subject)  # consents and templates go with it (ON DELETE CASCADE)
        recorded = core.record(
            s,
            Event(
                kind,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=pseudonym,
                rule_ids=("CN-PIPL-15",),
                details={"templates_erased": n, "reason": reason, "key_destroyed": True},
            ),
        )
    destroyed = core.keyring.keystore.destroy(subject_id)
    core.galleries.remove_subject(deployment_id, subject_id)
    return ErasureReceipt(
        deployment_id=deployment_id,
        templates_erased=n,
        key_destroyed=destroyed,
        reason=reason,
        erased_at=now,
        event_id=recorded[0].event_id,
    )


def access_code(entropy: Entropy) -> str:
    """20 Crockford base32 characters (100 bits) in groups of five, easy to read aloud."""
    n = int.from_bytes(entropy(13), "big") >> 4
    code = "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in range(20))
    return "-".join(code[i : i + 5] for i in range(0, 20, 5))
