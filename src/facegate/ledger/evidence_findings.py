"""What a verified evidence bundle says: its events read back, and what they show.

Half of the offline verifier (the other half, :mod:`.evidence_verify`, checks hashes and
signatures). Standard library only; the one facegate import is the error base class. Runs
after every cryptographic check has passed, so it reads authentic events. It checks that
notice texts and receipts match what the events committed to, then walks each
person's events in log order: an enroll, verify or identify naming a pseudonym with no
consent given before it, after that consent was withdrawn or erased, or after the consent
expired, is a *violation*.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from facegate.errors import LedgerError

BUNDLE_FORMAT = "facegate-evidence/v2"
#: formats this verifier reads: v1 bundles predate documents and completeness proofs (their
#: checkpoints commit to no index, so completeness is reported as not proven)
FORMATS = frozenset({"facegate-evidence/v1", BUNDLE_FORMAT})
PROCESSING = frozenset({"enroll", "verify", "identify"})
ENDINGS = frozenset({"consent.withdrawn", "erase"})
_LEAF_FIELDS = ("v", "id", "kind", "at", "operator", "deployment", "subject", "rules", "details")
_EXPIRES = re.compile(r" at (\d{4}-\d\d-\d\dT[0-9:.+\-Z]+)$")


class BundleInvalid(LedgerError):
    """An evidence bundle fails a check: it does not prove what it claims."""

    code = "evidence_invalid"
    default_advice = (
        "Do not rely on this bundle. The message names the first check that failed; a bundle\n"
        "altered after export fails this way, and so does one the log never signed."
    )


def canonical_json(value: object) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes facegate hashes and signs."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _sha256_hex(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


@dataclass(frozen=True)
class Cosigned:
    """A witness's valid cosignature: who, with which key, when, and whether you trust it."""

    name: str
    key: str
    timestamp: int
    trusted: bool


@dataclass(frozen=True)
class ProvenEvent:
    """One ledger entry, proven included and read back."""

    index: int
    event_id: str
    kind: str
    at: datetime
    operator: str | None
    deployment: str | None
    subject: str | None
    rules: tuple[str, ...]
    details: Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    severity: str  # "violation", "warning" or "note"
    index: int | None
    message: str


