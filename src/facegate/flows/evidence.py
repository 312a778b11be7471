"""Evidence export: one person's or one deployment's events, proven, in one bundle.

A person is found by the access code on their consent receipt (only its hash is stored) or,
once they are erased and that link is gone, by the pseudonym printed on the receipt
(``piiPrincipalId``), which is also what the ledger's events name. The bundle carries every
event naming the pseudonym (or the deployment), the deployment's creation and notice events and
its operator's events for context, the notice texts, the documents the events commit to, the
signed receipts, the proofs against one signed checkpoint (the newest one a witness cosigned if
it covers every event, else the newest one) and, from the verifiable index, the proof that
these are all the events about the person or deployment up to that checkpoint.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from facegate.consent.receipts import (
    ReceiptFacts,
    access_code_hash,
    receipt_body,
    sign_receipt,
    verify_receipt,
)
from facegate.core import Core, aware
from facegate.errors import InvalidInput, NotFound
from facegate.ledger import cosignatures, records
from facegate.ledger.documents import RECORD_FIELD, documents_named
from facegate.ledger.events import Kind
from facegate.ledger.evidence import BundleParts, make_bundle
from facegate.ledger.index_hasher import key_hash
from facegate.ledger.index_proofs import IndexProof
from facegate.ledger.proofs import inclusion_proof
from facegate.ledger.store import DbNodeReader
from facegate.storage import tables as t

#: events that describe a deployment itself, bundled with any person's events in it
_CONTEXT = (
    str(Kind.DEPLOYMENT_CREATED),
    str(Kind.DEPLOYMENT_CHANGED),
    str(Kind.PIA_SIGNED),
    str(Kind.NOTICE_PUBLISHED),
    str(Kind.DEPLOYMENT_ENDED),
)
#: events that describe an operator, bundled with its deployments' events
_OPERATOR_KINDS = (str(Kind.OPERATOR_CREATED), str(Kind.OPERATOR_UPDATED))
#: most entries the index is taken back through to prove at a witness-cosigned head
MAX_INDEX_LAG = 100_000


def keep_receipt(
    s: Session,
    *,
    consent_id: str,
    deployment_id: str,
    pseudonym: str,
    document: Mapping[str, object],
    now: datetime,
) -> None:
    """Keep the operator's copy of a signed receipt, in the consent's transaction, so that it
    can still be bundled after the person is erased (it holds no biometric data)."""
    s.add(
        t.ConsentReceiptCopy(
            consent_id=consent_id,
            deployment_id=deployment_id,
            pseudonym=pseudonym,
            document=dict(document),
            created_at=now,
        )
    )


def export(
    core: Core,
    *,
    access_code: str | None = None,
    pseudonym: str | None = None,
    deployment_id: str | None = None,
    receipts: Sequence[Mapping[str, Any]] = (),
    operator_id: str | None = None,
) -> dict[str, Any]:
    """The bundle (a JSON-ready dict) for one person or one deployment.

    ``receipts`` are receipts the person brings (their own copies); each must carry a valid
    signature by this log's key and name the person, and is bundled with the others. With
    ``operator_id``, only that operator's deployments and the people in them can be exported;
    anything else is answered as if the ledger held nothing about it.
    """
    if sum(x is not None for x in (access_code, pseudonym, deployment_id)) != 1:
        raise InvalidInput("name exactly one of: an access code, a pseudonym, a deployment")
    with core.db.read() as s:
        _one_snapshot(s)
        if access_code is not None:
            pseudonym = _holder(s, access_code)
        elif pseudonym is not None:
            pseudonym = pseudonym.strip()
        kind, value = (
            ("subject", pseudonym) if pseudonym is not None else ("deployment", deployment_id)
        )
        assert value is not None
        head = records.latest_head(s)
        entries, deployments = _scoped(s, kind, value, operator_id, head.size)
        size, completeness = _size_and_proof(
            core, s, head.size, entries[-1].index, key=key_hash(kind, value)
        )
        note, witnesses = cosignatures.cosigned_note(s, size)
        reader = DbNodeReader(s)
        proven = [(e.data, inclusion_proof(e.index, size, reader)) for e in entries]
        kept, notes = _receipts(core, s, pseudonym, deployments, receipts)
        named = _records_named(entries)
        order = {digest: n for n, digest in enumerate(named)}
        documents = sorted(documents_named(s, named), key=lambda d: order[d["sha256"]])
        return make_bundle(
            BundleParts(
                origin=core.ledger.origin,
                verifier_key=core.ledger.verifier_key,
                checkpoint=note,
                entries=proven,
                scope={kind: value},
                created_at=core.clock(),
                witnesses=witnesses,
                notices=_notices(s, deployments),
                deployments=[_deployment(s, d, documents) for d in deployments],
                receipts=kept,
                notes=notes,
                documents=documents,
                completeness=completeness,
            )
        )


def _scoped(
    s: Session, kind: str, value: str, operator_id: str | None, below: int
) -> tuple[list[records.StoredEntry], list[str]]:
    """The entries about the key, with their context, and the deployments they are in; the
    same NotFound whether nothing exists or it is not ``operator_id``'s."""
    entries = records.entries_about(s, below=below, **{kind: value})
    deployments = sorted({d for d in (_deployment_of(e.data) for e in entries) if d})
    owners = _owners(s, deployments, operator_id)
    if not entries or owners is None:
        raise NotFound(
            f"the ledger holds no event about {kind} {value}",
            advice="Check the pseudonym (piiPrincipalId on the receipt) or deployment id.",
        )
    context = deployments if kind == "subject" else []
    return _with_context(s, entries, context, owners, below), deployments


