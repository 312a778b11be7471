"""Console passwords: Argon2id hashes in ``web_logins``, never the password itself.

argon2-cffi's defaults follow RFC 9106's second recommended option (t=3, 64 MiB, p=4); a
hash made with weaker parameters is replaced at the next successful sign-in. A principal
without a password, or an unknown one, costs the same hash computation as a wrong password,
so response times do not reveal who has an account.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from facegate.core import aware
from facegate.errors import InvalidInput, Unauthenticated
from facegate.gate import Gate
from facegate.ledger.events import Event, Kind
from facegate.storage import tables as t

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024
_HASHER: Final = PasswordHasher()
#: verified against when there is no hash, so a miss takes as long as a mismatch
_DUMMY: Final = _HASHER.hash("facegate: no such login")
WRONG: Final = "the name or the password is wrong"


def check_strength(password: str, *, name: str = "") -> None:
    """NIST SP 800-63B style: long enough, not absurdly long, not the principal's name."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        raise InvalidInput(
            f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters",
            advice="A few unrelated words make a long password that is easy to remember.",
        )
    if name and password.strip().lower() == name.strip().lower():
        raise InvalidInput("the password must not be the name")


def set_password(gate: Gate, principal_id: str, password: str, *, name: str = "") -> datetime:
    """Set (or replace) a principal's password, ledgered with who set it: an admin who sets
    the DPO's password can then sign as the DPO, and the ledger shows that it could.
    Returns when, which also ends every console session issued before it."""
    check_strength(password, name=name)
    digest = _HASHER.hash(password)
    now = gate.core.clock()
    actor = gate.actor
    with gate.db.transaction() as s:
        row = s.get(t.WebLogin, principal_id)
        if row is None:
            s.add(t.WebLogin(principal_id=principal_id, password_hash=digest, updated_at=now))
        else:
            row.password_hash, row.updated_at = digest, now
        gate.core.record(
            s,
            Event(
                Kind.PASSWORD_SET,
                now,
                operator=actor.operator_id,
                by=actor.principal_id,
                details={"principal": principal_id, "replaced": row is not None},
            ),
        )
    return now


def verify_password(gate: Gate, principal_id: str | None, password: str) -> datetime:
    """When the principal's password was set, if ``password`` is it;
    :class:`Unauthenticated` otherwise (the same error whatever went wrong)."""
    row = None
    if principal_id is not None:
        with gate.db.read() as s:
            found = s.get(t.WebLogin, principal_id)
            if found is not None:
                row = (found.password_hash, aware(found.updated_at))
    try:
        _HASHER.verify(row[0] if row else _DUMMY, password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise Unauthenticated(WRONG) from None
    if row is None:  # matched the dummy: still no account
        raise Unauthenticated(WRONG)
    if _HASHER.check_needs_rehash(row[0]):
        with gate.db.transaction() as s:
            found = s.get(t.WebLogin, principal_id)
            if found is not None:
                found.password_hash = _HASHER.hash(password)
    return row[1]


def password_set_at(gate: Gate, principal_id: str) -> datetime | None:
    with gate.db.read() as s:
        row = s.get(t.WebLogin, principal_id)
        return aware(row.updated_at) if row is not None else None
