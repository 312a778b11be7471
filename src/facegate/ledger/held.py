"""A deployment row is held to the record the ledger last committed to.

Every flow that changes a deployment (registration, change, the DPO's sign-off, its end)
stores the record as a document and commits its hash to the ledger (``record_sha256``; see
:mod:`.documents`). A row that differs from that record was changed outside facegate: with
write access to the database file and no key, ``threshold = 0`` would make every face a match.
:func:`hold_to_record` refuses such a row before it is used.

Fields the record does not hold (a column a later migration added) are not compared; a
deployment whose events commit to no record (none before the documents existed) is not held.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.orm import Session

from facegate.errors import RecordAltered
from facegate.ledger.documents import RECORD_FIELD, deployment_record
from facegate.storage import tables as t
from facegate.storage.tables.core import RECORD_KINDS_SQL

__all__ = ["hold_to_record"]

#: the newest record event of one deployment, through the partial index of migration 0016
_NEWEST: Final = text(
    "SELECT data FROM ledger_entries WHERE deployment_id = :d AND "
    f"{RECORD_KINDS_SQL} ORDER BY idx DESC LIMIT 1"
)
_DOCUMENT: Final = text("SELECT data FROM ledger_documents WHERE sha256 = :h")


def hold_to_record(s: Session, dep: t.Deployment) -> None:
    """Raise :class:`RecordAltered` unless ``dep`` holds what its last committed record says."""
    changed = _differences(s, dep)
    if changed and not s.is_modified(dep):
        # Under PostgreSQL's READ COMMITTED each statement sees the latest commit: a change
        # committed between reading the row and reading the ledger shows the old row beside
        # the new record. Read both again (the row holds nothing of this session's).
        s.refresh(dep)
        changed = _differences(s, dep)
    if changed:
        raise RecordAltered(
            f"deployment {dep.id} differs from the record the ledger committed to "
            f"({', '.join(changed)})"
        )


def _differences(s: Session, dep: t.Deployment) -> list[str]:
    committed = _committed_record(s, dep.id)
    if committed is None:
        return []
    now = deployment_record(dep)
    return sorted(k for k, v in committed.items() if k in now and not _same(now[k], v))


def _committed_record(s: Session, deployment_id: str) -> dict[str, Any] | None:
    leaf = s.execute(_NEWEST, {"d": deployment_id}).scalar()
    if leaf is None:
        return None
    digest = json.loads(bytes(leaf)).get("details", {}).get(RECORD_FIELD)
    if not isinstance(digest, str):
        return None
    known = _BODIES.get(digest)
    if known is not None:
        return known
    data = s.execute(_DOCUMENT, {"h": digest}).scalar()
    if data is None:
        raise RecordAltered(f"the record of deployment {deployment_id} the ledger names is gone")
    if hashlib.sha256(bytes(data)).hexdigest() != digest:
        raise RecordAltered("a deployment record does not hash to the value the ledger names")
    body: dict[str, Any] = dict(json.loads(bytes(data))["body"])
    if len(_BODIES) >= _MOST_BODIES:
        _BODIES.clear()
    _BODIES[digest] = body
    return body


#: record bodies already checked against their hash: a document is immutable, named by its
#: hash, so a deployment used again costs one indexed read of the ledger, not two
_BODIES: dict[str, dict[str, Any]] = {}
_MOST_BODIES: Final = 1024


def _same(now: object, then: object) -> bool:
    """Equal, counting two ISO times as equal when they are the same instant (a database
    may give back a time without its zone)."""
    if now == then:
        return True
    if isinstance(now, str) and isinstance(then, str):
        try:
            return _instant(now) == _instant(then)
        except ValueError:
            return False
    return False


def _instant(value: str) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
