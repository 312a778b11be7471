"""The verdict on an authentic evidence bundle: what it proves, and a summary for people.

Part of the offline verifier (see :mod:`.evidence_verify`); standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from facegate.ledger.evidence_findings import (
    BUNDLE_FORMAT,
    ENDINGS,
    Consent,
    Cosigned,
    Finding,
    ProvenEvent,
    attest_texts,
    timeline,
)


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _describe(ev: ProvenEvent) -> str:
    d = ev.details
    if ev.kind == "consent.given":
        return f"consent {d.get('consent_id')} to notice v{d.get('notice_version')}"
    if ev.kind == "enroll":
        return f"template {d.get('template_id')}, model {d.get('model_version')}"
    if ev.kind in ("verify", "identify"):
        return f"{d.get('decision')}, score {d.get('score')} (threshold {d.get('threshold')})"
    if ev.kind in ENDINGS:
        erased, shredded = d.get("templates_erased"), d.get("key_destroyed")
        return f"{erased} template(s) erased, key destroyed: {shredded}"
    if ev.kind == "policy.denied":
        return f"{d.get('act')} refused under {', '.join(ev.rules)}"
    return ", ".join(f"{k} {v}" for k, v in list(d.items())[:3])


@dataclass(frozen=True)
class Verdict:
    """What an authentic bundle proves, and what its events show."""

    scope: Mapping[str, Any]
    origin: str
    size: int
    root_hex: str
    log_key: str
    log_key_trusted: bool
    cosigned: tuple[Cosigned, ...]
    events: tuple[ProvenEvent, ...]
    consents: tuple[Consent, ...]
    deployments: tuple[Mapping[str, Any], ...]
    notices: int
    receipts: int
    findings: tuple[Finding, ...]

    @property
    def lawful(self) -> bool:
        """No enroll, verify or identify without a consent in force (and no contradiction)."""
        return not any(f.severity == "violation" for f in self.findings)

    @classmethod
    def build(
        cls,
        data: Mapping[str, Any],
        *,
        origin: str,
        size: int,
        root: bytes,
        log_key: str,
        log_key_trusted: bool,
        cosigned: Sequence[Cosigned],
        witnesses_trusted: bool,
        events: Sequence[ProvenEvent],
        receipts: Sequence[Mapping[str, Any]],
    ) -> Verdict:
        findings = attest_texts(data, events)
        consents, more = timeline(events, receipts)
        notices = {n.get("sha256") for n in data.get("notices") or []}
        findings += [
            Finding("warning", c.index, f"the notice of consent {c.consent_id} is not bundled")
            for c in consents
            if c.notice_sha256 and c.notice_sha256 not in notices
        ]
        findings += more
        if not log_key_trusted:
            findings.insert(
                0,
                Finding(
                    "warning",
                    None,
                    "checked only against the key inside the "
                    "bundle: obtain the operator's key elsewhere (--log-key)",
                ),
            )
        if witnesses_trusted and not any(c.trusted for c in cosigned):
            findings.insert(0, Finding("warning", None, "no witness you trust cosigned the head"))
        elif not cosigned:
            findings.insert(
                0,
                Finding(
                    "note", None, "no witness cosigned this head: only the operator vouches for it"
                ),
            )
        return cls(
            scope=dict(data.get("scope") or {}),
            origin=origin,
            size=size,
            root_hex=root.hex(),
            log_key=log_key,
            log_key_trusted=log_key_trusted,
            cosigned=tuple(cosigned),
            events=tuple(events),
            consents=tuple(consents),
            deployments=tuple(data.get("deployments") or ()),
            notices=len(notices),
            receipts=len(receipts),
            findings=tuple(findings),
        )

    def to_dict(self) -> dict[str, Any]:
        def plain(v: object) -> object:
            if isinstance(v, datetime):
                return v.isoformat()
            if isinstance(v, dict | Mapping):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, list | tuple):
                return [plain(x) for x in v]
            return v

        out = {k: plain(v) for k, v in asdict(self).items()}
        out.update(authentic=True, lawful=self.lawful)
        return out

    def summary(self) -> str:
        scope = ", ".join(f"{k} {v}" for k, v in self.scope.items() if v) or "unstated scope"
        witnesses = [
            f"cosigned by witness {c.name} at {_when(c.timestamp)}"
            + (" (a witness you trust)" if c.trusted else " (key from the bundle)")
            for c in self.cosigned
        ]
        lines = [
            f"Evidence bundle ({BUNDLE_FORMAT}) for {scope}",
            f"AUTHENTIC: {len(self.events)} event(s), each proven to be in log {self.origin} "
            f"at size {self.size} (root {self.root_hex})",
            f"  head signed by {self.log_key}"
            + (" (the key you gave)" if self.log_key_trusted else " (key from the bundle)"),
            *(f"  {w}" for w in witnesses or ["no witness cosignature"]),
        ]
        for d in self.deployments:
            op = d.get("operator") or {}
            lines.append(
                f"Processor {op.get('name')} ({op.get('contact') or 'no contact'}), deployment "
                f"{d.get('id')} {d.get('name')!r}: purpose {d.get('purpose')!r}"
            )
        lines.append(f"Consents ({len(self.consents)}; {self.receipts} signed receipt(s)):")
        for c in self.consents:
            end = (
                f"; {c.ended[1]} at {c.ended[2].isoformat()} (entry {c.ended[0]})"
                if c.ended
                else ""
            )
            lines.append(
                f"  {c.consent_id} by {c.subject} given {c.at.isoformat()} (entry {c.index}), "
                f"receipt {'checked' if c.receipt else 'not bundled'}{end}"
            )
        lines.append("Events (log order):")
        for e in self.events:
            who = f" {e.subject}" if e.subject else ""
            lines.append(f"  #{e.index} {e.at.isoformat()} {e.kind}{who}: {_describe(e)}")
        lines.append("Findings:")
        lines += [
            f"  {f.severity.upper()}"
            + (f" (entry {f.index})" if f.index is not None else "")
            + f": {f.message}"
            for f in self.findings
        ] or ["  none"]
        lines.append(
            "LAWFUL: every enroll, verify and identify above happened under a consent in force."
            if self.lawful
            else "NOT LAWFUL: processing without a consent in force (see the violations above)."
        )
        lines.append(
            "Limit: inclusion proofs show these events are in the log; they cannot show that the "
            "log holds no other event about this person or deployment."
        )
        return "\n".join(lines)