def _one_snapshot(s: Session) -> None:
    """Every read of the export sees one state of the database (SQLite's read transactions do
    already; PostgreSQL's default isolation would let an append land between two reads)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))


def _owners(s: Session, deployments: Sequence[str], operator_id: str | None) -> set[str] | None:
    """The operators of these deployments; None if ``operator_id`` may not see all of them
    (the caller is then told nothing exists, which names nothing of anyone else's)."""
    rows = s.execute(
        select(t.Deployment.id, t.Deployment.operator_id).where(t.Deployment.id.in_(deployments))
    ).all()
    owners = {op for _, op in rows}
    if len(rows) != len(deployments):
        return None
    if operator_id is not None and owners - {operator_id}:
        return None
    return owners


def _with_context(
    s: Session,
    entries: list[records.StoredEntry],
    deployments: Sequence[str],
    operators: set[str],
    below: int,
) -> list[records.StoredEntry]:
    """The entries plus what a court needs to read them: each deployment's creation and notices
    (for a person's bundle) and its operator's records (for any bundle)."""
    extra = [
        e
        for dep_id in deployments
        for e in records.entries_about(s, deployment=dep_id, kinds=_CONTEXT, below=below)
    ]
    extra += [
        e
        for e in records.entries_of_kinds(s, _OPERATOR_KINDS, below=below)
        if json.loads(e.data).get("operator") in operators
    ]
    return sorted({e.index: e for e in [*entries, *extra]}.values(), key=lambda e: e.index)


def _size_and_proof(
    core: Core, s: Session, latest: int, last_entry: int, *, key: bytes
) -> tuple[int, IndexProof | None]:
    """The tree size to prove everything in, and the completeness proof there.

    The newest head a witness cosigned, if it covers every entry and the index can be taken
    back to it cheaply; else the newest head. No proof when that head commits to no index
    (signed before the index existed) or the index is off.
    """
    index = core.ledger.index
    cosigned = cosignatures.latest_cosigned_size(s)
    if cosigned is not None and last_entry < cosigned and latest - cosigned <= MAX_INDEX_LAG:
        if index is None:
            return cosigned, None
        try:
            return cosigned, index.prove(s, key, cosigned)
        except NotFound:
            pass  # that head predates the index: the newest one may not
    if index is None:
        return latest, None
    try:
        return latest, index.prove(s, key, latest)
    except NotFound:
        return latest, None


def _records_named(entries: Sequence[records.StoredEntry]) -> list[str]:
    """The documents the entries commit to, in the order of the entries (a later record of
    a deployment, after a change, comes after the earlier one)."""
    named: dict[str, None] = {}
    for e in sorted(entries, key=lambda e: e.index):
        digest = json.loads(e.data).get("details", {}).get(RECORD_FIELD)
        if isinstance(digest, str):
            named[digest] = None
    return list(named)


def _holder(s: Session, code: str) -> str:
    row = s.execute(
        select(t.Subject.pseudonym)
        .join(t.Consent, t.Consent.subject_id == t.Subject.id)
        .where(t.Consent.access_code_hash == access_code_hash(code))
    ).first()
    if row is None:
        raise NotFound(
            "no consent holds this access code",
            advice="After erasure the code no longer leads anywhere: export by the pseudonym\n"
            "printed on the receipt (piiPrincipalId) instead.",
        )
    return str(row[0])


def _deployment_of(leaf: bytes) -> str | None:
    value = json.loads(leaf).get("deployment")
    return str(value) if value is not None else None


def _notices(s: Session, deployments: Sequence[str]) -> list[dict[str, Any]]:
    rows = s.scalars(
        select(t.Notice)
        .where(t.Notice.deployment_id.in_(deployments))
        .order_by(t.Notice.deployment_id, t.Notice.version)
    )
    return [
        {"deployment": n.deployment_id, "version": n.version, "sha256": n.sha256, "body": n.body}
        for n in rows
    ]


def _deployment(s: Session, dep_id: str, documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The operator's account of a deployment: its row, with every field that a bundled record
    states taken from the record (the log's version, as of the bundle's checkpoint)."""
    dep = s.get(t.Deployment, dep_id)
    assert dep is not None  # found above
    op = s.get(t.Operator, dep.operator_id)
    view: dict[str, Any] = {
        "id": dep.id,
        "name": dep.name,
        "purpose": dep.purpose,
        "necessity": dep.necessity,
        "legal_basis": dep.legal_basis,
        "location_type": dep.location_type,
        "jurisdiction": dep.jurisdiction,
        "alternative": dep.alternative,
    }
    operator = {
        "id": dep.operator_id,
        "name": op.name if op else None,
        "contact": op.contact if op else None,
    }
    for doc in documents:  # in the order of the events committing to them: the latest wins
        body = doc["body"]
        if doc["kind"] == "deployment" and body.get("id") == dep_id:
            view.update((k, body[k]) for k in view if k in body)
        elif doc["kind"] == "operator" and body.get("id") == dep.operator_id:
            operator.update((k, body[k]) for k in operator if k in body)
    view["operator"] = operator
    return view


def _receipts(
    core: Core,
    s: Session,
    pseudonym: str | None,
    deployments: Sequence[str],
    brought: Sequence[Mapping[str, Any]],
) -> tuple[list[dict[str, Any]], list[str]]:
    """Kept copies, receipts the person brought, and receipts re-issued from live consents."""
    q = select(t.ConsentReceiptCopy.consent_id, t.ConsentReceiptCopy.document)
    q = q.where(
        t.ConsentReceiptCopy.pseudonym == pseudonym
        if pseudonym is not None
        else t.ConsentReceiptCopy.deployment_id.in_(deployments)
    )
    found: dict[str, dict[str, Any]] = {cid: dict(doc) for cid, doc in s.execute(q)}
    notes: list[str] = []
    own = core.ledger.signing_key.public_key().public_bytes_raw()
    for doc in brought:
        body = verify_receipt(dict(doc))
        cid = str(body.get("consentReceiptID"))
        if body.get("publicKey") != _b64(own):
            raise InvalidInput(f"receipt {cid} was not signed by this operator's ledger key")
        if pseudonym is not None and body.get("piiPrincipalId") != pseudonym:
            raise InvalidInput(f"receipt {cid} is for another person")
        found.setdefault(cid, dict(doc))
    q2 = select(t.Consent, t.Subject.pseudonym).join(
        t.Subject, t.Subject.id == t.Consent.subject_id
    )
    q2 = q2.where(
        t.Subject.pseudonym == pseudonym
        if pseudonym is not None
        else t.Consent.deployment_id.in_(deployments)
    )
    for consent, who in s.execute(q2).all():
        if consent.id not in found:
            found[consent.id] = _reissue(core, s, consent, who)
            notes.append(f"receipt {consent.id} was re-issued from the consent record at export")
    return [found[k] for k in sorted(found)], notes


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _reissue(core: Core, s: Session, consent: t.Consent, pseudonym: str) -> dict[str, object]:
    """The receipt as signed at consent time: Ed25519 is deterministic, so the same facts and
    key give the same bytes as the copy the person holds."""
    dep = s.get(t.Deployment, consent.deployment_id)
    assert dep is not None
    op = s.get(t.Operator, dep.operator_id)
    assert op is not None
    facts = ReceiptFacts(
        receipt_id=consent.id,
        subject_pseudonym=pseudonym,
        operator_name=op.name,
        operator_contact=op.contact,
        operator_email=op.email,
        operator_address=op.address,
        operator_url=op.url,
        deployment_id=dep.id,
        purpose=dep.purpose,
        jurisdiction=dep.jurisdiction,
        notice_version=consent.notice_version,
        notice_sha256=consent.notice_sha256,
        method=consent.method,
        given_at=aware(consent.given_at),
        expires_at=aware(consent.expires_at) if consent.expires_at else None,
        third_party_disclosure=bool(dep.egress) and bool(consent.egress or consent.disclosure),
    )
    return sign_receipt(receipt_body(facts), core.ledger.signing_key)
