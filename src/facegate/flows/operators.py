"""Operators (the processors): who they are, as notices and receipts say.

The home's owner, who holds the master key, is the ``admin`` principal of the local operator
and acts when no key is given; only the owner creates further operators, each with a first
admin (:mod:`flows.principals`). The operator's public record (name, contact, DPO) is ledgered
by hash whenever it changes.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from facegate._internal.ids import new_id
from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import Forbidden, InvalidInput, NotFound
from facegate.flows.enforce import require
from facegate.flows.principals import add_principal, create_principal
from facegate.ledger.documents import operator_record, store_document
from facegate.ledger.events import Event, Kind
from facegate.results import NewPrincipal, OperatorInfo
from facegate.specs import OperatorProfile
from facegate.storage import tables as t

LOCAL_OPERATOR = "op_local"
OWNER = "pr_owner"


def owner(core: Core) -> Actor:
    """The home's owner: the local operator's admin."""
    return Actor(OWNER, LOCAL_OPERATOR, "admin", "owner")


def ensure_local_operator(core: Core) -> None:
    """The operator and owner principal the command line acts as without a key."""
    with core.db.transaction() as s:
        now = core.clock()
        if s.get(t.Operator, LOCAL_OPERATOR) is None:
            # no name: who the processor is, is a legal fact the operator states (CN-FR-5)
            s.add(t.Operator(id=LOCAL_OPERATOR, name="", contact="", created_at=now))
            s.flush()
            _record_created(core, s, s.get(t.Operator, LOCAL_OPERATOR), now=now, by=None)
        if s.get(t.Principal, OWNER) is None:
            add_principal(
                s, OWNER, LOCAL_OPERATOR, name="owner", role="admin", now=now, created_by=None
            )
            core.record(
                s,
                Event(
                    Kind.PRINCIPAL_CREATED,
                    now,
                    operator=LOCAL_OPERATOR,
                    details={"principal": OWNER, "role": "admin"},
                ),
            )


def create_operator(core: Core, actor: Actor, name: str, *, contact: str) -> NewPrincipal:
    """A new operator (a processor sharing this installation) with its first admin, whose key
    is returned once. Only the home's owner may create operators."""
    if actor.principal_id != OWNER:
        raise Forbidden(
            "only the installation's owner (who holds the master key) creates operators",
            advice="Run 'facegate operator create' on the host, without --key.",
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("an operator needs a name of 1 to 200 characters")
    now = core.clock()
    op_id = new_id("op", core.entropy)
    with core.db.transaction() as s:
        s.add(t.Operator(id=op_id, name=name, contact=contact.strip(), created_at=now))
        s.flush()
        _record_created(core, s, s.get(t.Operator, op_id), now=now, by=actor.principal_id)
    admin = Actor(OWNER, op_id, "admin", "owner")  # the owner seats the first admin
    return create_principal(core, admin, "admin", "admin", _first=True)


def operator_info(core: Core, actor: Actor) -> OperatorInfo:
    with core.db.read() as s:
        return _info(_operator(s, actor.operator_id))


def set_operator(core: Core, actor: Actor, profile: OperatorProfile) -> OperatorInfo:
    """Change what notices and receipts say about the operator; the new record is ledgered
    by hash. Deployments publish it at their next sign-off."""
    require(actor, "set_operator", "change the operator's identity or contact")
    now = core.clock()
    with core.db.transaction() as s:
        op = _operator(s, actor.operator_id)
        for field in ("name", "contact", "dpo", "email", "address", "url"):
            value = getattr(profile, field)
            if value is not None:
                setattr(op, field, value)
        s.flush()
        digest = store_document(s, "operator", operator_record(op), now=now)
        recorded = core.record(
            s,
            Event(
                Kind.OPERATOR_UPDATED,
                now,
                operator=op.id,
                by=actor.principal_id,
                details={"record_sha256": digest},
            ),
        )
        return _info(op, event_id=recorded[0].event_id)


def _record_created(
    core: Core, s: Session, op: t.Operator | None, *, now: datetime, by: str | None
) -> None:
    # The record is committed by hash from the first event, so a bundle can vouch for the
    # operator's name and contact even before anyone changes them.
    assert op is not None
    digest = store_document(s, "operator", operator_record(op), now=now)
    core.record(
        s,
        Event(Kind.OPERATOR_CREATED, now, operator=op.id, by=by, details={"record_sha256": digest}),
    )


def _operator(s: Session, operator_id: str) -> t.Operator:
    op = s.get(t.Operator, operator_id)
    if op is None:
        raise NotFound(f"no operator {operator_id!r}")
    return op


def _info(op: t.Operator, *, event_id: str = "") -> OperatorInfo:
    return OperatorInfo(
        id=op.id,
        name=op.name,
        contact=op.contact,
        dpo=op.dpo,
        email=op.email,
        address=op.address,
        url=op.url,
        event_id=event_id,
    )