def read_events(leaves: Sequence[tuple[int, bytes]]) -> list[ProvenEvent]:
    """Parse proven leaves; each must be facegate's canonical JSON, so it reads one way only."""
    out: list[ProvenEvent] = []
    for index, leaf in leaves:
        try:
            d = json.loads(leaf.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise BundleInvalid(f"entry {index} is not a JSON event") from None
        # "by" (the acting principal) is present only on events a principal caused
        if not isinstance(d, dict) or set(d) - {"by"} != set(_LEAF_FIELDS):
            raise BundleInvalid(f"entry {index} is not a facegate event")
        if canonical_json(d) != leaf or d["v"] != 1:
            raise BundleInvalid(f"entry {index} is not in canonical form (version 1)")
        try:
            at = datetime.fromisoformat(d["at"])
        except (TypeError, ValueError):
            raise BundleInvalid(f"entry {index} has no valid time") from None
        out.append(
            ProvenEvent(
                index=index,
                event_id=str(d["id"]),
                kind=str(d["kind"]),
                at=at if at.tzinfo else at.replace(tzinfo=UTC),
                operator=d["operator"],
                deployment=d["deployment"],
                subject=d["subject"],
                rules=tuple(d["rules"]),
                details=dict(d["details"]),
            )
        )
    return out


@dataclass(frozen=True)
class Consent:
    """A consent as the log records it, with its receipt's expiry and how it ended."""

    consent_id: str
    index: int
    at: datetime
    deployment: str | None
    subject: str
    notice_sha256: str
    receipt: bool = False
    expires: datetime | None = None
    ended: tuple[int, str, datetime] | None = None


def _expiry(receipt: Mapping[str, Any]) -> datetime | None:
    for service in receipt.get("services") or []:
        for purpose in service.get("purposes") or []:
            m = _EXPIRES.search(str(purpose.get("termination", "")))
            if m:
                try:
                    when = datetime.fromisoformat(m.group(1))
                except ValueError:
                    return None
                return when if when.tzinfo else when.replace(tzinfo=UTC)
    return None


def _check_receipt(r: Mapping[str, Any], ev: ProvenEvent) -> list[str]:
    """Fields on which a receipt contradicts its consent.given event."""
    service = (r.get("services") or [{}])[0].get("service")
    pairs = {
        "piiPrincipalId": (r.get("piiPrincipalId"), ev.subject),
        "noticeSha256": (r.get("noticeSha256"), ev.details.get("notice_sha256")),
        "consentTimestamp": (r.get("consentTimestamp"), int(ev.at.timestamp())),
        "collectionMethod": (r.get("collectionMethod"), ev.details.get("method")),
        "service": (service, ev.deployment),
    }
    return [name for name, (a, b) in pairs.items() if a != b]


def attest_texts(data: Mapping[str, Any], events: Sequence[ProvenEvent]) -> list[Finding]:
    """Notice texts must hash to what the log committed to, for the deployment and version the
    committing events name."""
    found: list[Finding] = []
    committing: dict[str, list[ProvenEvent]] = {}
    for e in events:
        if e.kind in ("notice.published", "consent.given"):
            committing.setdefault(str(e.details.get("notice_sha256")), []).append(e)
    for n in data.get("notices") or []:
        body, digest = n.get("body"), n.get("sha256")
        if not isinstance(body, dict) or _sha256_hex(canonical_json(body)) != digest:
            raise BundleInvalid(f"notice v{n.get('version')} of {n.get('deployment')} was altered")
        if digest not in committing:
            found.append(Finding("warning", None, f"notice {digest} is not referred to by the log"))
            continue
        # The same text may serve several deployments: one committing event must name this one.
        named = [
            (
                e.deployment,
                e.details.get("version" if e.kind == "notice.published" else "notice_version"),
            )
            for e in committing[str(digest)]
        ]
        if not any(d == n.get("deployment") and v in (None, n.get("version")) for d, v in named):
            raise BundleInvalid(
                f"notice {digest} is shown as v{n.get('version')} of {n.get('deployment')}, but "
                f"the log commits to it only as {', '.join(f'v{v} of {d}' for d, v in named)}"
            )
    return found


def timeline(
    events: Sequence[ProvenEvent], receipts: Sequence[Mapping[str, Any]]
) -> tuple[list[Consent], list[Finding]]:
    """Walk the events in log order, keeping each person's consent; flag acts without one."""
    by_id = {str(r.get("consentReceiptID")): r for r in receipts}
    in_force: dict[tuple[str | None, str], Consent] = {}
    ended: dict[tuple[str | None, str], tuple[int, str, datetime]] = {}
    history: list[Consent] = []
    findings: list[Finding] = []
    for ev in events:
        if ev.kind == "policy.denied":
            act = ev.details.get("act", "an act")
            findings.append(Finding("note", ev.index, f"{act} refused under {', '.join(ev.rules)}"))
            continue
        if ev.subject is None:
            continue
        key = (ev.deployment, ev.subject)
        if ev.kind == "consent.given":
            cid = str(ev.details.get("consent_id"))
            receipt = by_id.pop(cid, None)
            bad = _check_receipt(receipt, ev) if receipt is not None else []
            if bad:
                findings.append(
                    Finding(
                        "violation",
                        ev.index,
                        f"receipt {cid} contradicts the log on " + ", ".join(bad),
                    )
                )
            in_force[key] = Consent(
                cid,
                ev.index,
                ev.at,
                ev.deployment,
                ev.subject,
                str(ev.details.get("notice_sha256")),
                receipt=receipt is not None,
                expires=_expiry(receipt) if receipt is not None else None,
            )
        elif ev.kind in ENDINGS:
            ended[key] = (ev.index, ev.kind, ev.at)
            current = in_force.pop(key, None)
            if current is not None:
                history.append(replace(current, ended=ended[key]))
        elif ev.kind in PROCESSING:
            why = _unlawful(ev, in_force.get(key), ended.get(key))
            if why:
                findings.append(Finding("violation", ev.index, why))
    findings.extend(
        Finding("warning", None, f"receipt {cid} has no consent.given event in the bundle")
        for cid in by_id
    )
    return [*history, *in_force.values()], findings


def _unlawful(
    ev: ProvenEvent, current: Consent | None, ended: tuple[int, str, datetime] | None
) -> str:
    who = f"{ev.kind} of {ev.subject} at {ev.at.isoformat()}"
    if current is None and ended is not None:
        idx, kind, at = ended
        return f"{who} after {kind} at {at.isoformat()} (entry {idx})"
    if current is None:
        return f"{who} with no consent.given before it"
    if current.expires is not None and ev.at > current.expires:
        return f"{who} after consent {current.consent_id} expired at {current.expires.isoformat()}"
    return ""
