"""Consent, refusal and holds.

A consent records every fact the law weighs (how it was asked, the signed form's hash, the
age or an attestation of adulthood, the guardian, the notice version shown), is judged by the
packs, and creates the person's subject row, their data key and a signed receipt. Withdrawal
and erasure are in :mod:`flows.erasure`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate._internal.clock import Entropy
from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.consent.receipts import ReceiptFacts, access_code_hash, receipt_body, sign_receipt
from facegate.core import Core, aware, clean_ref
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.enforce import enforce, require
from facegate.flows.evidence import keep_receipt
from facegate.flows.facts import current_notice
from facegate.flows.sealing import seal_text
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import CONSENT_METHODS, METHOD_ALIASES, WRITTEN_METHODS, ConsentFacts
from facegate.results import ConsentReceipt
from facegate.specs import FIELD_RULES, ConsentTerms
from facegate.storage import tables as t

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class _Judged:
    method: str
    rule_ids: tuple[str, ...]
    expires_at: datetime
    notice_version: int


def give_consent(
    core: Core, actor: Actor, deployment_id: str, subject_ref: str, terms: ConsentTerms
) -> ConsentReceipt:
    require(actor, "record_consent", "record consents")
    ref = clean_ref(subject_ref)
    method = _method(terms)
    now = core.clock()
    judged = _judge(core, actor, deployment_id, terms, method=method, now=now)
    subject_id = new_id("sub", core.entropy)
    try:
        return _give(
            core,
            actor,
            deployment_id,
            ref=ref,
            subject_id=subject_id,
            terms=terms,
            judged=judged,
            now=now,
        )
    except IntegrityError:
        # two desks recorded the same person at once: the database's unique constraint
        # let one through (the key written for the other is destroyed below)
        core.keyring.keystore.destroy(subject_id)
        raise Conflict(
            "this person already holds a consent to this deployment",
            advice="Withdraw it first if they want to consent to a new notice.",
        ) from None
    except BaseException:
        # The key store is written just before the main commit; if that commit failed, the
        # orphan key is destroyed so that nothing dangles.
        core.keyring.keystore.destroy(subject_id)
        raise


def _held(
    s: Session, subject: t.Subject, notice: t.Notice, dep: t.Deployment, now: datetime
) -> Conflict:
    """The person holds a consent already: say whether it still counts, and the way on."""
    row = s.scalar(select(t.Consent).where(t.Consent.subject_id == subject.id))
    why = None
    if row is not None and row.expires_at is not None and aware(row.expires_at) <= now:
        why = f"expired on {aware(row.expires_at).date().isoformat()}"
    elif row is not None and (
        row.notice_sha256 != notice.sha256 or row.purpose_sha256 != sha256_hex(dep.purpose)
    ):
        why = "lapsed: the notice or purpose changed since (CN-PIPL-14)"
    if why is None:
        return Conflict(
            "this person already holds a consent to this deployment",
            advice="Withdraw it first if they want to consent to a new notice.",
        )
    return Conflict(
        f"this person's consent to this deployment {why}; the retention sweep erases them",
        advice="To go on now, withdraw it (this erases what is held about them), then record "
        "the new consent and enroll them again.",
    )


def _method(terms: ConsentTerms) -> str:
    """The consent's method and the facts that must come with it (named with their rule)."""
    method = METHOD_ALIASES.get(terms.method, terms.method)
    if method not in CONSENT_METHODS:
        raise InvalidInput(
            f"unknown consent method {terms.method!r}",
            advice="Written: signed_form, written_release, electronic_signature; or "
            "explicit_click, recorded_verbal.",
        )
    if method in WRITTEN_METHODS and terms.form_sha256 is None:
        raise InvalidInput(
            f"form_sha256 is required for a {method} consent ({FIELD_RULES['form_sha256']}):"
            " the SHA-256 of the signed form or e-signature record is the evidence it was signed",
            advice="Pass --form FILE (hashed here) or --form SHA256.",
        )
    if (terms.age is None) == (not terms.adult_attested):
        raise InvalidInput(
            f"give the person's age or their attestation of adulthood, one of them "
            f"({FIELD_RULES['age']}): a child under 14 needs a guardian's consent",
            advice="Pass --age N, or --adult-attested when the person attested being an adult.",
        )
    if terms.guardian is not None and terms.guardian_form_sha256 is None:
        raise InvalidInput(
            "guardian_form_sha256 is required with a guardian "
            f"({FIELD_RULES['guardian_form_sha256']}): the form the guardian signed",
            advice="Pass --guardian-form FILE_OR_SHA256.",
        )
    return method


