"""Facts read from the store: what :func:`~facegate.policy.engine.decide` needs about a
stored deployment, its current notice and a person's consent.

This is the one adapter between rows and rules. The flows of other acts build their
:class:`~facegate.policy.rules.Context` from these, so every decision sees the same facts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate.consent.notices import document_missing, has_plain, languages_of
from facegate.policy.facts import (
    DEFAULT_CAPABILITIES,
    ConsentFacts,
    Declarations,
    DeploymentFacts,
    IncidentFacts,
    NoticeFacts,
    PiaFacts,
    RecordFacts,
    RequestFacts,
    ReviewFacts,
    ScaleFacts,
    TransferFacts,
    method_sha256,
)
from facegate.policy.rules import Act, Context
from facegate.storage import tables as t


def context(
    s: Session,
    dep: t.Deployment,
    *,
    act: Act,
    now: datetime,
    consent: ConsentFacts | None = None,
    transfer: TransferFacts | None = None,
    review: ReviewFacts | None = None,
    incident: IncidentFacts | None = None,
    request: RequestFacts | None = None,
    record: RecordFacts | None = None,
    scale: ScaleFacts | None = None,
) -> Context:
    """The context of ``act`` on ``dep``: its full stored facts and its current notice, with
    whatever facts of the act the caller has."""
    notice = s.scalar(
        select(t.Notice)
        .where(t.Notice.deployment_id == dep.id)
        .order_by(t.Notice.version.desc())
        .limit(1)
    )
    return Context(
        act=act,
        deployment=deployment_facts(s, dep),
        now=now,
        consent=consent,
        current_notice_sha256=notice.sha256 if notice is not None else None,
        notice=notice_facts(notice) if notice is not None else None,
        transfer=transfer,
        review=review,
        incident=incident,
        request=request,
        record=record,
        scale=scale,
    )


def deployment_facts(s: Session, dep: t.Deployment) -> DeploymentFacts:
    """Everything the packs may know about ``dep`` (``complete``). Deployments registered
    before these facts were stored read as application scope, verify and identify, no
    egress, the alternative enabled, and no impact assessment (so they cannot process
    until one is recorded)."""
    op = s.get(t.Operator, dep.operator_id)
    pia = s.scalar(
        select(t.Pia).where(t.Pia.deployment_id == dep.id).order_by(t.Pia.version.desc()).limit(1)
    )
    caps = capabilities_of(dep)
    scope = dep.scope or "application"
    egress = bool(dep.egress)
    return DeploymentFacts(
        purpose=dep.purpose,
        necessity=dep.necessity,
        legal_basis=dep.legal_basis,
        location_type=dep.location_type,
        alternative=dep.alternative,
        signage=dep.signage,
        jurisdiction=dep.jurisdiction,
        purpose_sha256=sha256_hex(dep.purpose),
        complete=True,
        scope=scope,
        capabilities=caps,
        retention_days=dep.retention_days,
        purpose_ends_at=_aware(dep.purpose_ends_at),
        egress=egress,
        alternative_enabled=dep.alternative_enabled is not False,
        status=dep.status,
        controller=op.name if op else "",
        controller_contact=op.contact if op else "",
        method_sha256=method_sha256(
            location_type=dep.location_type, capabilities=caps, egress=egress, scope=scope
        ),
        pia=pia_facts(pia) if pia is not None else None,
        declarations=Declarations.from_dict(dep.declarations),
    )


def capabilities_of(dep: t.Deployment) -> frozenset[str]:
    value: object = dep.capabilities
    if isinstance(value, str):  # some drivers hand JSON back as text
        value = json.loads(value)
    caps = frozenset(str(v) for v in value) if isinstance(value, list) else DEFAULT_CAPABILITIES
    return caps


def pia_facts(row: t.Pia) -> PiaFacts:
    return PiaFacts(
        completed_at=_need_aware(row.completed_at),
        purpose_sha256=row.purpose_sha256,
        method_sha256=row.method_sha256,
        confirmed_by=row.confirmed_by,
        drafted=row.drafted,
    )


def notice_facts(row: t.Notice) -> NoticeFacts:
    return document_facts(row.version, row.sha256, row.body)


def document_facts(version: int, sha256: str, body: Mapping[str, object]) -> NoticeFacts:
    """Facts about a notice document (stored or about to be)."""
    return NoticeFacts(
        version=version,
        sha256=sha256,
        missing=document_missing(body),
        languages=languages_of(body),
        plain=has_plain(body),
    )


def consent_facts(row: t.Consent) -> ConsentFacts:
    """A stored consent; what was not asked when it was given reads as not given."""
    return ConsentFacts(
        notice_version=row.notice_version,
        notice_sha256=row.notice_sha256,
        purpose_sha256=row.purpose_sha256,
        given_at=_need_aware(row.given_at),
        expires_at=_aware(row.expires_at),
        method=row.method,
        subject_age=row.subject_age,
        by_guardian=bool(row.by_guardian),
        egress=bool(row.egress),
        disclosure=bool(row.disclosure),
    )


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _need_aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
