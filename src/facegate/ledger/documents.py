"""Documents the ledger commits to by hash: how a fact that is too long for an event, or that
changes, becomes authenticated.

A flow that records an act whose facts a court will want to read (a deployment's registration
record, each change to it, an operator's name and contact) stores the document with
:func:`store_document` in its own transaction and puts the returned hash in the event's details
as ``record_sha256``::

    digest = store_document(s, "deployment", deployment_record(row))
    core.record(s, Event(Kind.DEPLOYMENT_CREATED, ..., details={..., "record_sha256": digest}))

The hash is SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of
``{"body": body, "kind": kind}``, so the kind is authenticated with the body. Storing is
idempotent. An evidence bundle carries every document its events name
(:func:`documents_named`), and the offline verifier prints a document's facts only once its hash
matches an authenticated event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.clock import utc_now
from facegate.storage import tables as t

__all__ = [
    "RECORD_FIELD",
    "deployment_record",
    "document_bytes",
    "documents_named",
    "operator_record",
    "store_document",
]

#: the event detail that names a document by its hash
RECORD_FIELD = "record_sha256"

#: what a deployment's record holds: every legally material fact a bundle shows about it
_DEPLOYMENT_FIELDS = (
    "id",
    "operator_id",
    "name",
    "purpose",
    "necessity",
    "legal_basis",
    "location_type",
    "signage",
    "jurisdiction",
    "retention_days",
    "alternative",
    "threshold",
    "scheme",
    "model_version",
    "scope",
    "capabilities",
    "egress",
    "alternative_enabled",
    "purpose_ends_at",
    "declarations",
    "status",
    "capture",
    "public_security",
    "liveness",
    "liveness_challenge",
    "unknown_alerts",
    "ended_at",
)


def document_bytes(kind: str, body: Mapping[str, Any]) -> bytes:
    """The exact bytes hashed: canonical JSON of ``{"body": body, "kind": kind}``.

    ``body`` must be plain JSON (no NaN, no dates: format them first); else ValueError.
    """
    if not isinstance(kind, str) or not kind or len(kind) > 40:
        raise ValueError("a document kind is a non-empty string of at most 40 characters")
    if not isinstance(body, Mapping):
        raise TypeError(f"a document body is a mapping, not {type(body).__name__}")
    try:
        return json.dumps(
            {"body": dict(body), "kind": kind},
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        ).encode()
    except (TypeError, ValueError) as err:
        raise ValueError(f"a {kind} document must be plain JSON: {err}") from None


def store_document(
    s: Session, kind: str, body: Mapping[str, Any], *, now: datetime | None = None
) -> str:
    """Keep a document in the caller's transaction; return its SHA-256 (hex) to put in the
    event's details as ``record_sha256``. Storing the same document again changes nothing."""
    data = document_bytes(kind, body)
    digest = hashlib.sha256(data).hexdigest()
    # (Session.get flushes first, so a document added earlier in this transaction is found.)
    if s.get(t.LedgerDocument, digest) is None:
        s.add(
            t.LedgerDocument(
                sha256=digest, kind=kind, data=data, created_at=now if now else utc_now()
            )
        )
    return digest


def documents_named(s: Session, digests: Iterable[str]) -> list[dict[str, Any]]:
    """The stored documents with these hashes, as a bundle carries them, ordered by hash.
    Hashes with no stored document are left out (the verifier then says so)."""
    wanted = sorted(set(digests))
    if not wanted:
        return []
    rows = s.execute(
        select(t.LedgerDocument.sha256, t.LedgerDocument.data).where(
            t.LedgerDocument.sha256.in_(wanted)
        )
    )
    out = []
    for digest, data in sorted(rows):
        doc = json.loads(bytes(data))
        out.append({"sha256": digest, "kind": doc["kind"], "body": doc["body"]})
    return out


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return value


def deployment_record(deployment: Any) -> dict[str, Any]:
    """A deployment's registration record (from its row), as the ledger should commit to it at
    creation and after every change. Key material and internal bookkeeping are left out."""
    return {
        name: _plain(getattr(deployment, name))
        for name in _DEPLOYMENT_FIELDS
        if hasattr(deployment, name)
    }


def operator_record(operator: Any) -> dict[str, Any]:
    """An operator's identity as the ledger should commit to it: who it is, how to reach it
    and its data protection officer."""
    return {
        name: _plain(getattr(operator, name))
        for name in ("id", "name", "contact", "dpo", "email", "address", "url")
        if hasattr(operator, name)
    }
