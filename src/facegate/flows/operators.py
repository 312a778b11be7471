"""Operators and their API keys (stored as hashes only)."""

from __future__ import annotations

from sqlalchemy import select

from facegate._internal.canonical import sha256_hex
from facegate._internal.ids import new_id
from facegate.core import Core
from facegate.errors import InvalidInput, NotFound, Unauthenticated
from facegate.ledger.events import Event, Kind
from facegate.results import IssuedApiKey, OperatorInfo
from facegate.storage import tables as t

LOCAL_OPERATOR = "op_local"


def ensure_local_operator(core: Core) -> None:
    """The operator the command line acts as."""
    with core.db.transaction() as s:
        if s.get(t.Operator, LOCAL_OPERATOR) is None:
            now = core.clock()
            s.add(t.Operator(id=LOCAL_OPERATOR, name="local operator", contact="", created_at=now))
            core.record(s, Event(Kind.OPERATOR_CREATED, now, operator=LOCAL_OPERATOR))


def create_operator(core: Core, name: str, *, contact: str = "") -> OperatorInfo:
    if not name.strip():
        raise InvalidInput("an operator needs a name")
    now = core.clock()
    op_id = new_id("op", core.entropy)
    with core.db.transaction() as s:
        s.add(t.Operator(id=op_id, name=name.strip(), contact=contact, created_at=now))
        core.record(s, Event(Kind.OPERATOR_CREATED, now, operator=op_id))
    return OperatorInfo(id=op_id, name=name.strip(), contact=contact)


def issue_api_key(core: Core, operator_id: str, *, label: str = "") -> IssuedApiKey:
    now = core.clock()
    key_id = new_id("key", core.entropy)
    secret = "fg_" + core.entropy(24).hex()
    with core.db.transaction() as s:
        if s.get(t.Operator, operator_id) is None:
            raise NotFound(f"no operator {operator_id!r}")
        s.add(
            t.ApiKey(
                id=key_id,
                operator_id=operator_id,
                key_hash=sha256_hex(secret),
                label=label,
                created_at=now,
            )
        )
        core.record(
            s, Event(Kind.API_KEY_ISSUED, now, operator=operator_id, details={"key_id": key_id})
        )
    return IssuedApiKey(id=key_id, operator_id=operator_id, key=secret)


def authenticate(core: Core, api_key: str) -> OperatorInfo:
    """The operator an API key belongs to. Keys have 192 random bits, so a plain SHA-256
    lookup is safe (no salt or slow hash needed: nothing to brute-force)."""
    with core.db.read() as s:
        row = s.scalar(select(t.ApiKey).where(t.ApiKey.key_hash == sha256_hex(api_key)))
        if row is None or row.revoked_at is not None:
            raise Unauthenticated("the API key is unknown or revoked")
        op = s.get(t.Operator, row.operator_id)
        if op is None:  # pragma: no cover - foreign key
            raise Unauthenticated("the API key's operator no longer exists")
        return OperatorInfo(id=op.id, name=op.name, contact=op.contact)
