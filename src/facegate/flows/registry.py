"""A deployment's registration record: built from a spec, written to a row, read back.

The record is what the deployment declares to the law (and to a court): its canonical JSON
is ledgered by hash with every registration, change and sign-off, so that the facts an
evidence bundle shows about the deployment are authenticated by the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from facegate.core import aware
from facegate.ledger.documents import deployment_record, store_document
from facegate.results import DeploymentInfo
from facegate.specs import DeploymentSpec, PiaAnswers, PublicSecurityIn
from facegate.storage import tables as t

#: the fields a change may name (spec field names); anything else is refused
CHANGEABLE_FIELDS = frozenset(
    {
        "purpose",
        "capabilities",
        "capture",
        "location",
        "signage",
        "egress",
        "alternative",
        "retention_days",
        "threshold",
        "public_security",
        "purpose_ends_at",
        "risk_team",
        "accountable",
        "fairness_tested",
        "opt_out",
        "alternative_penalty",
        "law_enforcement",
        "liveness",
        "liveness_challenge",
        "unknown_alerts",
    }
)


def spec_of(dep: t.Deployment, answers: PiaAnswers | None) -> DeploymentSpec:
    """The spec a stored deployment was registered (or last changed) with."""
    declared = dict(dep.declarations or {})
    security = dep.public_security
    return DeploymentSpec(
        name=dep.name,
        purpose=dep.purpose,
        location=dep.location_type,
        alternative=dep.alternative,
        jurisdiction=dep.jurisdiction,
        legal_basis=dep.legal_basis,
        retention_days=dep.retention_days,
        capabilities=sorted(set(dep.capabilities or [])),
        signage=dep.signage,
        capture=dep.capture,
        scope=dep.scope or "application",
        egress=bool(dep.egress),
        purpose_ends_at=aware(dep.purpose_ends_at) if dep.purpose_ends_at else None,
        necessity=dep.necessity or None,
        threshold=dep.threshold,
        public_security=PublicSecurityIn(**security) if isinstance(security, dict) else None,
        risk_team=_opt_str(declared.get("risk_team")),
        accountable=_opt_str(declared.get("accountable")),
        fairness_tested=_opt_bool(declared.get("fairness_tested")),
        opt_out=_opt_bool(declared.get("opt_out")),
        alternative_penalty=_opt_bool(declared.get("alternative_penalty")),
        law_enforcement=_opt_bool(declared.get("law_enforcement")),
        liveness=bool(dep.liveness),
        liveness_challenge=bool(dep.liveness_challenge),
        unknown_alerts=bool(dep.unknown_alerts),
        notice_translations=dep.notice_translations,
        pia=answers,
    )


def write(row: t.Deployment, spec: DeploymentSpec, *, capabilities: Iterable[str]) -> None:
    """Write a spec's facts onto a deployment row (a new one, or one being changed)."""
    row.name = spec.name
    row.purpose = spec.purpose
    row.necessity = spec.necessity or ""
    row.legal_basis = spec.legal_basis
    row.location_type = spec.location
    row.signage = spec.signage
    row.jurisdiction = spec.jurisdiction
    row.retention_days = spec.retention_days
    row.alternative = spec.alternative
    row.scope = spec.scope
    row.capabilities = sorted(capabilities)
    row.capture = spec.capture
    row.egress = spec.egress
    row.alternative_enabled = True
    row.purpose_ends_at = spec.purpose_ends_at
    row.declarations = spec.declared()
    row.public_security = spec.public_security.model_dump() if spec.public_security else None
    row.liveness = spec.liveness
    row.liveness_challenge = spec.liveness_challenge
    row.unknown_alerts = spec.unknown_alerts
    row.notice_translations = spec.notice_translations


def record_sha256(s: Session, dep: t.Deployment) -> str:
    """Keep the deployment's record as it stands in this session, with its operator's, as
    documents the ledger commits to; returns the deployment record's hash for the event's
    ``record_sha256`` (the operator's is committed by its own events)."""
    s.flush()
    return store_document(s, "deployment", deployment_record(dep))


def info(
    dep: t.Deployment,
    *,
    notice_version: int,
    pia: t.Pia | None = None,
    event_id: str = "",
    notes: Sequence[str] = (),
) -> DeploymentInfo:
    """The public view of a deployment row."""
    return DeploymentInfo(
        id=dep.id,
        operator_id=dep.operator_id,
        name=dep.name,
        purpose=dep.purpose,
        necessity=dep.necessity,
        legal_basis=dep.legal_basis,
        location_type=dep.location_type,
        signage=dep.signage,
        jurisdiction=dep.jurisdiction,
        retention_days=dep.retention_days,
        alternative=dep.alternative,
        threshold=dep.threshold,
        scheme=dep.scheme,
        model_version=dep.model_version,
        status=dep.status,
        created_at=aware(dep.created_at),
        notice_version=notice_version,
        event_id=event_id,
        capabilities=tuple(sorted(dep.capabilities or [])),
        capture=dep.capture,
        scope=dep.scope or "application",
        signed_by=pia.signed_by if pia is not None else None,
        signed_at=aware(pia.signed_at) if pia is not None and pia.signed_at else None,
        notes=tuple(notes),
        liveness=bool(dep.liveness),
        liveness_challenge=bool(dep.liveness_challenge),
        unknown_alerts=bool(dep.unknown_alerts),
    )


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _opt_bool(value: object) -> bool | None:
    return None if value is None else bool(value)


def when(value: datetime | None) -> datetime | None:
    return aware(value) if value is not None else None
