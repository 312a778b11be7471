"""The regulator console's logins: officials' names and Argon2id password hashes, kept in
the regulator's own database (``reg_meta``, one row per official: no new table), never the
password itself. The same rules as the operator console (:mod:`facegate.web.passwords`):
12 to 1024 characters, not the name; an unknown name costs the same hash as a wrong
password; the time a password was set ends every session issued before it.

    facegate regulator login --name "Inspector Zhou"      # prompts for the password
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from facegate.errors import InvalidInput, Unauthenticated
from facegate.regulator.common import RegCore
from facegate.regulator.tables import RegMeta
from facegate.web.passwords import MAX_LENGTH, WRONG, check_strength

PREFIX: Final = "web_login:"
#: the longest official's name (the row key holds the prefix and the folded name)
MAX_NAME: Final = 64 - len(PREFIX)
_HASHER: Final = PasswordHasher()
_DUMMY: Final = _HASHER.hash("facegate regulator: no such official")


@dataclass(frozen=True)
class Official:
    name: str
    password_set_at: datetime


def _key(name: str) -> str:
    folded = " ".join(name.split()).casefold()
    if not 1 <= len(folded) <= MAX_NAME:
        raise InvalidInput(f"an official's name has 1 to {MAX_NAME} characters")
    return PREFIX + folded


def set_login(core: RegCore, name: str, password: str) -> Official:
    """Create or replace the login of ``name``; returns when (which ends older sessions)."""
    key = _key(name)
    check_strength(password, name=name)
    now = core.now()
    value = json.dumps(
        {"name": " ".join(name.split()), "hash": _HASHER.hash(password), "set_at": now.isoformat()}
    ).encode()
    with core.db.transaction() as s:
        row = s.get(RegMeta, key)
        if row is None:
            s.add(RegMeta(key=key, value=value))
        else:
            row.value = value
    return Official(" ".join(name.split()), now)


def _read(core: RegCore, name: str) -> dict[str, str] | None:
    try:
        key = _key(name)
    except InvalidInput:
        return None
    with core.db.read() as s:
        row = s.get(RegMeta, key)
        found: dict[str, str] | None = json.loads(bytes(row.value)) if row is not None else None
        return found


def verify_login(core: RegCore, name: str, password: str) -> Official:
    """The official if ``password`` is theirs; :class:`Unauthenticated` otherwise, after the
    same Argon2 work whether the name or the password was wrong."""
    found = _read(core, name)
    try:
        _HASHER.verify(found["hash"] if found else _DUMMY, password[:MAX_LENGTH])
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise Unauthenticated(WRONG) from None
    if found is None:
        raise Unauthenticated(WRONG)
    return Official(found["name"], datetime.fromisoformat(found["set_at"]))


def still_valid(core: RegCore, name: str, stamp: str) -> Official | None:
    """The official a session acts for, unless their password changed since it began."""
    found = _read(core, name)
    if found is None or found["set_at"] != stamp:
        return None
    return Official(found["name"], datetime.fromisoformat(found["set_at"]))
