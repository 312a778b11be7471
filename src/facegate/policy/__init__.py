"""Legal rules as code: packs of rules citing LEGAL-RULES.md, and the engine that runs them."""

from facegate.policy.engine import PACKS, Decision, decide, rules_for
from facegate.policy.rules import Act, ConsentFacts, Context, DeploymentFacts, Finding, Rule

__all__ = [
    "PACKS",
    "Act",
    "ConsentFacts",
    "Context",
    "Decision",
    "DeploymentFacts",
    "Finding",
    "Rule",
    "decide",
    "rules_for",
]
