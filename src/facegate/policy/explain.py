"""Why: the rules behind a ledger event, the text of a rule, and the rules of each pack.

Used by ``facegate policy explain`` and ``facegate policy list``; domain code, no terminal.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from facegate.errors import NotFound
from facegate.policy.catalogue import TEXTS, RuleText, text_of
from facegate.policy.engine import PACKS


@dataclass(frozen=True)
class Check:
    """How one pack checks a rule: for which acts, in a phrase."""

    pack: str
    summary: str
    acts: tuple[str, ...]


@dataclass(frozen=True)
class RuleExplanation:
    id: str
    source: str
    obligation: str
    plain: str
    checks: tuple[Check, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EventExplanation:
    event_id: str
    kind: str
    at: str
    deployment: str | None
    #: the entry's stored hash matches its content (a full check: ``facegate ledger verify``)
    intact: bool
    details: dict[str, Any]
    rules: tuple[RuleExplanation, ...]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def explain_rule(rule_id: str) -> RuleExplanation:
    """The catalogue text of ``rule_id`` (case-insensitive) and where packs check it."""
    text = text_of(rule_id)
    if text is None:
        raise NotFound(
            f"no rule {rule_id!r} in LEGAL-RULES.md",
            advice="List the rules with 'facegate policy list'; event ids start with 'evt_'.",
        )
    return _explained(text)


def explain_leaf(data: bytes, *, intact: bool) -> EventExplanation:
    """A ledger leaf's kind and each rule id it recorded, explained (pure: the caller reads
    the entry and checks its hash; see ``facegate.flows.explain``)."""
    leaf = json.loads(data)
    rules = tuple(
        _explained(text_of(r) or RuleText(r, "not in this version's catalogue", "", ""))
        for r in leaf.get("rules", [])
    )
    return EventExplanation(
        event_id=str(leaf.get("id", "")),
        kind=str(leaf.get("kind", "")),
        at=str(leaf.get("at", "")),
        deployment=leaf.get("deployment"),
        intact=intact,
        details=dict(leaf.get("details") or {}),
        rules=rules,
    )


def list_rules(pack: str | None = None) -> list[dict[str, str]]:
    """One row per rule of each pack (or of ``pack``): pack, id, acts, summary, source."""
    if pack is not None and pack not in PACKS:
        raise NotFound(
            f"no policy pack {pack!r}", advice="Choose one of: " + ", ".join(sorted(PACKS))
        )
    rows = []
    for p in PACKS.values():
        if pack is not None and p.name != pack:
            continue
        for r in p.rules:
            text = text_of(r.id)
            rows.append(
                {
                    "pack": p.name,
                    "id": r.id,
                    "acts": ", ".join(sorted(str(a) for a in r.applies_to)),
                    "summary": r.summary,
                    "source": text.source if text else "",
                }
            )
    return rows


def uncovered() -> list[str]:
    """Catalogue ids no pack checks (standards met by construction, not by a rule)."""
    checked = {r.id for p in PACKS.values() for r in p.rules}
    return [x.id for x in TEXTS if x.id not in checked]


def _explained(text: RuleText) -> RuleExplanation:
    checks = tuple(
        Check(p.name, r.summary, tuple(sorted(str(a) for a in r.applies_to)))
        for p in PACKS.values()
        for r in p.rules
        if r.id == text.id
    )
    return RuleExplanation(text.id, text.source, text.obligation, text.plain, checks)
