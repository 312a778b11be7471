"""The verdict on an authentic evidence bundle: what it proves, and a summary for people.

Part of the offline verifier (see :mod:`.evidence_verify`); standard library only. Everything
the summary prints above its last section comes from the log (proven events, documents and
hashes they commit to, signatures); the last section lists, as *not authenticated*, every value
the bundle shows that nothing in the log vouches for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from facegate.ledger.evidence_complete import Completeness
from facegate.ledger.evidence_facts import Facts, Record
from facegate.ledger.evidence_findings import (
    ENDINGS,
    Consent,
    Cosigned,
    Finding,
    ProvenEvent,
    attest_texts,
    timeline,
)

#: the heading of the summary's last section; everything above it is authenticated
NOT_AUTHENTICATED = "NOT AUTHENTICATED"


def _when(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def _describe(ev: ProvenEvent) -> str:
    d = ev.details
    if ev.kind == "consent.given":
        return f"consent {d.get('consent_id')} to notice v{d.get('notice_version')}"
    if ev.kind == "enroll":
        return f"template {d.get('template_id')}, model {d.get('model_version')}"
    if ev.kind in ("verify", "identify") and "scheme" in d:  # encrypted: no score exists
        return f"{d.get('decision')} under {d.get('scheme')} (one bit a template)"
    if ev.kind in ("verify", "identify"):
        return f"{d.get('decision')}, score {d.get('score')} (threshold {d.get('threshold')})"
    if ev.kind in ENDINGS:
        erased, shredded = d.get("templates_erased"), d.get("key_destroyed")
        return f"{erased} template(s) erased, key destroyed: {shredded}"
    if ev.kind == "policy.denied":
        return f"{d.get('act')} refused under {', '.join(ev.rules)}"
    if ev.kind == "transfer.person":  # a share or export that carried the person (issue 14)
        where = f"{d.get('destination')}{', abroad' if d.get('cross_border') else ''}"
        return f"{d.get('act')} {d.get('export_id')} to {d.get('recipient_id')} in {where}"
    return ", ".join(f"{k} {v}" for k, v in list(d.items())[:3])


def _show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Verdict:
    """What an authentic bundle proves, and what its events show."""

    origin: str
    size: int
    root_hex: str
    log_key: str
    log_key_trusted: bool
    cosigned: tuple[Cosigned, ...]
    completeness: Completeness
    events: tuple[ProvenEvent, ...]
    consents: tuple[Consent, ...]
    deployments: Mapping[str, Mapping[str, Any]]  # authenticated facts per deployment
    sources: Mapping[str, Mapping[str, str]]  # where each of those facts comes from
    records: tuple[Record, ...]
    notices: int
    receipts: int
    findings: tuple[Finding, ...]
    unauthenticated: tuple[str, ...]

    @property
    def lawful(self) -> bool:
        """No enroll, verify or identify without a consent in force (and no contradiction)."""
        return not any(f.severity == "violation" for f in self.findings)

    @property
    def scope(self) -> dict[str, str]:
        return {self.completeness.kind: self.completeness.value}

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
        completeness: Completeness,
        facts: Facts,
    ) -> Verdict:
        findings = attest_texts(data, events)
        consents, more = timeline(events, receipts)
        notices = {n.get("sha256") for n in data.get("notices") or []}
        findings += [
            Finding("warning", c.index, f"the notice of consent {c.consent_id} is not bundled")
            for c in consents
            if c.notice_sha256 and c.notice_sha256 not in notices
        ]
        findings += more + _strangers(events, completeness)
        findings[:0] = _trust_findings(log_key_trusted, witnesses_trusted, cosigned)
        loose = list(facts.unauthenticated)
        if not completeness.proven:
            loose.insert(0, f"scope: {_show(data.get('scope'))} (no completeness proof)")
        return cls(
            origin=origin,
            size=size,
            root_hex=root.hex(),
            log_key=log_key,
            log_key_trusted=log_key_trusted,
            cosigned=tuple(cosigned),
            completeness=completeness,
            events=tuple(events),
            consents=tuple(consents),
            deployments=facts.deployments,
            sources=facts.sources,
            records=facts.records,
            notices=len(notices),
            receipts=len(receipts),
            findings=tuple(findings),
            unauthenticated=tuple(loose),
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
        out.update(
            authentic=True,
            lawful=self.lawful,
            complete=self.completeness.proven,
            scope=self.scope,
        )
        return out

    def summary(self) -> str:
        lines = [*self._head(), *self._facts()]
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
            f"{NOT_AUTHENTICATED} (the operator's word only; nothing in the log vouches for it):"
        )
        lines += [f"  {line}" for line in self.unauthenticated] or ["  nothing"]
        return "\n".join(lines)

    def _head(self) -> list[str]:
        c = self.completeness
        who = "the person with pseudonym" if c.kind == "subject" else "deployment"
        witnesses = [
            f"cosigned by witness {w.name} at {_when(w.timestamp)}"
            + (" (a witness you trust)" if w.trusted else " (key from the bundle)")
            for w in self.cosigned
        ]
        lines = [
            f"Evidence bundle for {who} {c.value}"
            if c.proven
            else "Evidence bundle (scope not proven)",
            f"AUTHENTIC: {len(self.events)} event(s), each proven to be in log {self.origin} "
            f"at size {self.size} (root {self.root_hex})",
            f"  head signed by {self.log_key}"
            + (" (the key you gave)" if self.log_key_trusted else " (key from the bundle)"),
            *(f"  {w}" for w in witnesses or ["no witness cosignature"]),
        ]
        if c.proven:
            about = "this person" if c.kind == "subject" else "this deployment"
            lines.append(
                f"COMPLETE: these are all {c.count} events about {about} ({c.kind} {c.value}) in "
                f"log {self.origin} up to size {c.size} (index root {c.index_root_hex})"
            )
            others = len(self.events) - c.count
            if others:
                lines.append(f"  and {others} more event(s) for context, each proven included")
        else:
            lines.append(f"COMPLETENESS NOT PROVEN: {c.why}; completeness is the operator's claim")
        return lines

    def _facts(self) -> list[str]:
        lines: list[str] = []
        for dep in sorted(self.deployments):
            facts, sources = self.deployments[dep], self.sources.get(dep, {})
            lines.append(f"Deployment {dep}, as the log records it:")
            lines += [
                f"  {name}: {_show(facts[name])} [{sources.get(name, '?')}]"
                for name in sorted(facts)
            ]
        for r in self.records:
            lines.append(
                f"Record {r.kind} {r.sha256} committed by entry #{r.index} ({r.event_kind}):"
            )
            lines += [f"  {name}: {_show(r.body[name])}" for name in sorted(r.body)]
        return lines


def _trust_findings(
    key_trusted: bool, witnesses_trusted: bool, cosigned: Sequence[Cosigned]
) -> list[Finding]:
    out: list[Finding] = []
    if witnesses_trusted and not any(c.trusted for c in cosigned):
        out.append(Finding("warning", None, "no witness you trust cosigned the head"))
    elif not cosigned:
        out.append(
            Finding("note", None, "no witness cosigned this head: only the operator vouches for it")
        )
    if not key_trusted:
        out.append(
            Finding(
                "warning",
                None,
                "checked only against the key inside the bundle: obtain the operator's key "
                "elsewhere (--log-key)",
            )
        )
    return out


def _strangers(events: Sequence[ProvenEvent], c: Completeness) -> list[Finding]:
    """Events in a person's bundle about someone else (or another deployment's): not forged,
    but not this bundle's business."""
    out: list[Finding] = []
    for e in events:
        other = e.subject if c.kind == "subject" else e.deployment
        if other is not None and other != c.value:
            out.append(Finding("warning", e.index, f"this event is about another {c.kind}"))
    return out
