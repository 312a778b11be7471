"""The signed roster of consents a batch enrollment runs against.

Consents are given person by person through the normal door (``give_consent``); the roster is
the installation's signed statement of who, in one deployment, had a consent in force when it
was issued: the deployment id, the time, and the keyed lookup hashes of those people (never a
reference or a name), signed with the ledger's Ed25519 key. A batch enrolls only people on it,
and the door still decides each enrollment (a consent withdrawn since the roster was signed is
refused then, and the refusal ledgered). A roster edited by hand does not verify.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from sqlalchemy import or_, select

from facegate.core import Core
from facegate.errors import InvalidInput
from facegate.storage import tables as t

__all__ = ["Roster", "issue_roster", "open_roster"]

_KIND = "facegate-consent-roster/v1"


@dataclass(frozen=True)
class Roster:
    deployment_id: str
    issued_at: str
    refs: frozenset[str]
    sha256: str


def _body(deployment_id: str, issued_at: str, refs: list[str]) -> bytes:
    doc = {"kind": _KIND, "deployment": deployment_id, "issued_at": issued_at, "refs": refs}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def issue_roster(core: Core, deployment_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The signed roster of the people with a consent in force in ``deployment_id``."""
    at = now or core.clock()
    with core.db.read() as s:
        dep = core.deployment(s, deployment_id, None)
        refs = sorted(
            s.scalars(
                select(t.Subject.ref_hmac)
                .join(t.Consent, t.Consent.subject_id == t.Subject.id)
                .where(
                    t.Subject.deployment_id == dep.id,
                    or_(t.Consent.expires_at.is_(None), t.Consent.expires_at > at),
                )
            )
        )
    issued = at.isoformat()
    body = _body(dep.id, issued, refs)
    signature = core.ledger.signing_key.sign(body)
    return {
        "kind": _KIND,
        "deployment": dep.id,
        "issued_at": issued,
        "refs": refs,
        "signature": base64.b64encode(signature).decode(),
    }


def open_roster(core: Core, doc: dict[str, Any], deployment_id: str) -> Roster:
    """The roster in ``doc`` if this installation signed it for ``deployment_id``;
    :class:`InvalidInput` otherwise."""
    import hashlib

    try:
        refs = [str(r) for r in doc["refs"]]
        body = _body(str(doc["deployment"]), str(doc["issued_at"]), refs)
        signature = base64.b64decode(str(doc["signature"]), validate=True)
        if doc.get("kind") != _KIND:
            raise ValueError(doc.get("kind"))
        core.ledger.signing_key.public_key().verify(signature, body)
    except (KeyError, TypeError, ValueError, InvalidSignature):
        raise InvalidInput(
            "the roster is not one this installation signed, or it was altered",
            advice="Issue a fresh one with 'facegate campaign roster -d DEPLOYMENT --out FILE'.",
        ) from None
    if doc["deployment"] != deployment_id:
        raise InvalidInput(f"the roster is for deployment {doc['deployment']}, not {deployment_id}")
    return Roster(
        deployment_id, str(doc["issued_at"]), frozenset(refs), hashlib.sha256(body).hexdigest()
    )
