"""Deployments (processing activities), their impact assessments and their notices.

Registering a deployment runs two checks of its packs: registration (is this processing
allowed at all: place, purpose, legal basis, capabilities, retention) and go-live (is it
ready: an impact assessment covering this purpose and method, a complete bilingual notice,
an enabled alternative). Both pass, or nothing is stored and the refusal is a ledger event.
Where the caller says too little, safe defaults are filled in and each is named in
``DeploymentInfo.notes``; only a rule's denial stops a registration.

A change of method (capabilities, location, transfers) re-runs both checks with a new impact
assessment and publishes a new notice version, which voids earlier consents (CN-PIPL-14).
A new purpose is a new processing activity: it is registered as a new deployment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.consent.notices import LANGUAGES, fields_of, notice_hash, plain_of
from facegate.core import Core, aware, packs_of
from facegate.errors import InvalidInput, NotFound, PolicyDenied
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, Context, Decision, Declarations, DeploymentFacts, decide, rules_for
from facegate.policy.dates import add_years
from facegate.policy.pia import KEPT_YEARS, PiaDraft, assess, pia_sha256
from facegate.policy.registration import (
    changed_fields,
    check_retention,
    check_vocabulary,
    declared_capabilities,
    necessity_statement,
    notice_draft,
    obligation_notes,
    rebound,
    registration_facts,
    retention_days_for,
    rule_ids_of,
)
from facegate.policy.retention import PRODUCT_MAX_DAYS
from facegate.policy.rules import Rule
from facegate.policy.stored import deployment_facts, document_facts
from facegate.recognition import MODEL_VERSION
from facegate.results import DeploymentInfo, NoticeInfo
from facegate.storage import tables as t
from facegate.templates import get_scheme

MAX_RETENTION_DAYS = PRODUCT_MAX_DAYS


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
    legal_basis: str | None = None,
    retention_days: int | None = None,
    signage: bool = False,
    capabilities: Iterable[str] | None = None,
    scope: str = "application",
    egress: bool = False,
    purpose_ends_at: datetime | None = None,
    declarations: Declarations | None = None,
    pia: PiaDraft | None = None,
    confirmed_by: str | None = None,
    notice_translations: Mapping[str, Mapping[str, str]] | None = None,
) -> DeploymentInfo:
    """Register a deployment and take it live, or refuse citing the rule.

    ``capabilities`` declares what it does (default: verify and identify); ``pia`` is the
    operator's impact assessment (default: drafted from the other fields and confirmed by
    ``confirmed_by``, by default the operator running this); ``notice_translations`` gives
    the operator's own wording of purpose, necessity or alternative per notice language.
    """
    notes: list[str] = []
    name, purpose, alternative = name.strip(), purpose.strip(), alternative.strip()
    packs = packs_of(jurisdiction)
    rules = rules_for(packs)  # refuses unknown packs and an industry code alone
    if not name:
        raise InvalidInput("a deployment needs a name")
    check_vocabulary(location=location, scope=scope, legal_basis=legal_basis)
    caps = declared_capabilities(capabilities, notes)
    retention_days = retention_days_for(retention_days, packs, jurisdiction, notes)
    scheme = get_scheme(core.settings.templates.scheme)
    if threshold is None:
        threshold = scheme.default_threshold
    elif not 0.0 < threshold < 1.0:
        raise InvalidInput(
            "the threshold is a similarity between 0 and 1",
            advice=f"The calibrated default is {scheme.default_threshold}.",
        )
    necessity = necessity_statement(necessity, purpose, alternative, notes)
    if legal_basis is None:
        legal_basis = "consent"
        notes.append("legal basis: each person's separate, explicit consent")
    op = _operator(core, operator_id)
    declared = declarations or Declarations()
    if not declared.accountable.strip():
        declared = replace(declared, accountable=_who(op))
        if "ind-2019" in packs:
            notes.append(f"accountable: the operator, {_who(op)}")
    now = core.clock()
    facts = registration_facts(
        purpose=purpose,
        necessity=necessity,
        legal_basis=legal_basis,
        location=location,
        alternative=alternative,
        signage=signage,
        jurisdiction=jurisdiction,
        scope=scope,
        capabilities=caps,
        retention_days=retention_days,
        purpose_ends_at=purpose_ends_at,
        egress=egress,
        controller=op.name,
        controller_contact=op.contact,
        declarations=declared,
    )
    denied = Event(
        Kind.DEPLOYMENT_CREATED, now, operator=operator_id, details={"location_type": location}
    )
    registered = _decide(core, Context(Act.REGISTER_DEPLOYMENT, facts, now), rules, denied)
    confirmer = (confirmed_by or "").strip() or _who(op)
    assessment, pia_row_facts = assess(facts, pia=pia, confirmer=confirmer, now=now, notes=notes)
    facts = replace(facts, pia=pia_row_facts)
    draft = notice_draft(facts, retention_days=retention_days, translations=notice_translations)
    document = draft.document(1)
    digest = notice_hash(document)
    live = _decide(
        core,
        Context(Act.ACTIVATE_DEPLOYMENT, facts, now, notice=document_facts(1, digest, document)),
        rules,
        denied,
    )
    notes.extend(obligation_notes(registered, live))
    dep_id = new_id("dep", core.entropy)
    protector, wrapped = core.keyring.new_deployment(dep_id, scheme.name)
    with core.db.transaction() as s:
        if s.get(t.Operator, operator_id) is None:  # pragma: no cover - read above
            raise NotFound(f"no operator {operator_id!r}")
        s.add(
            t.Deployment(
                id=dep_id,
                operator_id=operator_id,
                name=name,
                purpose=purpose,
                necessity=facts.necessity,
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
                scope=scope,
                capabilities=sorted(caps),
                egress=egress,
                alternative_enabled=True,
                purpose_ends_at=purpose_ends_at,
                declarations=declared.to_dict(),
                activated_at=now,
            )
        )
        s.flush()  # the PIA and the notice refer to it
        pia_digest = _store_pia(
            s, core, deployment_id=dep_id, version=1, assessment=assessment, facts=facts, now=now
        )
        s.add(
            t.Notice(deployment_id=dep_id, version=1, body=document, sha256=digest, created_at=now)
        )
        recorded = core.record(
            s,
            Event(
                Kind.DEPLOYMENT_CREATED,
                now,
                operator=operator_id,
                deployment=dep_id,
                rule_ids=rule_ids_of(registered, live),
                details={
                    "purpose_sha256": sha256_hex(purpose),
                    "location_type": location,
                    "scheme": scheme.name,
                    "key_id": protector.key_id,
                    "scope": scope,
                    "capabilities": sorted(caps),
                    "egress": egress,
                    "method_sha256": facts.method_sha256,
                    "pia_sha256": pia_digest,
                    "pia_drafted": pia is None,
                    "pia_confirmed_by": pia_row_facts.confirmed_by,
                },
            ),
            Event(
                Kind.NOTICE_PUBLISHED,
                now,
                operator=operator_id,
                deployment=dep_id,
                details={"version": 1, "notice_sha256": digest, "languages": list(LANGUAGES)},
            ),
        )
    return get_deployment(core, dep_id, event_id=recorded[0].event_id, notes=tuple(notes))


def change_deployment(
    core: Core,
    deployment_id: str,
    *,
    operator_id: str | None = None,
    capabilities: Iterable[str] | None = None,
    location: str | None = None,
    signage: bool | None = None,
    egress: bool | None = None,
    alternative: str | None = None,
    necessity: str | None = None,
    retention_days: int | None = None,
    declarations: Declarations | None = None,
    pia: PiaDraft | None = None,
    confirmed_by: str | None = None,
) -> DeploymentInfo:
    """Change how a deployment works. Registration and go-live are checked again; a change
    of method needs a new impact assessment (``pia``, else drafted and confirmed as at
    registration); a new notice version is published, so every person must consent again.

    Called with no changes on a deployment registered before impact assessments were
    recorded, it records one and republishes the notice with every field now required.
    """
    notes: list[str] = []
    if location is not None:
        check_vocabulary(location=location, scope="application", legal_basis=None)
    if retention_days is not None:
        check_retention(retention_days)
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, operator_id)
        before = deployment_facts(s, dep)
        op = _operator_in(s, dep.operator_id)
        version = core.notice(s, dep.id).version + 1
        pia_version = (
            s.scalar(select(func.max(t.Pia.version)).where(t.Pia.deployment_id == dep.id)) or 0
        ) + 1
    caps = (
        before.capabilities if capabilities is None else declared_capabilities(capabilities, notes)
    )
    changed = replace(
        before,
        capabilities=caps,
        location_type=location if location is not None else before.location_type,
        signage=before.signage if signage is None else signage,
        egress=before.egress if egress is None else egress,
        alternative=before.alternative if alternative is None else alternative.strip(),
        necessity=before.necessity if necessity is None else necessity.strip(),
        retention_days=retention_days or before.retention_days,
        declarations=declarations or before.declarations,
    )
    changed = rebound(changed)
    if changed == before and pia is None and before.pia is not None:
        raise InvalidInput("nothing to change", advice="Pass at least one field to change.")
    rules = rules_for(packs_of(dep.jurisdiction))
    now = core.clock()
    denied = Event(
        Kind.NOTICE_PUBLISHED,
        now,
        operator=dep.operator_id,
        deployment=dep.id,
        details={"change": changed_fields(before, changed)},
    )
    registered = _decide(core, Context(Act.REGISTER_DEPLOYMENT, changed, now), rules, denied)
    assessment: PiaDraft | None = None
    if pia is not None or changed.method_sha256 != before.method_sha256 or before.pia is None:
        confirmer = (confirmed_by or "").strip() or _who(op)
        assessment, pia_facts = assess(changed, pia=pia, confirmer=confirmer, now=now, notes=notes)
        changed = replace(changed, pia=pia_facts)
    assert changed.retention_days is not None  # stored deployments always have one
    draft = notice_draft(changed, retention_days=changed.retention_days)
    document = draft.document(version)
    digest = notice_hash(document)
    live = _decide(
        core,
        Context(
            Act.ACTIVATE_DEPLOYMENT,
            changed,
            now,
            notice=document_facts(version, digest, document),
        ),
        rules,
        denied,
    )
    notes.extend(obligation_notes(registered, live))
    notes.append(f"notice v{version} published: every person must consent again (CN-PIPL-14)")
    with core.db.transaction() as s:
        row = core.deployment(s, deployment_id, operator_id)
        _apply(row, changed, now)
        details: dict[str, object] = {
            "version": version,
            "notice_sha256": digest,
            "languages": list(LANGUAGES),
            "change": changed_fields(before, changed),
            "method_sha256": changed.method_sha256,
        }
        if assessment is not None:
            details["pia_sha256"] = _store_pia(
                s,
                core,
                deployment_id=row.id,
                version=pia_version,
                assessment=assessment,
                facts=changed,
                now=now,
            )
        s.add(
            t.Notice(
                deployment_id=row.id, version=version, body=document, sha256=digest, created_at=now
            )
        )
        recorded = core.record(
            s,
            Event(
                Kind.NOTICE_PUBLISHED,
                now,
                operator=row.operator_id,
                deployment=row.id,
                rule_ids=rule_ids_of(registered, live),
                details=details,
            ),
        )
    return get_deployment(core, deployment_id, event_id=recorded[0].event_id, notes=tuple(notes))


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
        return deployment_info(
            dep, notice_version=core.notice(s, dep.id).version, event_id=event_id, notes=notes
        )


def list_deployments(core: Core, *, operator_id: str | None = None) -> list[DeploymentInfo]:
    with core.db.read() as s:
        q = select(t.Deployment).order_by(t.Deployment.created_at, t.Deployment.id)
        if operator_id is not None:
            q = q.where(t.Deployment.operator_id == operator_id)
        return [
            deployment_info(d, notice_version=core.notice(s, d.id).version) for d in s.scalars(q)
        ]


def notice(
    core: Core, deployment_id: str, *, operator_id: str | None = None, language: str = "en"
) -> NoticeInfo:
    """The current notice in ``language`` ("en" or "zh-CN"): every field, then ``plain``
    (the accessible version) and ``language``."""
    if language not in LANGUAGES:
        raise InvalidInput(
            f"notices are published in {', '.join(LANGUAGES)}, not {language!r}",
            advice="Ask for one of those languages.",
        )
    with core.db.read() as s:
        core.deployment(s, deployment_id, operator_id)
        n = core.notice(s, deployment_id)
        body = fields_of(n.body, language)
        plain = plain_of(n.body, language)
        if plain:
            body["plain"] = plain
        body["language"] = language if plain else "en"
        return NoticeInfo(
            deployment_id=deployment_id, version=n.version, sha256=n.sha256, body=body
        )


# --- helpers ---------------------------------------------------------------------------------


def _operator(core: Core, operator_id: str) -> t.Operator:
    with core.db.read() as s:
        return _operator_in(s, operator_id)


def _operator_in(s: Session, operator_id: str) -> t.Operator:
    op = s.get(t.Operator, operator_id)
    if op is None:
        raise NotFound(f"no operator {operator_id!r}")
    s.expunge(op)
    return op


def _who(op: t.Operator) -> str:
    return f"{op.name} ({op.contact})" if op.contact else f"{op.name} ({op.id})"


def _decide(core: Core, ctx: Context, rules: Sequence[Rule], denied: Event) -> Decision:
    """Decide; a refusal is recorded in the ledger (naming the stage) and raised."""
    decision = decide(ctx, rules)
    try:
        decision.raise_if_denied()
    except PolicyDenied as err:
        core.record_denial(err, replace(denied, details={**denied.details, "stage": str(ctx.act)}))
        raise
    return decision


def _apply(row: t.Deployment, facts: DeploymentFacts, now: datetime) -> None:
    """Write a changed deployment's facts back to its row."""
    row.scope = facts.scope
    row.capabilities = sorted(facts.capabilities)
    row.alternative_enabled = facts.alternative_enabled
    row.location_type = facts.location_type
    row.signage = facts.signage
    row.egress = facts.egress
    row.alternative = facts.alternative
    row.necessity = facts.necessity
    if facts.retention_days is not None:
        row.retention_days = facts.retention_days
    row.declarations = facts.declarations.to_dict()
    row.activated_at = now


def _store_pia(
    s: Session,
    core: Core,
    *,
    deployment_id: str,
    version: int,
    assessment: PiaDraft,
    facts: DeploymentFacts,
    now: datetime,
) -> str:
    assert facts.pia is not None
    body = assessment.body()
    digest = pia_sha256(body, facts)
    s.add(
        t.Pia(
            id=new_id("pia", core.entropy),
            deployment_id=deployment_id,
            version=version,
            body=dict(body),
            sha256=digest,
            purpose_sha256=facts.pia.purpose_sha256,
            method_sha256=facts.pia.method_sha256,
            drafted=facts.pia.drafted,
            confirmed_by=facts.pia.confirmed_by,
            completed_at=now,
            keep_until=add_years(now, KEPT_YEARS),
        )
    )
    return digest


def deployment_info(
    dep: t.Deployment, *, notice_version: int, event_id: str = "", notes: Sequence[str] = ()
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
        notes=tuple(notes),
    )
