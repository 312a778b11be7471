"""Principals and their API keys: who acts for an operator, in which role.

Keys are random, shown once and stored as hashes; they belong to one principal, expire, say
when they were last used, can be listed and revoked, and may be scoped to one deployment.
Names are unique per operator whatever their case, so "r1" and "R1" are one person.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.actors import ROLES, Actor, Role
from facegate.core import Core, aware
from facegate.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthenticated
from facegate.flows.enforce import require
from facegate.ledger.events import Event, Kind
from facegate.results import ApiKeyInfo, IssuedApiKey, NewPrincipal, PrincipalInfo
from facegate.storage import tables as t

#: a key with no stated life lasts this long
DEFAULT_KEY_DAYS = 365
#: last use is written at most this often per key (a busy key must not write every request)
_LAST_USE_EVERY = timedelta(minutes=1)


# --- principals --------------------------------------------------------------------------------


def create_principal(
    core: Core, actor: Actor, name: str, role: str, *, _first: bool = False
) -> NewPrincipal:
    """A principal of the actor's operator, and its first API key (shown once)."""
    if not _first:
        require(actor, "manage_principals", "create principals")
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}", advice="Roles: " + ", ".join(ROLES))
    name = name.strip()
    if not name or len(name) > 200 or any(ord(c) < 32 for c in name):
        raise InvalidInput("a principal needs a name of 1 to 200 printable characters")
    now = core.clock()
    principal_id = new_id("pr", core.entropy)
    with core.db.transaction() as s:
        if s.get(t.Operator, actor.operator_id) is None:
            raise NotFound(f"no operator {actor.operator_id!r}")
        taken = s.scalar(
            select(t.Principal.id).where(
                t.Principal.operator_id == actor.operator_id,
                t.Principal.name_key == name.casefold(),
            )
        )
        if taken is not None:
            raise Conflict(
                f"a principal called {name!r} exists already (names ignore case)",
                advice="Each person gets one principal; choose a different name.",
            )
        row = add_principal(
            s,
            principal_id,
            actor.operator_id,
            name=name,
            role=role,
            now=now,
            created_by=actor.principal_id,
        )
        core.record(
            s,
            Event(
                Kind.PRINCIPAL_CREATED,
                now,
                operator=actor.operator_id,
                by=actor.principal_id,
                details={"principal": principal_id, "role": role},
            ),
        )
    me = Actor(principal_id, actor.operator_id, row_role(row), name)
    key = issue_api_key(core, me, label="first key")
    return NewPrincipal(principal=_principal(row), api_key=key)


def list_principals(core: Core, actor: Actor) -> list[PrincipalInfo]:
    require(actor, "read", "list principals")
    with core.db.read() as s:
        rows = s.scalars(
            select(t.Principal)
            .where(t.Principal.operator_id == actor.operator_id)
            .order_by(t.Principal.created_at, t.Principal.id)
        )
        return [_principal(r) for r in rows]


def revoke_principal(core: Core, actor: Actor, principal_id: str) -> PrincipalInfo:
    """Revoke a principal and every key of theirs; the last admin cannot be revoked."""
    require(actor, "manage_principals", "revoke principals")
    now = core.clock()
    with core.db.transaction() as s:
        row = s.get(t.Principal, principal_id) if len(principal_id) <= 40 else None
        if row is None or row.operator_id != actor.operator_id:
            raise NotFound(f"no principal {principal_id!r}")
        if row.revoked_at is not None:
            raise Conflict(f"principal {principal_id} is already revoked")
        if row.role == "admin" and _admins(s, actor.operator_id) <= 1:
            raise Conflict(
                "this is the operator's last admin; revoking it would lock everyone out",
                advice="Create another admin first.",
            )
        row.revoked_at = now
        for key in s.scalars(select(t.ApiKey).where(t.ApiKey.principal_id == row.id)):
            key.revoked_at = key.revoked_at or now
        core.record(
            s,
            Event(
                Kind.PRINCIPAL_REVOKED,
                now,
                operator=actor.operator_id,
                by=actor.principal_id,
                details={"principal": row.id},
            ),
        )
        return _principal(row)


# --- API keys ----------------------------------------------------------------------------------


