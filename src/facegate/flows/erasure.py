"""Withdrawal, erasure, holds and per-person purpose ends.

Erasing a person deletes every row about them and destroys their data key (crypto-shredding);
the ledger keeps only pseudonymous events, now unlinkable to anyone. Each erasure is a decided
act, so its receipt cites the rules of the packs in force (CN-PIPL-15 under cn, EU-GDPR-17
under eu, US-IL-15a under us-il ...). The database commits first and the key is destroyed
right after; a crash in between leaves a key with no person, which the start-up sweep of
``serve`` destroys and ledgers (``flows.keys.sweep_orphan_keys``).
"""

from __future__ import annotations

from sqlalchemy import func, select

from facegate._internal.canonical import sha256_hex
from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.consents import subject_row
from facegate.flows.enforce import enforce, require
from facegate.ledger.events import Event, Kind
from facegate.policy import Act
from facegate.policy.facts import ERASURE_EXEMPTIONS
from facegate.results import ErasureReceipt
from facegate.storage import tables as t
from facegate.sync import feed

#: why a person was erased, as the ledger says it (free text is kept only as a hash)
REASONS = {
    Act.WITHDRAW: "consent withdrawn",
    Act.ERASE: "erasure requested",
    Act.EXPIRE: "retention period ended",
    Act.END_DEPLOYMENT: "deployment ended",
}
#: reasons facegate itself gives, written to the ledger as they are
SYSTEM_REASONS = frozenset(
    {
        *REASONS.values(),
        "the purpose ended for this person",
        "consent expired",
        "consent lapsed: the notice changed",
        "erasure requested by the person",
        "consent withdrawn by the person",
        "consent not carried over to the new deployment key: the notice changed after it was given",
    }
)


def withdraw(core: Core, actor: Actor, deployment_id: str, subject_ref: str) -> ErasureReceipt:
    """Withdrawal is as easy as consent, and erases everything held."""
    require(actor, "record_consent", "record withdrawals")
    subject = subject_row(core, actor, deployment_id, subject_ref)
    return erase_subject(
        core,
        deployment_id,
        subject.id,
        reason="consent withdrawn",
        act=Act.WITHDRAW,
        kind=Kind.CONSENT_WITHDRAWN,
        actor=actor,
    )


def erase(
    core: Core, actor: Actor, deployment_id: str, subject_ref: str, *, reason: str
) -> ErasureReceipt:
    require(actor, "erase", "erase people")
    subject = subject_row(core, actor, deployment_id, subject_ref)
    return erase_subject(
        core,
        deployment_id,
        subject.id,
        reason=reason,
        act=Act.ERASE,
        kind=Kind.ERASED,
        actor=actor,
    )


def end_purpose(core: Core, actor: Actor, deployment_id: str, subject_ref: str) -> ErasureReceipt:
    """This person's purpose has ended (they left the job, moved out): their face data goes
    now (Texas: within a year of the purpose's end, US-TX-503)."""
    require(actor, "erase", "end a person's purpose")
    subject = subject_row(core, actor, deployment_id, subject_ref)
    return erase_subject(
        core,
        deployment_id,
        subject.id,
        reason="the purpose ended for this person",
        act=Act.EXPIRE,
        kind=Kind.ERASED,
        actor=actor,
    )


