"""Legal rules as code: packs of rules citing LEGAL-RULES.md, and the engine that runs them.

``decide(ctx, rules_for(["cn", "ind-2019"]))`` returns a :class:`Decision` listing every rule
id it consulted, the denials (each with its reason and advice) and the obligations of an
allowed act. ``facegate policy list`` shows the packs, ``facegate policy explain`` any rule
or ledger event.
"""

from facegate.policy.engine import (
    PACKS,
    Decision,
    Pack,
    decide,
    packs_named,
    parse_jurisdiction,
    rules_for,
)
from facegate.policy.facts import (
    ConsentFacts,
    Declarations,
    DeploymentFacts,
    IncidentFacts,
    NoticeFacts,
    PiaFacts,
    PublicSecurity,
    RecordFacts,
    RequestFacts,
    ReviewFacts,
    ScaleFacts,
    SystemFacts,
    TransferFacts,
)
from facegate.policy.rules import Act, Context, Finding, Obligation, Rule

__all__ = [
    "PACKS",
    "Act",
    "ConsentFacts",
    "Context",
    "Decision",
    "Declarations",
    "DeploymentFacts",
    "Finding",
    "IncidentFacts",
    "NoticeFacts",
    "Obligation",
    "Pack",
    "PiaFacts",
    "PublicSecurity",
    "RecordFacts",
    "RequestFacts",
    "ReviewFacts",
    "Rule",
    "ScaleFacts",
    "SystemFacts",
    "TransferFacts",
    "decide",
    "packs_named",
    "parse_jurisdiction",
    "rules_for",
]