def issue_api_key(
    core: Core,
    actor: Actor,
    *,
    principal_id: str | None = None,
    label: str = "",
    expires_days: int | None = None,
    deployment_id: str | None = None,
) -> IssuedApiKey:
    """A new key for ``principal_id`` (default: the actor); shown once, stored as a hash.
    Only an admin issues keys for someone else. ``deployment_id`` scopes the key to one
    deployment (a CompreFace-style service key)."""
    target = principal_id or actor.principal_id
    if target != actor.principal_id:
        require(actor, "manage_principals", "issue keys for other principals")
    days = DEFAULT_KEY_DAYS if expires_days is None else expires_days
    if not 1 <= days <= 3650:
        raise InvalidInput("a key lives 1 to 3650 days (--expires-days)")
    if len(label) > 200:
        raise InvalidInput("a key's label is at most 200 characters")
    now = core.clock()
    key_id = new_id("key", core.entropy)
    secret = "fg_" + core.entropy(24).hex()
    with core.db.transaction() as s:
        row = s.get(t.Principal, target) if len(target) <= 40 else None
        if row is None or row.operator_id != actor.operator_id or row.revoked_at is not None:
            raise NotFound(f"no active principal {target!r}")
        if deployment_id is not None:
            core.deployment(s, deployment_id, actor.operator_id)
        expires = _within_issuer(actor, target, now + timedelta(days=days), expires_days)
        s.add(
            t.ApiKey(
                id=key_id,
                operator_id=actor.operator_id,
                principal_id=target,
                key_hash=sha256_hex(secret),
                label=label.strip(),
                created_at=now,
                expires_at=expires,
                deployment_id=deployment_id,
            )
        )
        core.record(
            s,
            Event(
                Kind.API_KEY_ISSUED,
                now,
                operator=actor.operator_id,
                by=actor.principal_id,
                details={"key_id": key_id, "principal": target, "deployment": deployment_id},
            ),
        )
    return IssuedApiKey(
        id=key_id,
        operator_id=actor.operator_id,
        principal_id=target,
        key=secret,
        expires_at=expires,
        deployment_id=deployment_id,
    )


def _within_issuer(actor: Actor, target: str, expires: datetime, asked: int | None) -> datetime:
    """A key's key for its own principal ends by its end, or a stolen key would renew itself."""
    limit = actor.key_expires_at
    if limit is None or target != actor.principal_id or expires <= limit:
        return expires
    if asked is None:
        return limit
    raise Forbidden(
        f"a key cannot outlive the key that issues it (yours expires at {limit.isoformat()})",
        advice="Ask for fewer days; an admin, or the console (password), issues longer ones.",
    )


def list_api_keys(core: Core, actor: Actor) -> list[ApiKeyInfo]:
    """The actor's keys; an admin sees every key of the operator."""
    with core.db.read() as s:
        q = select(t.ApiKey).where(t.ApiKey.operator_id == actor.operator_id)
        if not actor.may("manage_principals"):
            q = q.where(t.ApiKey.principal_id == actor.principal_id)
        return [_key(r) for r in s.scalars(q.order_by(t.ApiKey.created_at, t.ApiKey.id))]


def revoke_api_key(core: Core, actor: Actor, key_id: str) -> ApiKeyInfo:
    now = core.clock()
    with core.db.transaction() as s:
        row = s.get(t.ApiKey, key_id) if len(key_id) <= 40 else None
        mine = row is not None and row.principal_id == actor.principal_id
        if (
            row is None
            or row.operator_id != actor.operator_id
            or not (mine or actor.may("manage_principals"))
        ):
            raise NotFound(f"no API key {key_id!r}")
        if row.revoked_at is None:
            row.revoked_at = now
            core.record(
                s,
                Event(
                    Kind.API_KEY_REVOKED,
                    now,
                    operator=actor.operator_id,
                    by=actor.principal_id,
                    details={"key_id": row.id},
                ),
            )
        return _key(row)


