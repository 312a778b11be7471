"""Run a deployment's packs over a context and record which rules decided."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facegate.errors import InvalidInput, PolicyDenied
from facegate.policy.packs import cn
from facegate.policy.rules import Context, Finding, Rule

PACKS: dict[str, tuple[Rule, ...]] = {"cn": cn.RULES}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule_ids: tuple[str, ...]
    denials: tuple[Finding, ...]

    def raise_if_denied(self) -> None:
        if self.denials:
            first = self.denials[0]
            raise PolicyDenied(
                first.reason,
                rule_id=first.rule_id,
                advice=first.advice,
                rule_ids=tuple(f.rule_id for f in self.denials),
            )


def rules_for(jurisdictions: Sequence[str]) -> tuple[Rule, ...]:
    out: list[Rule] = []
    for name in jurisdictions:
        try:
            out.extend(PACKS[name])
        except KeyError:
            raise InvalidInput(
                f"no policy pack for jurisdiction {name!r}",
                advice=f"Choose one of: {', '.join(sorted(PACKS))}.",
            ) from None
    return tuple(out)


def decide(ctx: Context, rules: Sequence[Rule]) -> Decision:
    """Evaluate every applicable rule; the decision lists all rule ids consulted."""
    findings = [f for f in (r.evaluate(ctx) for r in rules) if f is not None]
    denials = tuple(f for f in findings if not f.allowed)
    ids = tuple(dict.fromkeys(f.rule_id for f in findings))
    return Decision(allowed=not denials, rule_ids=ids, denials=denials)