def _judge(
    core: Core,
    actor: Actor,
    deployment_id: str,
    terms: ConsentTerms,
    *,
    method: str,
    now: datetime,
) -> _Judged:
    """The packs' verdict on this consent (notice shown, explicit, separate, guardian,
    written release, controller named); a refusal is ledgered and raised."""
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        notice = current_notice(s, dep)
        versions = (
            s.scalar(
                select(func.count()).select_from(t.Notice).where(t.Notice.deployment_id == dep.id)
            )
            or 0
        )
        if terms.notice_version is None and versions > 1:
            raise InvalidInput(
                f"notice_version is required: this deployment has published {versions} notice "
                f"versions ({FIELD_RULES['notice_version']})",
                advice="Pass the version the person was shown (--notice-version).",
            )
        shown = terms.notice_version or (notice.version if notice is not None else 0)
        expires = now + timedelta(days=dep.retention_days)
        if terms.expires_at is not None:
            if aware(terms.expires_at) <= now:
                raise InvalidInput(
                    "the consent's expiry is in the past",
                    advice="Give a future date (expires_at, ISO 8601), or leave it out.",
                )
            expires = min(expires, aware(terms.expires_at))
        facts = ConsentFacts(
            notice_version=shown,
            notice_sha256=notice.sha256 if notice is not None else "",
            purpose_sha256=sha256_hex(dep.purpose),
            given_at=now,
            expires_at=expires,
            method=method,
            separate=method != "bundled",
            age_basis="adult_attested" if terms.adult_attested else "stated_age",
            subject_age=terms.age,
            by_guardian=terms.guardian is not None,
            guardian_identified=terms.guardian is not None,
            form_sha256=terms.form_sha256,
            withdrawn=False,
            egress=terms.egress,
            disclosure=terms.disclosure,
        )
        event = Event(
            Kind.CONSENT_GIVEN,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            by=actor.principal_id,
            details={"method": method, "notice_version": shown},
        )
        decision = enforce(core, s, dep, Act.GIVE_CONSENT, event, now=now, consent=facts)
        return _Judged(method, decision.rule_ids, expires, shown)


