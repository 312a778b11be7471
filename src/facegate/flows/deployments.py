"""Deployments (processing activities): registered as drafts, changed, ended.

Registration is judged by the packs (place, purpose, legal basis, capabilities, retention,
threshold) and stores a draft: nothing is processed, no notice is in force and nobody can
consent until a data protection officer signs the impact assessment (:mod:`flows.pia`), which
publishes the notice. Any change voids the signature and makes the deployment a draft again.
Ending a deployment (its purpose is met) erases everyone in it, with a receipt each.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.consent.notices import LANGUAGES, fields_of, plain_of
from facegate.core import Core
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows import registry
from facegate.flows.enforce import decide_or_refuse, enforce, require
from facegate.flows.facts import current_notice, deployment_facts
from facegate.ledger.events import Event, Kind
from facegate.policy import Act, Context, parse_jurisdiction
from facegate.policy.dates import add_years
from facegate.policy.facts import SCOPES
from facegate.policy.pia import KEPT_YEARS
from facegate.policy.registration import (
    Controller,
    check_capture,
    check_vocabulary,
    notice_draft,
    obligation_notes,
    registration_facts,
)
from facegate.recognition import MODEL_VERSION
from facegate.results import DeploymentInfo, EndReceipt, NoticeInfo
from facegate.specs import DeploymentSpec, build, missing_for
from facegate.storage import tables as t
from facegate.sync import feed
from facegate.templates import get_scheme


def create_deployment(core: Core, actor: Actor, spec: DeploymentSpec) -> DeploymentInfo:
    """Register a draft deployment, or refuse citing the rule (a ledgered refusal)."""
    require(actor, "manage_deployments", "register deployments")
    scheme = get_scheme(core.settings.templates.scheme)
    if spec.threshold is None:
        spec = spec.model_copy(update={"threshold": scheme.default_threshold})
    now = core.clock()
    dep_id = new_id("dep", core.entropy)
    with core.db.read() as s:
        op = _operator(s, actor.operator_id)
        caps = _judge(core, s, actor, spec, op=op, scheme=scheme.name, dep_id=None)
    protector, wrapped = core.keyring.new_deployment(dep_id, scheme.name)
    with core.db.transaction() as s:
        row = t.Deployment(
            id=dep_id,
            operator_id=actor.operator_id,
            threshold=spec.threshold,
            scheme=scheme.name,
            model_version=MODEL_VERSION,
            key_id=protector.key_id,
            wrapped_key=wrapped,
            status="draft",
            created_at=now,
        )
        registry.write(row, spec, capabilities=caps.capabilities)
        s.add(row)
        s.flush()  # the PIA refers to it
        _new_pia(core, s, row, spec, version=1, now=now)
        recorded = core.record(
            s,
            Event(
                Kind.DEPLOYMENT_CREATED,
                now,
                operator=actor.operator_id,
                deployment=dep_id,
                rule_ids=caps.rule_ids,
                by=actor.principal_id,
                details={
                    "record_sha256": registry.record_sha256(s, row),
                    "location_type": row.location_type,
                    "scheme": scheme.name,
                    "key_id": protector.key_id,
                    "capabilities": sorted(caps.capabilities),
                    "retention_days": spec.retention_days,
                    "status": "draft",
                },
            ),
        )
    notes = [*caps.notes, _draft_note(dep_id)]
    return get_deployment(core, actor, dep_id, event_id=recorded[0].event_id, notes=notes)


def change_deployment(
    core: Core, actor: Actor, deployment_id: str, changes: dict[str, Any]
) -> DeploymentInfo:
    """Change how a deployment works. The packs judge it again; the DPO's signature is void
    and processing stops until they sign again (a new notice version then asks everyone
    again, CN-PIPL-14)."""
    require(actor, "manage_deployments", "change deployments")
    unknown = sorted(set(changes) - registry.CHANGEABLE_FIELDS)
    if unknown:
        raise InvalidInput(
            f"cannot change {', '.join(unknown)}",
            advice="Changeable: " + ", ".join(sorted(registry.CHANGEABLE_FIELDS)) + ". A new "
            "jurisdiction or legal basis is a new deployment.",
        )
    if not changes:
        raise InvalidInput("nothing to change", advice="Name at least one field to change.")
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        if dep.status == "ended":
            raise Conflict("this deployment has ended; register a new one")
        pia = _latest_pia(s, dep.id)
        before = registry.spec_of(dep, None)
        spec = build(DeploymentSpec, {**before.model_dump(exclude={"pia"}), **changes})
        # capabilities are a set: the same ones in another order change nothing
        spec = spec.model_copy(update={"capabilities": sorted(set(spec.capabilities))})
        if spec == before:
            raise InvalidInput("nothing changes", advice="The values given are the current ones.")
        caps = _judge(
            core, s, actor, spec, op=_operator(s, dep.operator_id), scheme=dep.scheme, dep_id=dep.id
        )
        answers = dict(pia.body) if pia is not None else {}
    with core.db.transaction() as s:
        row = core.deployment(s, deployment_id, actor.operator_id)
        registry.write(row, spec, capabilities=caps.capabilities)
        row.status = "draft"
        latest = _latest_pia(s, row.id)
        version = (latest.version if latest is not None else 0) + 1
        _new_pia(core, s, row, spec, version=version, now=now, answers=answers)
        changed = sorted(k for k in changes if getattr(spec, k) != getattr(before, k))
        recorded = core.record(
            s,
            Event(
                Kind.DEPLOYMENT_CHANGED,
                now,
                operator=row.operator_id,
                deployment=row.id,
                rule_ids=caps.rule_ids,
                by=actor.principal_id,
                details={
                    "record_sha256": registry.record_sha256(s, row),
                    "changed": changed,
                    "capabilities": sorted(caps.capabilities),
                    "retention_days": spec.retention_days,
                    "status": "draft",
                },
            ),
        )
    notes = [*caps.notes, _draft_note(deployment_id)]
    return get_deployment(core, actor, deployment_id, event_id=recorded[0].event_id, notes=notes)


def end_deployment(core: Core, actor: Actor, deployment_id: str, *, reason: str) -> EndReceipt:
    """The purpose is met: erase every person (a receipt each), end processing for good."""
    from facegate.flows.erasure import erase_subject

    require(actor, "manage_deployments", "end deployments")
    reason = reason.strip()
    if not 10 <= len(reason) <= 500:
        raise InvalidInput("say why the deployment ends (10 to 500 characters)")
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        if dep.status == "ended":
            raise Conflict(f"deployment {deployment_id} has already ended")
        event = Event(Kind.DEPLOYMENT_ENDED, now, operator=dep.operator_id, deployment=dep.id)
        decision = enforce(core, s, dep, Act.END_DEPLOYMENT, replace(event, by=actor.principal_id))
        people = list(s.scalars(select(t.Subject.id).where(t.Subject.deployment_id == dep.id)))
    templates = 0
    for subject_id in people:
        receipt = erase_subject(
            core,
            deployment_id,
            subject_id,
            reason="deployment ended",
            act=Act.END_DEPLOYMENT,
            kind=Kind.ERASED,
            actor=actor,
        )
        templates += receipt.templates_erased
    with core.db.transaction() as s:
        row = core.deployment(s, deployment_id, actor.operator_id)
        row.status, row.ended_at = "ended", now
        feed.deployment_ended(s, deployment_id)
        recorded = core.record(
            s,
            replace(
                event,
                rule_ids=decision.rule_ids,
                by=actor.principal_id,
                details={
                    "record_sha256": registry.record_sha256(s, row),
                    "note_sha256": sha256_hex(reason),
                    "people_erased": len(people),
                    "templates_erased": templates,
                },
            ),
        )
    core.galleries.drop(deployment_id)
    core.caught_up()
    return EndReceipt(
        deployment_id=deployment_id,
        people_erased=len(people),
        templates_erased=templates,
        reason=reason,
        ended_at=now,
        event_id=recorded[0].event_id,
    )


def get_deployment(
    core: Core,
    actor: Actor,
    deployment_id: str,
    *,
    event_id: str = "",
    notes: list[str] | tuple[str, ...] = (),
) -> DeploymentInfo:
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        return _info(s, dep, event_id=event_id, notes=notes)


def list_deployments(core: Core, actor: Actor) -> list[DeploymentInfo]:
    with core.db.read() as s:
        rows = s.scalars(
            select(t.Deployment)
            .where(t.Deployment.operator_id == actor.operator_id)
            .order_by(t.Deployment.created_at, t.Deployment.id)
        )
        return [_info(s, d) for d in rows]


def notice(
    core: Core, deployment_id: str, *, actor: Actor | None, language: str = "en"
) -> NoticeInfo:
    """The notice in force in ``language`` ("en" or "zh-CN"): every field, then ``plain``.
    ``actor`` None reads it as the public does (every notice in force is public)."""
    if language not in LANGUAGES:
        raise InvalidInput(
            f"notices are published in {', '.join(LANGUAGES)}, not {language!r}",
            advice="Ask for one of those languages.",
        )
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id if actor else None)
        n = current_notice(s, dep)
        if n is None:
            raise NotFound(
                f"deployment {deployment_id} has no notice in force ({dep.status})",
                advice="A draft's notice is published when the DPO signs the impact "
                "assessment; 'facegate pia show' previews it.",
            )
        body = fields_of(n.body, language)
        plain = plain_of(n.body, language)
        if plain:
            body["plain"] = plain
        body["language"] = language if plain else "en"
        return NoticeInfo(deployment_id=dep.id, version=n.version, sha256=n.sha256, body=body)


# --- helpers ---------------------------------------------------------------------------------


class _Judged:
    def __init__(self, capabilities: frozenset[str], rule_ids: tuple[str, ...], notes: list[str]):
        self.capabilities, self.rule_ids, self.notes = capabilities, rule_ids, notes


def _judge(
    core: Core,
    s: Session,
    actor: Actor,
    spec: DeploymentSpec,
    *,
    op: t.Operator,
    scheme: str,
    dep_id: str | None,
) -> _Judged:
    """Check the spec's words, then have the packs judge the registration (a refusal is
    ledgered and raised)."""
    packs = parse_jurisdiction(spec.jurisdiction)
    missing_for(spec, packs)
    if spec.scope not in SCOPES and "cn" not in packs:  # under cn, CN-FR-2 judges it
        raise InvalidInput(f"unknown scope {spec.scope!r}", advice="application or research")
    caps = check_vocabulary(capabilities=spec.capabilities, legal_basis=spec.legal_basis)
    capture = check_capture(caps, spec.capture)
    threshold = spec.threshold
    if threshold is None or not math.isfinite(threshold):
        raise InvalidInput(
            "the threshold must be a finite number (or left out for the default)",
            advice="Leave it out for the calibrated default, or give one in the scheme's "
            "measured range (facegate policy explain ISO-30136).",
        )
    facts = registration_facts(
        purpose=spec.purpose,
        necessity=spec.necessity or "",
        legal_basis=spec.legal_basis,
        location=spec.location,
        alternative=spec.alternative,
        signage=spec.signage,
        jurisdiction=spec.jurisdiction,
        scope=spec.scope,
        capabilities=caps,
        capture=capture,
        retention_days=spec.retention_days,
        purpose_ends_at=spec.purpose_ends_at,
        egress=spec.egress,
        controller=Controller(op.name, op.contact, op.dpo),
        declarations=spec.declarations(),
        public_security=spec.public_security.facts() if spec.public_security else None,
        scheme=scheme,
        threshold=threshold,
        pia=None,
    )
    denied = Event(
        Kind.DEPLOYMENT_CREATED if dep_id is None else Kind.DEPLOYMENT_CHANGED,
        core.clock(),
        operator=op.id,
        deployment=dep_id,
        by=actor.principal_id,
        details={"location_type": spec.location, "stage": str(Act.REGISTER_DEPLOYMENT)},
    )
    notice_draft(facts, translations=spec.notice_translations)  # languages it can publish
    ctx = Context(Act.REGISTER_DEPLOYMENT, facts, core.clock())
    decision = decide_or_refuse(core, ctx, denied)
    return _Judged(caps, decision.rule_ids, obligation_notes(decision))


def _new_pia(
    core: Core,
    s: Session,
    row: t.Deployment,
    spec: DeploymentSpec,
    *,
    version: int,
    now: Any,
    answers: dict[str, object] | None = None,
) -> None:
    """An unsigned assessment of the deployment as it now stands: the answers people gave
    (at registration, or carried over from the last version for the DPO to revise)."""
    body: dict[str, object] = dict(answers or {})
    if spec.pia is not None:
        body.update(spec.pia.model_dump())
    body["necessity"] = spec.necessity or body.get("necessity") or ""
    facts = deployment_facts(s, row)
    s.add(
        t.Pia(
            id=new_id("pia", core.entropy),
            deployment_id=row.id,
            version=version,
            body=body,
            sha256="",
            purpose_sha256=facts.purpose_sha256,
            method_sha256=facts.method_sha256,
            drafted=False,
            confirmed_by="",
            completed_at=now,
            keep_until=add_years(now, KEPT_YEARS),
        )
    )


def _latest_pia(s: Session, deployment_id: str) -> t.Pia | None:
    return s.scalar(
        select(t.Pia)
        .where(t.Pia.deployment_id == deployment_id)
        .order_by(t.Pia.version.desc())
        .limit(1)
    )


def _info(
    s: Session,
    dep: t.Deployment,
    *,
    event_id: str = "",
    notes: list[str] | tuple[str, ...] = (),
) -> DeploymentInfo:
    n = current_notice(s, dep)
    pia = _latest_pia(s, dep.id)
    return registry.info(
        dep,
        notice_version=n.version if n is not None else 0,
        pia=pia if pia is not None and pia.signed_at is not None else None,
        event_id=event_id,
        notes=notes,
    )


def _operator(s: Session, operator_id: str) -> t.Operator:
    op = s.get(t.Operator, operator_id)
    if op is None:
        raise NotFound(f"no operator {operator_id!r}")
    return op


def _draft_note(dep_id: str) -> str:
    return (
        "draft: nothing is processed until a principal with the dpo role signs the impact "
        f"assessment ('facegate pia sign -d {dep_id} --necessity ...')"
    )


def all_live(core: Core) -> list[str]:
    """Ids of every live deployment of every operator (to warm their galleries)."""
    with core.db.read() as s:
        return list(s.scalars(select(t.Deployment.id).where(t.Deployment.status == "live")))
