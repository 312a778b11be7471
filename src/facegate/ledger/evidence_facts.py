"""Part of the offline verifier: which facts a bundle shows are authenticated, and which are not.

Standard library only. A fact is authenticated when the log vouches for it: it is a field of a
proven event, or of a document (``documents[]``) whose hash a proven event commits to as
``record_sha256``, or its hash is one a proven event commits to (a deployment's purpose). The
bundle's ``deployments[]`` section is the operator's own account: every field of it that an
authenticated source also states must agree (else the bundle is refused), and every other one is
listed as *not authenticated*, as are the bundle's creation time and the exporter's notes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from facegate.ledger.evidence_findings import BundleInvalid, ProvenEvent, canonical_json

RECORD_FIELD = "record_sha256"


@dataclass(frozen=True)
class Record:
    """A document whose hash a proven event commits to: its facts are authenticated."""

    sha256: str
    kind: str
    body: Mapping[str, Any]
    index: int  # the committing event's entry
    event_kind: str
    deployment: str | None
    operator: str | None


@dataclass(frozen=True)
class Facts:
    """Authenticated facts per deployment (field -> value, with where each comes from), the
    authenticated records, and every value shown that nothing authenticates."""

    deployments: Mapping[str, Mapping[str, Any]]
    sources: Mapping[str, Mapping[str, str]]
    records: tuple[Record, ...]
    unauthenticated: tuple[str, ...] = field(default_factory=tuple)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _records(
    data: Mapping[str, Any], events: Sequence[ProvenEvent]
) -> tuple[list[Record], list[str]]:
    """Check each bundled document's hash; keep those a proven event commits to."""
    committed = {str(e.details.get(RECORD_FIELD)): e for e in events if e.details.get(RECORD_FIELD)}
    records: list[Record] = []
    loose: list[str] = []
    for n, doc in enumerate(data.get("documents") or []):
        if not isinstance(doc, Mapping) or not isinstance(doc.get("body"), dict):
            raise BundleInvalid(f"document #{n} has no body")
        digest = _sha(canonical_json({"body": doc["body"], "kind": doc.get("kind")}))
        if digest != doc.get("sha256"):
            raise BundleInvalid(
                f"document #{n} ({doc.get('kind')}) was altered: it hashes to {digest}"
            )
        ev = committed.get(digest)
        if ev is None:
            loose.append(
                f"documents[{n}] ({doc.get('kind')}, {digest}): no event here commits to it"
            )
            continue
        records.append(
            Record(
                digest, str(doc["kind"]), doc["body"], ev.index, ev.kind, ev.deployment, ev.operator
            )
        )
    return sorted(records, key=lambda r: r.index), loose


def _authenticated(
    events: Sequence[ProvenEvent], records: Sequence[Record]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, str]]]:
    """Per deployment: every fact the log vouches for, later sources over earlier ones."""
    facts: dict[str, dict[str, Any]] = {}
    sources: dict[str, dict[str, str]] = {}

    def put(dep: str, name: str, value: Any, source: str) -> None:
        facts.setdefault(dep, {})[name] = value
        sources.setdefault(dep, {})[name] = source

    # An operator's record is keyed by the operator its event names (the log's word), the
    # latest one winning: a record naming someone else proves nothing about this operator.
    records = sorted(records, key=lambda r: r.index)  # a later record (a change) wins
    operators = {
        r.operator: r
        for r in records
        if r.kind == "operator" and r.body.get("id", r.operator) == r.operator
    }
    for ev in events:
        if ev.kind != "deployment.created" or ev.deployment is None:
            continue
        put(ev.deployment, "id", ev.deployment, f"entry #{ev.index}")
        if ev.operator is not None:
            put(ev.deployment, "operator.id", ev.operator, f"entry #{ev.index}")
            op = operators.get(ev.operator)
            for name in ("name", "contact", "dpo"):
                if op is not None and name in op.body:
                    put(
                        ev.deployment, f"operator.{name}", op.body[name], f"record {op.sha256[:16]}"
                    )
        if "location_type" in ev.details:
            put(ev.deployment, "location_type", ev.details["location_type"], f"entry #{ev.index}")
        if "purpose_sha256" in ev.details:
            put(ev.deployment, "purpose_sha256", ev.details["purpose_sha256"], f"entry #{ev.index}")
    for r in records:
        if r.kind == "deployment" and r.deployment is not None:
            for name, value in r.body.items():
                put(r.deployment, name, value, f"record {r.sha256[:16]} (entry #{r.index})")
    return facts, sources


def _flatten(d: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in d.items():
        if name == "operator" and isinstance(value, Mapping):
            out.update({f"operator.{k}": v for k, v in value.items()})
        else:
            out[name] = value
    return out


def _cross_check(
    data: Mapping[str, Any], facts: dict[str, dict[str, Any]], sources: dict[str, dict[str, str]]
) -> list[str]:
    """Every field of ``deployments[]`` must agree with the log where the log says it; return
    the fields it does not vouch for. A purpose whose hash the log holds becomes a fact."""
    loose: list[str] = []
    for n, d in enumerate(data.get("deployments") or []):
        if not isinstance(d, Mapping):
            raise BundleInvalid(f"deployments[{n}] is not an object")
        if str(d.get("id")) not in facts:
            raise BundleInvalid(
                f"deployments[{n}] describes deployment {d.get('id')!r}, which no "
                "deployment.created event in the bundle is about"
            )
        known = facts[str(d.get("id"))]
        for name, value in _flatten(d).items():
            if name == "purpose" and "purpose_sha256" in known and "purpose" not in known:
                if _sha(str(value).encode()) != known["purpose_sha256"]:
                    raise BundleInvalid(f"the purpose of deployment {d.get('id')} was altered")
                dep = str(d.get("id"))
                facts[dep]["purpose"] = value
                sources[dep]["purpose"] = sources[dep]["purpose_sha256"] + " (its SHA-256)"
                continue
            if name in known:
                if known[name] != value:
                    raise BundleInvalid(
                        f"deployment {d.get('id')}: the bundle shows {name} {value!r}, the log "
                        f"says {known[name]!r}"
                    )
                continue
            loose.append(f"deployments[{n}].{name}: {value!r}")
    return loose


def read_facts(data: Mapping[str, Any], events: Sequence[ProvenEvent]) -> Facts:
    """Sort everything the bundle shows into authenticated facts and the rest."""
    records, loose = _records(data, events)
    facts, sources = _authenticated(events, records)
    loose = [*_cross_check(data, facts, sources), *loose]
    if "created_at" in data:
        loose.insert(
            0, f"created_at: {data.get('created_at')!r} (when the operator says it exported this)"
        )
    loose += [f"notes[{n}]: {note!r}" for n, note in enumerate(data.get("notes") or [])]
    shown = {d: {k: v for k, v in f.items() if k != "purpose_sha256"} for d, f in facts.items()}
    kept = {d: {k: v for k, v in f.items() if k != "purpose_sha256"} for d, f in sources.items()}
    return Facts(shown, kept, tuple(records), tuple(loose))
