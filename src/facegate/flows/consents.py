"""Consent, withdrawal and erasure.

A consent creates the person's subject row, their data key and a signed receipt. Withdrawal
and erasure delete every row about the person and destroy the data key (crypto-shredding);
the ledger keeps only the pseudonymous events, now unlinkable to anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select

from facegate._internal.canonical import sha256_hex
from facegate._internal.clock import Entropy
from facegate._internal.ids import new_id
from facegate.consent.receipts import ReceiptFacts, access_code_hash, receipt_body, sign_receipt
from facegate.core import Core, aware, clean_ref, packs_of
from facegate.errors import Conflict, InvalidInput, NotFound, PolicyDenied
from facegate.flows.evidence import keep_receipt
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, decide, rules_for, stored
from facegate.policy.facts import ConsentFacts
from facegate.results import ConsentReceipt, ErasureReceipt
from facegate.storage import tables as t

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class ConsentTerms:
    """How a consent was given, as the packs need to judge it."""

    notice_version: int | None = None
    method: str = "signed_form"
    expires_at: datetime | None = None
    #: the person's age when consenting, if asked (CN-FR-6: under 14 needs a guardian)
    subject_age: int | None = None
    by_guardian: bool = False
    #: separate consents to face data leaving the device (CN-FR-8) and to disclosure
    #: to a named recipient (US-IL-15c)
    egress: bool = False
    disclosure: bool = False


def give_consent(
    core: Core,
    deployment_id: str,
    subject_ref: str,
    *,
    terms: ConsentTerms,
    operator_id: str | None = None,
) -> ConsentReceipt:
    ref = clean_ref(subject_ref)
    now = core.clock()
    if terms.expires_at is not None and aware(terms.expires_at) <= now:
        raise InvalidInput("the consent's expiry is in the past")
    if terms.subject_age is not None and not 0 <= terms.subject_age <= 150:
        raise InvalidInput("an age is between 0 and 150")
    rules = _judge(core, deployment_id, terms, now=now, operator_id=operator_id)
    subject_id = new_id("sub", core.entropy)
    try:
        return _give(
            core,
            deployment_id,
            ref,
            subject_id=subject_id,
            now=now,
            terms=terms,
            rules=rules,
            operator_id=operator_id,
        )
    except BaseException:
        # The key store is written just before the main commit; if that commit failed, the
        # orphan key is destroyed so that nothing dangles.
        core.keyring.keystore.destroy(subject_id)
        raise


def _judge(
    core: Core,
    deployment_id: str,
    terms: ConsentTerms,
    *,
    now: datetime,
    operator_id: str | None,
) -> tuple[str, ...]:
    """The packs' verdict on this consent (notice shown, explicit, separate, guardian,
    written release); a refusal is recorded in the ledger and raised."""
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        notice = core.notice(s, dep.id)
        facts = ConsentFacts(
            notice_version=terms.notice_version or notice.version,
            notice_sha256=notice.sha256,
            purpose_sha256=sha256_hex(dep.purpose),
            given_at=now,
            expires_at=terms.expires_at,
            method=terms.method,
            subject_age=terms.subject_age,
            by_guardian=terms.by_guardian,
            egress=terms.egress,
            disclosure=terms.disclosure,
        )
        ctx = stored.context(s, dep, act=Act.GIVE_CONSENT, now=now, consent=facts)
        decision = decide(ctx, rules_for(packs_of(dep.jurisdiction)))
        try:
            decision.raise_if_denied()
        except PolicyDenied as err:
            core.record_denial(
                err,
                Event(
                    Kind.CONSENT_GIVEN,
                    now,
                    operator=dep.operator_id,
                    deployment=dep.id,
                    details={"method": terms.method, "notice_version": facts.notice_version},
                ),
            )
            raise
        return decision.rule_ids


def _give(
    core: Core,
    deployment_id: str,
    ref: str,
    *,
    subject_id: str,
    now: datetime,
    terms: ConsentTerms,
    rules: tuple[str, ...],
    operator_id: str | None,
) -> ConsentReceipt:
    with core.db.transaction() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        notice = core.notice(s, dep.id)
        if terms.notice_version is not None and terms.notice_version != notice.version:
            # the notice changed after _judge looked at it
            raise Conflict(
                "the notice changed while the consent was being recorded",
                advice="Show the person the current notice and record it again.",
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
                method=terms.method,
                given_at=now,
                expires_at=terms.expires_at,
                access_code_hash=access_code_hash(code),
                subject_age=terms.subject_age,
                by_guardian=terms.by_guardian,
                egress=terms.egress,
                disclosure=terms.disclosure,
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
                    method=terms.method,
                    given_at=now,
                    expires_at=terms.expires_at,
                )
            ),
            core.ledger.signing_key,
        )
        # The operator's copy outlives an erasure: it is the evidence of this consent.
        keep_receipt(
            s,
            consent_id=consent_id,
            deployment_id=dep.id,
            pseudonym=pseudonym,
            document=receipt,
            now=now,
        )
        recorded = core.record(
            s,
            Event(
                Kind.CONSENT_GIVEN,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=pseudonym,
                rule_ids=rules,
                details={
                    "consent_id": consent_id,
                    "notice_version": notice.version,
                    "notice_sha256": notice.sha256,
                    "method": terms.method,
                    "by_guardian": terms.by_guardian,
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
    """Erase the person the operator knows as ``subject_ref``."""
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        subject = core.subject(s, dep, subject_ref)
        if subject is None:
            raise NotFound("no such person in this deployment (already erased?)")
    return erase_subject(core, deployment_id, subject.id, reason=reason, kind=kind)


def erase_subject(
    core: Core, deployment_id: str, subject_id: str, *, reason: str, kind: Kind
) -> ErasureReceipt:
    """Delete the person's rows with a receipt event in one transaction, then shred the key."""
    now = core.clock()
    with core.db.transaction() as s:
        subject = s.get(t.Subject, subject_id)
        dep = s.get(t.Deployment, deployment_id)
        if subject is None or dep is None or subject.deployment_id != deployment_id:
            raise NotFound("no such person in this deployment (already erased?)")
        n = (
            s.scalar(
                select(func.count())
                .select_from(t.Template)
                .where(t.Template.subject_id == subject_id)
            )
            or 0
        )
        pseudonym = subject.pseudonym
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


def record_refusal(
    core: Core, deployment_id: str, *, method: str = "signed_form", operator_id: str | None
) -> str:
    """A person said no (CN-FR-12). Recorded anonymously: refusing must cost them nothing, so
    nothing about them is kept, and the deployment's non-face alternative stays open."""
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        event = Event(
            Kind.CONSENT_REFUSED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            details={"method": method, "alternative_offered": dep.alternative},
        )
        # The packs check the alternative really is open to them (CN-FR-10, CN-FR-12).
        rules = core.check(s, dep, None, act=Act.USE_ALTERNATIVE, event=event)
    with core.db.transaction() as s:
        recorded = core.record(
            s, replace(event, rule_ids=tuple(dict.fromkeys((*rules, "CN-FR-12"))))
        )
    return recorded[0].event_id
