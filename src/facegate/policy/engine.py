"""Run a deployment's packs over a context and record which rules decided.

Why plain Python rules and not Cedar (``cedarpy``): Cedar is a fine language for "may this
principal do this action on this resource", but most of what these packs decide is not
that. They compute: a filing deadline 30 working days after a threshold, ``ttl = min(purpose
end, last interaction + 3 years)``, a 72-hour breach clock, hashes of purpose and method
compared with an impact assessment's. And each outcome must carry a rule id from
LEGAL-RULES.md, a plain reason, advice for the person refused, and obligations for the one
allowed. In Cedar the arithmetic would move into the code that builds entities, the
reasons and obligations into annotations keyed by policy id, and the policies themselves
would shrink to a boolean over precomputed attributes: two places to read for one rule, a
native dependency, and no type checking between them. Here one small function per rule
holds the whole of it, mypy checks it, and a table-driven test shows each rule allowing
and denying. Packs remain data (tuples of :class:`~facegate.policy.rules.Rule`), so the
engine stays a dozen lines.

A deployment selects one or more packs (``"cn"``, ``"eu"``, ``"cn+ind-2019"``). Law packs
stand alone; an industry code only layers over at least one law pack, never replaces one; an
empty or unknown jurisdiction is refused, so the law cannot be switched off by leaving it out.
The ``standards`` baseline (ISO/IEC 24745, 30136, 29184, Kantara receipts) applies to every
deployment on top of its packs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from facegate.errors import InvalidInput, PolicyDenied
from facegate.policy.packs import cn, eu, ind_2019, standards, us_il, us_tx, us_wa
from facegate.policy.rules import Context, Finding, Obligation, Rule


@dataclass(frozen=True)
class Pack:
    name: str
    title: str
    rules: tuple[Rule, ...]
    #: "law" packs stand alone; "industry" codes layer over a law pack; the "baseline"
    #: applies to every deployment and is never named in a jurisdiction
    kind: str = "law"
    #: the longest template retention the pack allows (None: no fixed number in the law)
    max_retention_days: int | None = None


PACKS: dict[str, Pack] = {
    p.name: p
    for p in (
        Pack("cn", "China: PIPL, 2025 CAC/MPS face recognition measures, SPC 2021", cn.RULES),
        Pack("eu", "European Union: GDPR and the AI Act", eu.RULES),
        Pack(
            "us-il",
            "Illinois: Biometric Information Privacy Act",
            us_il.RULES,
            max_retention_days=us_il.MAX_RETENTION_DAYS,
        ),
        Pack("us-tx", "Texas: Bus. & Com. Code 503.001", us_tx.RULES),
        Pack("us-wa", "Washington: RCW 19.375", us_wa.RULES),
        Pack(
            "ind-2019",
            "Industry code: 2019 biometric user privacy and security initiative",
            ind_2019.RULES,
            kind="industry",
            max_retention_days=ind_2019.MAX_RETENTION_DAYS,
        ),
        Pack(
            "standards",
            "Baseline: ISO/IEC 24745, 30136, 29184 and Kantara consent receipts",
            standards.RULES,
            kind="baseline",
        ),
    )
}


@dataclass(frozen=True)
class Decision:
    allowed: bool
    rule_ids: tuple[str, ...]
    denials: tuple[Finding, ...]
    obligations: tuple[Obligation, ...] = ()

    def raise_if_denied(self) -> None:
        if self.denials:
            first = self.denials[0]
            raise PolicyDenied(
                first.reason,
                rule_id=first.rule_id,
                advice=first.advice,
                rule_ids=tuple(dict.fromkeys(f.rule_id for f in self.denials)),
            )


def parse_jurisdiction(jurisdiction: str) -> tuple[str, ...]:
    """The packs a jurisdiction names (``"cn"``, ``"cn+ind-2019"``). Refuses an empty name, an
    empty part (``"cn+"``), an unknown or repeated pack, and an industry code alone: a
    deployment is always under at least one law."""
    names = tuple(part.strip() for part in jurisdiction.split("+"))
    laws = ", ".join(sorted(n for n, p in PACKS.items() if p.kind == "law"))
    if not jurisdiction.strip() or any(not n for n in names):
        raise InvalidInput(
            f"the jurisdiction {jurisdiction!r} names no policy pack",
            advice=f"Name the law that applies: one or more of {laws} (joined with '+'),\n"
            "optionally with an industry code, e.g. 'cn+ind-2019'.",
        )
    if len(set(names)) != len(names):
        raise InvalidInput(f"the jurisdiction {jurisdiction!r} names a pack twice")
    packs_named(names)
    return names


def packs_named(names: Sequence[str]) -> tuple[Pack, ...]:
    """The packs called ``names``; none, an unknown one, or an industry code alone is refused."""
    out: list[Pack] = []
    for name in names:
        pack = PACKS.get(name)
        if pack is None or pack.kind == "baseline":
            raise InvalidInput(
                f"no policy pack for jurisdiction {name!r}",
                advice="Choose one or more of: "
                + ", ".join(sorted(n for n, p in PACKS.items() if p.kind != "baseline"))
                + " (joined with '+').",
            )
        out.append(pack)
    if not any(p.kind == "law" for p in out):
        raise InvalidInput(
            "a deployment needs at least one law pack; an industry code cannot stand alone",
            advice=f"Name the law too, e.g. 'cn+{out[0].name}'." if out else "Name the law.",
        )
    return tuple(out)


def rules_for(jurisdictions: Sequence[str]) -> tuple[Rule, ...]:
    """Every rule of the packs named, and the baseline's."""
    packs = (*packs_named(jurisdictions), PACKS["standards"])
    return tuple(r for p in packs for r in p.rules)


def decide(ctx: Context, rules: Sequence[Rule]) -> Decision:
    """Evaluate every applicable rule; the decision lists all rule ids consulted."""
    findings = [f for f in (r.evaluate(ctx) for r in rules) if f is not None]
    denials = tuple(f for f in findings if not f.allowed)
    ids = tuple(dict.fromkeys(f.rule_id for f in findings))
    obligations = tuple(o for f in findings if f.allowed for o in f.obligations)
    return Decision(allowed=not denials, rule_ids=ids, denials=denials, obligations=obligations)
