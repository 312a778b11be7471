"""Facts read from the store: what the packs need about a stored deployment, its notice in
force, a person's consent, the latest self-check and the operator's scale.

This is the one adapter between rows and rules; every flow builds its
:class:`~facegate.policy.rules.Context` here, so every decision sees the same facts.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate.consent.notices import document_missing, has_plain, languages_of
from facegate.policy.facts import (
    CONTROLS,
    SEARCHING,
    ConsentFacts,
    Declarations,
    DeploymentFacts,
    NoticeFacts,
    PiaFacts,
    PublicSecurity,
    ScaleFacts,
    SystemFacts,
    method_sha256,
)
from facegate.policy.pia import missing_answers
from facegate.policy.rules import Act, Context
from facegate.storage import tables as t

__all__ = [
    "capabilities_of",
    "consent_facts",
    "context",
    "deployment_facts",
    "document_facts",
    "latest_system",
    "notice_facts",
    "pia_facts",
    "scale_facts",
]


def context(
    s: Session,
    dep: t.Deployment,
    act: Act,
    now: datetime,
    **facts: object,
) -> Context:
    """The context of ``act`` on ``dep``: its stored facts, its notice in force (none while a
    draft), the latest self-check, with whatever facts of the act the caller has."""
    notice = current_notice(s, dep)
    return Context(
        act=act,
        deployment=deployment_facts(s, dep),
        now=now,
        notice=notice_facts(notice) if notice is not None else None,
        system=latest_system(s),
        **facts,  # type: ignore[arg-type]
    )


def current_notice(s: Session, dep: t.Deployment) -> t.Notice | None:
    """The notice in force: the newest published version, unless the deployment is a draft
    (its next notice is published at sign-off) or has ended."""
    if dep.status != "live":
        return None
    return s.scalar(
        select(t.Notice)
        .where(t.Notice.deployment_id == dep.id)
        .order_by(t.Notice.version.desc())
        .limit(1)
    )


def deployment_facts(s: Session, dep: t.Deployment) -> DeploymentFacts:
    """Everything the packs may know about ``dep``."""
    op = s.get(t.Operator, dep.operator_id)
    pia = s.scalar(
        select(t.Pia).where(t.Pia.deployment_id == dep.id).order_by(t.Pia.version.desc()).limit(1)
    )
    caps = capabilities_of(dep)
    scope = dep.scope or "application"
    egress = bool(dep.egress)
    security = dep.public_security
    return DeploymentFacts(
        purpose=dep.purpose,
        necessity=dep.necessity,
        legal_basis=dep.legal_basis,
        location_type=dep.location_type,
        alternative=dep.alternative,
        signage=dep.signage,
        jurisdiction=dep.jurisdiction,
        purpose_sha256=sha256_hex(dep.purpose),
        scope=scope,
        capabilities=caps,
        capture=dep.capture if caps & SEARCHING else None,
        retention_days=dep.retention_days,
        purpose_ends_at=_aware(dep.purpose_ends_at),
        egress=egress,
        alternative_enabled=dep.alternative_enabled is not False,
        status=dep.status,
        controller=op.name if op else "",
        controller_contact=op.contact if op else "",
        dpo=op.dpo if op else "",
        method_sha256=method_sha256(
            location_type=dep.location_type,
            capabilities=caps,
            egress=egress,
            scope=scope,
            capture=dep.capture if caps & SEARCHING else None,
        ),
        pia=pia_facts(pia) if pia is not None else None,
        declarations=Declarations.from_dict(dep.declarations),
        public_security=PublicSecurity(**security) if isinstance(security, dict) else None,
        scheme=dep.scheme,
        threshold=dep.threshold,
    )


def capabilities_of(dep: t.Deployment) -> frozenset[str]:
    value: object = dep.capabilities
    if isinstance(value, str):  # some drivers hand JSON back as text
        value = json.loads(value)
    return frozenset(str(v) for v in value) if isinstance(value, list) else frozenset()


def pia_facts(row: t.Pia) -> PiaFacts:
    return PiaFacts(
        signed_at=_aware(row.signed_at),
        signed_by=row.signed_by or "",
        purpose_sha256=row.purpose_sha256,
        method_sha256=row.method_sha256,
        missing=tuple(missing_answers(row.body)),
    )


def notice_facts(row: t.Notice) -> NoticeFacts:
    return document_facts(row.version, row.sha256, row.body)


def document_facts(version: int, sha256: str, body: dict[str, object]) -> NoticeFacts:
    """Facts about a notice document (stored or about to be)."""
    return NoticeFacts(
        version=version,
        sha256=sha256,
        missing=document_missing(body),
        languages=languages_of(body),
        plain=has_plain(body),
    )


def consent_facts(row: t.Consent, *, held: bool = False) -> ConsentFacts:
    """A stored consent. What was not established when it was given reads as not given (a
    consent recorded before these facts were asked cannot pass the rules that need them).
    A person under a legal hold asked for erasure: their consent reads as withdrawn."""
    return ConsentFacts(
        notice_version=row.notice_version,
        notice_sha256=row.notice_sha256,
        purpose_sha256=row.purpose_sha256,
        given_at=_need_aware(row.given_at),
        expires_at=_aware(row.expires_at),
        method=row.method,
        separate=bool(row.separate),
        age_basis=row.age_basis or "",
        subject_age=row.subject_age,
        by_guardian=bool(row.by_guardian),
        guardian_identified=row.guardian_sealed is not None,
        form_sha256=row.form_sha256,
        withdrawn=held,  # a withdrawal erases the row; a hold keeps it, unusable
        egress=bool(row.egress),
        disclosure=bool(row.disclosure),
    )


def latest_system(s: Session) -> SystemFacts | None:
    """The latest self-check (None before the first)."""
    row = s.scalar(select(t.SelfCheck).order_by(t.SelfCheck.at.desc()).limit(1))
    if row is None:
        return None
    controls = dict(row.controls)
    return SystemFacts(
        controls={c: _tri(controls.get(c)) for c in CONTROLS},
        ledger_verified=bool(controls.get("ledger_verified")),
        keys_apart=bool(controls.get("keys_apart")),
        checked_at=_aware(row.at),
    )


def scale_facts(s: Session, operator_id: str) -> ScaleFacts:
    """People whose face data the operator holds now (a template stored), and the filing
    obligation in force (CN-FR-15)."""
    held = [  # protected and encrypted (issue 16) templates: a person counts once
        select(kept.subject_id)
        .join(t.Deployment, t.Deployment.id == kept.deployment_id)
        .where(
            t.Deployment.operator_id == operator_id,
            or_(t.Deployment.scope.is_(None), t.Deployment.scope != "research"),
        )
        for kept in (t.Template, t.EncryptedTemplate)
    ]
    union = held[0].union(held[1]).subquery()
    people = s.scalar(select(func.count()).select_from(union)) or 0
    filing = s.scalar(
        select(t.Filing)
        .where(t.Filing.operator_id == operator_id, t.Filing.cancelled_at.is_(None))
        .order_by(t.Filing.opened_at.desc())
        .limit(1)
    )
    if filing is None:
        return ScaleFacts(people_stored=people, clock_started_at=None, filed_at=None)
    owed = filing.pending in {"file", "amend"}
    return ScaleFacts(
        people_stored=people,
        clock_started_at=_aware(filing.pending_since) if owed else None,
        filed_at=None if owed else _aware(filing.submitted_at) or _aware(filing.updated_at),
    )


def _tri(value: object) -> bool | None:
    return None if value is None else bool(value)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _need_aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
