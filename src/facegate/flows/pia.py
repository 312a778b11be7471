"""The impact assessment's sign-off: the data protection officer takes a deployment live.

A principal with the ``dpo`` role, under their own credential, writes the necessity
statement, answers (or confirms the answers people wrote for) every part of the assessment,
and signs. The packs judge go-live (CN-FR-9 / EU-GDPR-35, the notice's completeness, the
alternative ...); on success the notice is published (a new version asks everyone again)
and the signature is ledgered with the assessment's hash. Nothing here drafts an answer.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate.actors import Actor
from facegate.consent.notices import LANGUAGES, notice_hash
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput
from facegate.flows import registry
from facegate.flows.enforce import decide_or_refuse, require
from facegate.flows.facts import deployment_facts, document_facts, latest_system
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, Context, PiaFacts
from facegate.policy.pia import missing_answers, pia_sha256
from facegate.policy.registration import notice_draft, obligation_notes
from facegate.results import DeploymentInfo, PiaView
from facegate.specs import PiaAnswers
from facegate.storage import tables as t


def show(core: Core, actor: Actor, deployment_id: str) -> PiaView:
    """The assessment as it stands, and the notice signing it would publish."""
    require(actor, "read", "read impact assessments")
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        pia = _latest(s, dep.id)
        body = {k: str(v) for k, v in (pia.body if pia else {}).items()}
        facts = replace(deployment_facts(s, dep), necessity=body.get("necessity", ""))
        preview = notice_draft(facts, translations=dep.notice_translations).document(
            _next_version(s, dep.id)
        )
        return PiaView(
            deployment_id=dep.id,
            version=pia.version if pia else 0,
            status=dep.status,
            answers=body,
            missing=tuple(missing_answers(body)),
            signed_by=pia.signed_by if pia else None,
            signed_at=aware(pia.signed_at) if pia and pia.signed_at else None,
            notice_preview=preview,
        )


def sign(
    core: Core,
    actor: Actor,
    deployment_id: str,
    *,
    necessity: str,
    answers: PiaAnswers | None,
) -> DeploymentInfo:
    """Sign the assessment and take the deployment live, or refuse citing the rule."""
    require(actor, "sign_pia", "sign impact assessments (only a data protection officer may)")
    necessity = " ".join(necessity.split())
    if not necessity:
        raise InvalidInput(
            "the necessity statement is required (CN-FR-4): the DPO writes why face "
            "recognition is necessary for this purpose",
            advice="Pass --necessity 'why less intrusive means fall short ...'.",
        )
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        if dep.status != "draft":
            raise Conflict(
                f"deployment {deployment_id} is {dep.status}; only a draft awaits a signature",
                advice="Change the deployment first if its assessment must be redone.",
            )
        pia = _latest(s, dep.id)
        body: dict[str, object] = dict(pia.body) if pia else {}
        if answers is not None:
            body.update(answers.model_dump())
        body["necessity"] = necessity
        facts = replace(deployment_facts(s, dep), necessity=necessity)
        signed = PiaFacts(
            signed_at=now,
            signed_by=actor.principal_id,
            purpose_sha256=facts.purpose_sha256,
            method_sha256=facts.method_sha256,
            missing=tuple(missing_answers(body)),
        )
        facts = replace(facts, pia=signed, status="live")
        version = _next_version(s, dep.id)
        document = notice_draft(facts, translations=dep.notice_translations).document(version)
        digest = notice_hash(document)
        ctx = Context(
            Act.ACTIVATE_DEPLOYMENT,
            facts,
            now,
            notice=document_facts(version, digest, document),
            system=latest_system(s),
        )
        denied = Event(
            Kind.PIA_SIGNED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            by=actor.principal_id,
            details={"stage": str(Act.ACTIVATE_DEPLOYMENT)},
        )
        decision = decide_or_refuse(core, ctx, denied)
        pia_digest = pia_sha256(body, facts)
    with core.db.transaction() as s:
        row = core.deployment(s, deployment_id, actor.operator_id)
        pia_row = _latest(s, row.id)
        if row.status != "draft" or pia_row is None:
            raise Conflict("the deployment changed while it was being signed; sign again")
        pia_row.body, pia_row.sha256 = body, pia_digest
        pia_row.signed_by, pia_row.signed_at, pia_row.completed_at = actor.principal_id, now, now
        pia_row.confirmed_by = actor.name
        row.necessity, row.status, row.activated_at = necessity, "live", now
        s.add(
            t.Notice(
                deployment_id=row.id, version=version, body=document, sha256=digest, created_at=now
            )
        )
        s.flush()
        recorded = core.record(
            s,
            Event(
                Kind.PIA_SIGNED,
                now,
                operator=row.operator_id,
                deployment=row.id,
                rule_ids=decision.rule_ids,
                by=actor.principal_id,
                details={
                    "pia_version": pia_row.version,
                    "pia_sha256": pia_digest,
                    "necessity_sha256": sha256_hex(necessity),
                    "record_sha256": registry.record_sha256(s, row),
                },
            ),
            Event(
                Kind.NOTICE_PUBLISHED,
                now,
                operator=row.operator_id,
                deployment=row.id,
                by=actor.principal_id,
                details={"version": version, "notice_sha256": digest, "languages": list(LANGUAGES)},
            ),
        )
        notes = obligation_notes(decision)
        if version > 1:
            notes.append(
                f"notice v{version} published: every person must consent again "
                "(CN-PIPL-14); consents to earlier notices lapse at the next sweep"
            )
        info = registry.info(
            row, notice_version=version, pia=pia_row, event_id=recorded[0].event_id, notes=notes
        )
    return info


def _latest(s: Session, deployment_id: str) -> t.Pia | None:
    return s.scalar(
        select(t.Pia)
        .where(t.Pia.deployment_id == deployment_id)
        .order_by(t.Pia.version.desc())
        .limit(1)
    )


def _next_version(s: Session, deployment_id: str) -> int:
    latest = s.scalar(
        select(t.Notice.version)
        .where(t.Notice.deployment_id == deployment_id)
        .order_by(t.Notice.version.desc())
        .limit(1)
    )
    return (latest or 0) + 1
