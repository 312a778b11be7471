"""The web pages' session key: a random 32-byte secret of its own, kept only wrapped by the
installation's master key (like the ledger's signing key), never in clear.

Why not derive it from the ledger's signing key, as the first phase did: a key has one
job; the ledger key signs what courts rely on, and no cookie should ever depend on it.
Why not an HKDF of the master key itself: the master key may live in an HSM that never lets
it out; wrapping works there too (the token wraps and unwraps). Every process of the
installation reads the same row, so a session sealed by one opens in the others.

A master-key rotation keeps the sessions: a secret still wrapped by the previous master key
is re-wrapped under the current one at the next start. If it can no longer be opened at all
(the old master key is gone), a new secret is made, and everyone signs in again.
"""

from __future__ import annotations

import secrets
from typing import Final

from sqlalchemy.exc import IntegrityError

from facegate.errors import InvalidTemplate
from facegate.gate import Gate
from facegate.storage import tables as t

KEY: Final = "web_session_key"


def session_secret(gate: Gate) -> bytes:
    """The installation's session secret (made on first use)."""
    keyring = gate.core.keyring
    for _attempt in range(2):
        with gate.db.transaction() as s:
            row = s.get(t.Meta, KEY)
            if row is not None:
                try:
                    raw = keyring.unwrap_with_master(row.value, context=KEY)
                except InvalidTemplate:  # the master key that wrapped it is gone
                    raw = secrets.token_bytes(32)
                    row.value = keyring.wrap_with_master(raw, context=KEY)
                    return raw
                if not keyring.opens_with_current(row.value, context=KEY):
                    row.value = keyring.wrap_with_master(raw, context=KEY)  # after a rotation
                return raw
        raw = secrets.token_bytes(32)
        try:
            with gate.db.transaction() as s:
                s.add(t.Meta(key=KEY, value=keyring.wrap_with_master(raw, context=KEY)))
            return raw
        except IntegrityError:  # another process made it first: read theirs
            continue
    raise RuntimeError("the web session key could not be made or read")  # pragma: no cover