def erase_subject(
    core: Core,
    deployment_id: str,
    subject_id: str,
    *,
    reason: str,
    act: Act,
    kind: Kind,
    actor: Actor | None,
) -> ErasureReceipt:
    """Delete the person's rows with a receipt event in one transaction, then shred the key."""
    now = core.clock()
    by = actor.principal_id if actor else None
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, None)
        subject = s.get(t.Subject, subject_id)
        if subject is None or subject.deployment_id != deployment_id:
            raise NotFound("no such person in this deployment (already erased?)")
        if subject.hold_ground and act in {Act.WITHDRAW, Act.ERASE}:
            raise Conflict(
                f"this person's data is held ({subject.hold_ground}); it is erased when the "
                "hold is released",
                advice="Nothing of theirs is processed meanwhile. Release the hold with "
                "'facegate hold release' once its ground ends.",
            )
        event = Event(
            kind, now, operator=dep.operator_id, deployment=dep.id, subject=subject.pseudonym, by=by
        )
        decision = enforce(core, s, dep, act, event, now=now)
    with core.db.transaction() as s:
        # lock the person: of two erasures at once, the second finds nobody
        subject = s.get(t.Subject, subject_id, with_for_update=True)
        if subject is None:
            raise NotFound("no such person in this deployment (already erased?)")
        n = sum(  # protected and encrypted (issue 16) templates alike
            s.scalar(select(func.count()).select_from(kept).where(kept.subject_id == subject_id))
            or 0
            for kept in (t.Template, t.EncryptedTemplate)
        )
        pseudonym = subject.pseudonym
        s.delete(subject)  # consents and templates go with it (ON DELETE CASCADE)
        feed.subject_removed(s, deployment_id, subject_id)
        details: dict[str, object] = {
            "templates_erased": n,
            "reason": reason if reason in SYSTEM_REASONS else REASONS.get(act, str(act)),
            "key_destroyed": True,
        }
        if reason and reason not in SYSTEM_REASONS:
            # an operator's own words may name people: the ledger keeps their hash only
            details["note_sha256"] = sha256_hex(reason)
        recorded = core.record(
            s,
            Event(
                kind,
                now,
                operator=dep.operator_id,
                deployment=deployment_id,
                subject=pseudonym,
                rule_ids=decision.rule_ids,
                details=details,
                by=by,
            ),
        )
    destroyed = core.keyring.keystore.destroy(subject_id)
    core.galleries.remove_subject(deployment_id, subject_id)  # at once, whatever the feed
    core.caught_up()
    return ErasureReceipt(
        deployment_id=deployment_id,
        templates_erased=n,
        key_destroyed=destroyed,
        reason=str(details["reason"]),
        erased_at=now,
        event_id=recorded[0].event_id,
    )


def hold(core: Core, actor: Actor, deployment_id: str, subject_ref: str, *, ground: str) -> str:
    """Keep a person's data past an erasure request on a legal ground (GDPR Art 17(3), PIPL
    Art 47): decided by the packs; nothing of theirs is processed while held."""
    require(actor, "supervise", "place legal holds")
    ground = ground.strip()
    if ground not in ERASURE_EXEMPTIONS:
        raise InvalidInput(
            f"unknown ground {ground!r}",
            advice="One of: " + ", ".join(sorted(ERASURE_EXEMPTIONS)),
        )
    subject = subject_row(core, actor, deployment_id, subject_ref)
    now = core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, actor.operator_id)
        event = Event(
            Kind.HOLD_PLACED,
            now,
            operator=dep.operator_id,
            deployment=dep.id,
            subject=subject.pseudonym,
            by=actor.principal_id,
            details={"ground": ground},
        )
        decision = enforce(core, s, dep, Act.HOLD, event, now=now, ground=ground)
    with core.db.transaction() as s:
        row = s.get(t.Subject, subject.id, with_for_update=True)
        if row is None:
            raise NotFound("no such person in this deployment (already erased?)")
        row.hold_ground = ground
        recorded = core.record(
            s,
            Event(
                Kind.HOLD_PLACED,
                now,
                operator=dep.operator_id,
                deployment=dep.id,
                subject=row.pseudonym,
                rule_ids=decision.rule_ids,
                by=actor.principal_id,
                details={"ground": ground, "held": True},
            ),
        )
    return recorded[0].event_id


def release_hold(core: Core, actor: Actor, deployment_id: str, subject_ref: str) -> str:
    require(actor, "supervise", "release legal holds")
    subject = subject_row(core, actor, deployment_id, subject_ref)
    now = core.clock()
    with core.db.transaction() as s:
        row = s.get(t.Subject, subject.id, with_for_update=True)
        if row is None or not row.hold_ground:
            raise Conflict("this person's data is not held")
        ground, row.hold_ground = row.hold_ground, None
        recorded = core.record(
            s,
            Event(
                Kind.HOLD_PLACED,
                now,
                operator=actor.operator_id,
                deployment=deployment_id,
                subject=row.pseudonym,
                by=actor.principal_id,
                details={"ground": ground, "held": False},
            ),
        )
    return recorded[0].event_id