def _give(
    core: Core,
    actor: Actor,
    deployment_id: str,
    *,
    ref: str,
    subject_id: str,
    terms: ConsentTerms,
    judged: _Judged,
    now: datetime,
) -> ConsentReceipt:
    with core.db.transaction() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        notice = current_notice(s, dep)
        if notice is None or notice.version != judged.notice_version:
            raise Conflict(
                "the notice changed while the consent was being recorded",
                advice="Show the person the current notice and record it again.",
            )
        held = core.subject(s, dep, ref)
        if held is not None:
            raise _held(s, held, notice, dep, now)
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
        s.flush()  # the consent row refers to it; a duplicate fails here (IntegrityError)
        consent_id = new_id("con", core.entropy)
        code = access_code(core.entropy)
        guardian = (
            seal_text(core, dep, subject_id, data_key, label="guardian", text=terms.guardian)
            if terms.guardian is not None
            else None
        )
        s.add(
            t.Consent(
                id=consent_id,
                subject_id=subject_id,
                deployment_id=dep.id,
                notice_version=notice.version,
                notice_sha256=notice.sha256,
                purpose_sha256=sha256_hex(dep.purpose),
                method=judged.method,
                given_at=now,
                expires_at=judged.expires_at,
                access_code_hash=access_code_hash(code),
                subject_age=terms.age,
                by_guardian=terms.guardian is not None,
                egress=terms.egress,
                disclosure=terms.disclosure,
                separate=judged.method != "bundled",
                age_basis="adult_attested" if terms.adult_attested else "stated_age",
                form_sha256=terms.form_sha256.lower() if terms.form_sha256 else None,
                guardian_sealed=guardian,
                guardian_form_sha256=(
                    terms.guardian_form_sha256.lower() if terms.guardian_form_sha256 else None
                ),
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
                    operator_email=op.email,
                    operator_address=op.address,
                    operator_url=op.url,
                    deployment_id=dep.id,
                    purpose=dep.purpose,
                    jurisdiction=dep.jurisdiction,
                    notice_version=notice.version,
                    notice_sha256=notice.sha256,
                    method=judged.method,
                    given_at=now,
                    expires_at=judged.expires_at,
                    third_party_disclosure=bool(dep.egress) and (terms.egress or terms.disclosure),
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
                rule_ids=judged.rule_ids,
                by=actor.principal_id,
                details={
                    "consent_id": consent_id,
                    "notice_version": notice.version,
                    "notice_sha256": notice.sha256,
                    "method": judged.method,
                    "separate": judged.method != "bundled",
                    "form_sha256": terms.form_sha256.lower() if terms.form_sha256 else None,
                    "age_basis": "adult_attested" if terms.adult_attested else "stated_age",
                    "by_guardian": terms.guardian is not None,
                    "guardian_form_sha256": terms.guardian_form_sha256,
                    "expires_at": judged.expires_at.isoformat(),
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


def access_code(entropy: Entropy) -> str:
    """20 Crockford base32 characters (100 bits) in groups of five, easy to read aloud."""
    n = int.from_bytes(entropy(13), "big") >> 4
    code = "".join(_CROCKFORD[(n >> (5 * i)) & 31] for i in range(20))
    return "-".join(code[i : i + 5] for i in range(0, 20, 5))


def record_refusal(core: Core, actor: Actor, deployment_id: str, *, method: str) -> str:
    """A person said no. Recorded anonymously: refusing must cost them nothing, so nothing
    about them is kept, and the deployment's non-face alternative stays open; the packs in
    force say which rules this rests on (CN-FR-12 under cn, EU-GDPR-9 under eu ...)."""
    require(actor, "record_consent", "record refusals")
    method = method.strip()
    if not 1 <= len(method) <= 40:
        raise InvalidInput("say how the refusal was made (1 to 40 characters), e.g. 'spoken'")
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        event = Event(
            Kind.CONSENT_REFUSED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            by=actor.principal_id,
            details={"method": method, "alternative_offered": dep.alternative},
        )
        decision = enforce(core, s, dep, Act.USE_ALTERNATIVE, event, now=now)
    with core.db.transaction() as s:
        recorded = core.record(
            s,
            Event(
                Kind.CONSENT_REFUSED,
                now,
                operator=event.operator,
                deployment=event.deployment,
                rule_ids=decision.rule_ids,
                by=actor.principal_id,
                details=event.details,
            ),
        )
    return recorded[0].event_id


def subject_row(core: Core, actor: Actor, deployment_id: str, subject_ref: str) -> t.Subject:
    """The person the operator knows as ``subject_ref`` in one of its deployments."""
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        subject = core.subject(s, dep, subject_ref)
        if subject is None:
            raise NotFound(
                "no such person in this deployment (never consented, or erased)",
                advice="Check the reference and the deployment; an erased person's "
                "receipt is in the ledger.",
            )
        s.expunge(subject)
        return subject