def authenticate(
    core: Core, api_key: str, *, deployment_id: str | None = None, whole_operator: bool = False
) -> Actor:
    """The principal an API key belongs to (with the key's end: see _within_issuer). Keys
    have 192 random bits, so a plain SHA-256 lookup is safe. A revoked or expired key, or a
    revoked principal, is refused; a key scoped to a deployment works only for it: another
    deployment does not exist for it, and with ``whole_operator`` (an act on no one
    deployment: principals, keys, lists, the ledger) it is Forbidden."""
    if not api_key or len(api_key) > 200:
        raise Unauthenticated("the API key is unknown, revoked or expired")
    now = core.clock()
    with core.db.read() as s:
        row = s.scalar(select(t.ApiKey).where(t.ApiKey.key_hash == sha256_hex(api_key)))
        principal = s.get(t.Principal, row.principal_id) if row and row.principal_id else None
        if (
            row is None
            or principal is None
            or row.revoked_at is not None
            or principal.revoked_at is not None
            or (row.expires_at is not None and aware(row.expires_at) <= now)
        ):
            raise Unauthenticated("the API key is unknown, revoked or expired")
        if row.deployment_id is not None and deployment_id not in (None, row.deployment_id):
            raise NotFound(f"no deployment {deployment_id!r}")
        if row.deployment_id is not None and deployment_id is None and whole_operator:
            raise Forbidden(
                f"this key is scoped to deployment {row.deployment_id}: it works only on that "
                "deployment's routes",
                advice="Use an unscoped key of a principal whose role allows this.",
            )
        stale = row.last_used_at is None or aware(row.last_used_at) < now - _LAST_USE_EVERY
        ends = aware(row.expires_at) if row.expires_at else None
        actor = Actor(
            principal.id, principal.operator_id, row_role(principal), principal.name, ends
        )
        key_id = row.id
    if stale:
        with core.db.transaction() as s:
            key = s.get(t.ApiKey, key_id)
            if key is not None:
                key.last_used_at = now
    return actor


def find_principal(core: Core, operator: str, name: str) -> Actor:
    """The active principal called ``name`` (any case) of the operator with this id or name;
    NotFound otherwise (the same answer whichever part is wrong)."""
    with core.db.read() as s:
        op = s.get(t.Operator, operator) if len(operator) <= 40 else None
        if op is None:
            op = s.scalar(
                select(t.Operator)
                .where(func.lower(t.Operator.name) == operator.strip().lower())
                .limit(1)
            )
        row = (
            s.scalar(
                select(t.Principal).where(
                    t.Principal.operator_id == op.id,
                    t.Principal.name_key == name.strip().casefold(),
                )
            )
            if op is not None
            else None
        )
        if row is None or row.revoked_at is not None:
            raise NotFound("no such principal")
        return Actor(row.id, row.operator_id, row_role(row), row.name)


def get_principal(core: Core, principal_id: str) -> Actor | None:
    """The principal with this id while active; None once revoked or unknown."""
    with core.db.read() as s:
        row = s.get(t.Principal, principal_id) if len(principal_id) <= 40 else None
        if row is None or row.revoked_at is not None:
            return None
        return Actor(row.id, row.operator_id, row_role(row), row.name)


def actor_of(core: Core, principal_id: str) -> Actor:
    """The actor a principal id stands for (its own credential was checked elsewhere)."""
    with core.db.read() as s:
        row = s.get(t.Principal, principal_id)
        if row is None or row.revoked_at is not None:
            raise Unauthenticated(f"no active principal {principal_id!r}")
        return Actor(row.id, row.operator_id, row_role(row), row.name)


# --- rows -------------------------------------------------------------------------------------


def row_role(row: t.Principal) -> Role:
    """The stored role, as the Role literal (checked at creation)."""
    if row.role not in ROLES:  # pragma: no cover - only valid roles are stored
        raise Unauthenticated(f"principal {row.id} has an unknown role")
    role: Role = row.role  # one of ROLES, checked above
    return role


def add_principal(
    s: Session,
    principal_id: str,
    operator_id: str,
    *,
    name: str,
    role: str,
    now: datetime,
    created_by: str | None,
) -> t.Principal:
    row = t.Principal(
        id=principal_id,
        operator_id=operator_id,
        name=name,
        name_key=name.casefold(),
        role=role,
        created_at=now,
        created_by=created_by,
    )
    s.add(row)
    s.flush()
    return row


def _admins(s: Session, operator_id: str) -> int:
    return (
        s.scalar(
            select(func.count())
            .select_from(t.Principal)
            .where(
                t.Principal.operator_id == operator_id,
                t.Principal.role == "admin",
                t.Principal.revoked_at.is_(None),
            )
        )
        or 0
    )


def _principal(row: t.Principal) -> PrincipalInfo:
    return PrincipalInfo(
        id=row.id,
        operator_id=row.operator_id,
        name=row.name,
        role=row.role,
        created_at=aware(row.created_at),
        revoked_at=aware(row.revoked_at) if row.revoked_at else None,
    )


def _key(row: t.ApiKey) -> ApiKeyInfo:
    return ApiKeyInfo(
        id=row.id,
        principal_id=row.principal_id or "",
        label=row.label,
        created_at=aware(row.created_at),
        expires_at=aware(row.expires_at) if row.expires_at else None,
        last_used_at=aware(row.last_used_at) if row.last_used_at else None,
        revoked_at=aware(row.revoked_at) if row.revoked_at else None,
        deployment_id=row.deployment_id,
    )
