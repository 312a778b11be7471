"""Deployments (processing activities) and the notices people read before consenting."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.consent.notices import NoticeDraft, notice_hash
from facegate.core import Core, aware, packs_of
from facegate.errors import InvalidInput, NotFound, PolicyDenied
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, Context, DeploymentFacts, decide, rules_for
from facegate.policy.rules import LOCATION_TYPES
from facegate.recognition import MODEL_VERSION
from facegate.results import DeploymentInfo, NoticeInfo
from facegate.storage import tables as t
from facegate.templates import get_scheme

MAX_RETENTION_DAYS = 3650


def create_deployment(
    core: Core,
    *,
    operator_id: str,
    name: str,
    purpose: str,
    location: str,
    alternative: str,
    jurisdiction: str = "cn",
    threshold: float | None = None,
    necessity: str | None = None,
    legal_basis: str = "consent",
    retention_days: int = 365,
    signage: bool = False,
) -> DeploymentInfo:
    notes: list[str] = []
    name, purpose, alternative = name.strip(), purpose.strip(), alternative.strip()
    if not name:
        raise InvalidInput("a deployment needs a name")
    if location not in LOCATION_TYPES:
        raise InvalidInput(
            f"unknown location type {location!r}",
            advice="Choose one of: " + ", ".join(sorted(LOCATION_TYPES)),
        )
    if not 1 <= retention_days <= MAX_RETENTION_DAYS:
        raise InvalidInput(f"retention must be between 1 and {MAX_RETENTION_DAYS} days")
    scheme = get_scheme(core.settings.templates.scheme)
    if threshold is None:
        threshold = scheme.default_threshold
    elif not 0.0 < threshold < 1.0:
        raise InvalidInput(
            "the threshold is a similarity between 0 and 1",
            advice=f"The calibrated default is {scheme.default_threshold}.",
        )
    if necessity is None or not necessity.strip():
        necessity = (
            f"Face recognition is used only to: {purpose}. People who do not want "
            f"it can use: {alternative}."
        )
        notes.append("necessity statement drafted from the purpose and alternative; review it")
    necessity = necessity.strip()
    rules = rules_for(packs_of(jurisdiction))
    now = core.clock()
    facts = DeploymentFacts(
        purpose=purpose,
        necessity=necessity,
        legal_basis=legal_basis,
        location_type=location,
        alternative=alternative,
        signage=signage,
        jurisdiction=jurisdiction,
    )
    decision = decide(Context(act=Act.REGISTER_DEPLOYMENT, deployment=facts, now=now), rules)
    try:
        decision.raise_if_denied()
    except PolicyDenied as err:
        core.record_denial(
            err,
            Event(
                Kind.DEPLOYMENT_CREATED,
                now,
                operator=operator_id,
                details={"location_type": location},
            ),
        )
        raise
    dep_id = new_id("dep", core.entropy)
    protector, wrapped = core.keyring.new_deployment(dep_id, scheme.name)
    with core.db.transaction() as s:
        op = s.get(t.Operator, operator_id)
        if op is None:
            raise NotFound(f"no operator {operator_id!r}")
        s.add(
            t.Deployment(
                id=dep_id,
                operator_id=operator_id,
                name=name,
                purpose=purpose,
                necessity=necessity,
                legal_basis=legal_basis,
                location_type=location,
                signage=signage,
                jurisdiction=jurisdiction,
                retention_days=retention_days,
                alternative=alternative,
                threshold=threshold,
                scheme=scheme.name,
                model_version=MODEL_VERSION,
                key_id=protector.key_id,
                wrapped_key=wrapped,
                status="active",
                created_at=now,
            )
        )
        body = NoticeDraft(
            processor=op.name,
            contact=op.contact,
            purpose=purpose,
            necessity=necessity,
            retention_days=retention_days,
            alternative=alternative,
            location_type=location,
        ).body()
        digest = notice_hash(body)
        s.add(t.Notice(deployment_id=dep_id, version=1, body=body, sha256=digest, created_at=now))
        recorded = core.record(
            s,
            Event(
                Kind.DEPLOYMENT_CREATED,
                now,
                operator=operator_id,
                deployment=dep_id,
                rule_ids=decision.rule_ids,
                details={
                    "purpose_sha256": sha256_hex(purpose),
                    "location_type": location,
                    "scheme": scheme.name,
                    "key_id": protector.key_id,
                },
            ),
            Event(
                Kind.NOTICE_PUBLISHED,
                now,
                operator=operator_id,
                deployment=dep_id,
                details={"version": 1, "notice_sha256": digest},
            ),
        )
    return get_deployment(core, dep_id, event_id=recorded[0].event_id, notes=tuple(notes))


def get_deployment(
    core: Core,
    deployment_id: str,
    *,
    operator_id: str | None = None,
    event_id: str = "",
    notes: tuple[str, ...] = (),
) -> DeploymentInfo:
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        return _info(dep, core.notice(s, dep.id).version, event_id, notes)


def list_deployments(core: Core, *, operator_id: str | None = None) -> list[DeploymentInfo]:
    with core.db.read() as s:
        q = select(t.Deployment).order_by(t.Deployment.created_at, t.Deployment.id)
        if operator_id is not None:
            q = q.where(t.Deployment.operator_id == operator_id)
        return [_info(d, core.notice(s, d.id).version, "", ()) for d in s.scalars(q)]


def notice(core: Core, deployment_id: str, *, operator_id: str | None = None) -> NoticeInfo:
    with core.db.read() as s:
        core.deployment(s, deployment_id, operator_id)
        n = core.notice(s, deployment_id)
        return NoticeInfo(
            deployment_id=deployment_id,
            version=n.version,
            sha256=n.sha256,
            body={str(k): str(v) for k, v in n.body.items()},
        )


def _info(
    dep: t.Deployment, notice_version: int, event_id: str, notes: Sequence[str]
) -> DeploymentInfo:
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
        notes=tuple(notes),
    )
