"""Build ledgers and evidence bundles by hand, without a database, for the verifier's tests.

A forged log can hold what facegate itself would refuse to write (an enrollment without
consent), which is exactly what the offline verifier must flag.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from facegate._internal.canonical import canonical_json, sha256_hex
from facegate.consent.receipts import ReceiptFacts, receipt_body, sign_receipt
from facegate.ledger.checkpoint import Checkpoint, Cosigner, Signer, cosign_checkpoint
from facegate.ledger.checkpoint import sign_checkpoint as sign_note
from facegate.ledger.documents import document_bytes
from facegate.ledger.events import Event, Kind
from facegate.ledger.evidence import BundleParts, make_bundle
from facegate.ledger.hasher import hash_leaf
from facegate.ledger.head_lines import head_extensions
from facegate.ledger.index_hasher import bucket_of, key_hash
from facegate.ledger.index_proofs import index_proof
from facegate.ledger.index_tree import IndexBuilder
from facegate.ledger.proofs import inclusion_proof
from facegate.ledger.tree import MemoryNodeStore

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DEP = "dep_000000000000000000000001"
PURPOSE = "Residents open the compound gate by face"
NOTICE = {"processor": "Gatekeepers Ltd", "purpose": PURPOSE, "rights": "withdraw at any time"}
NOTICE_SHA = sha256_hex(canonical_json(NOTICE))
#: the deployment's registration record, committed by hash in deployment.created
RECORD = {
    "id": DEP,
    "name": "Gate",
    "purpose": PURPOSE,
    "legal_basis": "consent",
    "location_type": "residential",
}
OPERATOR = {"id": "op_forged", "name": "Gatekeepers Ltd", "contact": "dpo@gatekeepers.test"}


def document(kind: str, body: dict[str, object]) -> dict[str, object]:
    data = document_bytes(kind, body)
    return {"sha256": sha256_hex(data), "kind": kind, "body": body}


class ForgedLog:
    """An in-memory log signed with a fixed test key."""

    def __init__(self, origin: str = "court.test/ledger", seed: bytes = bytes(range(32))) -> None:
        self.signer = Signer.from_seed(origin, seed)
        self.store = MemoryNodeStore()
        self.leaves: list[bytes] = []
        self.consent_ids: dict[str, str] = {}
        self.index = IndexBuilder()
        self.documents: dict[str, dict[str, object]] = {}

    @property
    def key(self) -> str:
        return self.signer.verifier_key()

    def add(
        self,
        kind: Kind,
        minutes: int,
        *,
        subject: str | None = None,
        details: Mapping[str, object] | None = None,
        rules: tuple[str, ...] = (),
        deployment: str | None = DEP,
    ) -> int:
        event = Event(
            kind,
            T0 + timedelta(minutes=minutes),
            operator="op_forged",
            deployment=deployment,
            subject=subject,
            rule_ids=rules,
            details=dict(details or {}),
        )
        data = event.leaf_bytes(f"evt_{len(self.leaves):024x}")
        self.store.append([hash_leaf(data)])
        self.index.add_leaf(len(self.leaves), data)
        self.leaves.append(data)
        return len(self.leaves) - 1

    def record(self, kind: str, body: dict[str, object]) -> str:
        doc = document(kind, body)
        self.documents[str(doc["sha256"])] = doc
        return str(doc["sha256"])

    def deployment(self, *, records: bool = False) -> None:
        details: dict[str, object] = {"purpose_sha256": sha256_hex(PURPOSE)}
        if records:
            self.add(
                Kind.OPERATOR_CREATED,
                0,
                deployment=None,  # type: ignore[arg-type]
                details={"record_sha256": self.record("operator", OPERATOR)},
            )
            details["record_sha256"] = self.record("deployment", RECORD)
        self.add(Kind.DEPLOYMENT_CREATED, 0, details=details)
        self.add(Kind.NOTICE_PUBLISHED, 0, details={"version": 1, "notice_sha256": NOTICE_SHA})

    def consent(
        self,
        subject: str,
        minutes: int,
        *,
        expires: datetime | None = None,
        deployment: str = DEP,
        method: str = "signed_form",
    ) -> dict[str, object]:
        """A consent.given event and its signed receipt (returned)."""
        cid = f"con_{len(self.leaves):024x}"
        self.consent_ids[subject] = cid
        self.add(
            Kind.CONSENT_GIVEN,
            minutes,
            subject=subject,
            deployment=deployment,
            rules=("CN-FR-5", "CN-FR-6"),
            details={
                "consent_id": cid,
                "notice_version": 1,
                "notice_sha256": NOTICE_SHA,
                "method": "signed_form",
            },
        )
        facts = ReceiptFacts(
            receipt_id=cid,
            subject_pseudonym=subject,
            operator_name="Gatekeepers Ltd",
            operator_contact="dpo@gatekeepers.test",
            operator_email="dpo@gatekeepers.test",
            operator_address="1 Gate Road",
            operator_url="https://gatekeepers.test",
            deployment_id=deployment,
            purpose=PURPOSE,
            jurisdiction="cn",
            notice_version=1,
            notice_sha256=NOTICE_SHA,
            method=method,
            given_at=T0 + timedelta(minutes=minutes),
            expires_at=expires,
            third_party_disclosure=False,
        )
        return sign_receipt(receipt_body(facts), self.signer.private_key)

    def note(self, *, cosigners: Sequence[Cosigner] = (), indexed: bool = True) -> str:
        size = len(self.leaves)
        lines = head_extensions(index_root=self.index.root() if indexed else None, prev=0)
        note = sign_note(
            Checkpoint(self.signer.name, size, self.store.root(size), lines), self.signer
        )
        for c in cosigners:
            note = cosign_checkpoint(note, c, timestamp=1_772_355_600)
        return note

    def bundle(
        self,
        indices: Iterable[int] | None = None,
        *,
        receipts: Sequence[Mapping[str, Any]] = (),
        cosigners: Sequence[Cosigner] = (),
        scope: Mapping[str, str | None] | None = None,
        indexed: bool = True,
    ) -> dict[str, Any]:
        size = len(self.leaves)
        chosen = list(range(size) if indices is None else indices)
        scope = dict(scope or {"deployment": DEP})
        ((kind, value),) = [(k, v) for k, v in scope.items() if v is not None]
        key = key_hash(kind, str(value))
        named = {str(json.loads(self.leaves[i])["details"].get("record_sha256")) for i in chosen}
        return make_bundle(
            BundleParts(
                origin=self.signer.name,
                verifier_key=self.key,
                checkpoint=self.note(cosigners=cosigners, indexed=indexed),
                entries=[(self.leaves[i], inclusion_proof(i, size, self.store)) for i in chosen],
                scope=scope,
                created_at=T0 + timedelta(days=1),
                documents=[d for h, d in sorted(self.documents.items()) if h in named],
                completeness=index_proof(key, self.index.records(bucket_of(key)), self.index.tree())
                if indexed
                else None,
                witnesses=[c.verifier_key() for c in cosigners],
                notices=[{"deployment": DEP, "version": 1, "sha256": NOTICE_SHA, "body": NOTICE}],
                deployments=[
                    {
                        "id": DEP,
                        "name": "Gate",
                        "purpose": PURPOSE,
                        "operator": {"id": "op_forged", "name": "Gatekeepers Ltd"},
                    }
                ],
                receipts=receipts,
            )
        )


def enroll(log: ForgedLog, subject: str, minutes: int) -> int:
    return log.add(
        Kind.ENROLLED,
        minutes,
        subject=subject,
        details={"template_id": f"tpl_{minutes:024x}", "model_version": "dlib-resnet-v1"},
    )


def verify(log: ForgedLog, subject: str, minutes: int) -> int:
    return log.add(
        Kind.VERIFIED,
        minutes,
        subject=subject,
        details={"decision": "match", "score": 0.91, "threshold": 0.6},
    )


# --- single-value edits, for the "every edit is caught or shown as not authenticated" tests ---

Path = tuple[str | int, ...]


def scalar_paths(value: object, path: Path = ()) -> list[Path]:
    """The path of every single value (string, number, bool, null) in a JSON document."""
    if isinstance(value, dict):
        return [p for k in value for p in scalar_paths(value[k], (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in scalar_paths(v, (*path, i))]
    return [path]


def edited(bundle: Mapping[str, Any], path: Path) -> dict[str, Any]:
    """A deep copy of ``bundle`` with the value at ``path`` changed (same type where it can)."""
    copy = json.loads(json.dumps(bundle))
    node = copy
    for step in path[:-1]:
        node = node[step]
    old = node[path[-1]]
    if isinstance(old, bool):
        new: object = not old
    elif isinstance(old, int | float):
        new = old + 1
    elif isinstance(old, str):
        new = old[:-1] + ("x" if not old.endswith("x") else "y") if old else "x"
    else:
        new = "x"
    node[path[-1]] = new
    return copy


def authenticated_view(verdict: Any) -> tuple[str, dict[str, Any]]:
    """What a verdict presents as authenticated: its summary above the NOT AUTHENTICATED
    section, and its dict without the list of unauthenticated values."""
    from facegate.ledger.evidence_verdict import NOT_AUTHENTICATED

    text = verdict.summary().split(NOT_AUTHENTICATED)[0]
    data = verdict.to_dict()
    data.pop("unauthenticated")
    return text, data
