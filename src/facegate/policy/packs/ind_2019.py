"""IND-2019: the 2019 biometric user privacy and security initiative (led by Alipay).

An industry code, not a law: it layers over a law pack (``cn+ind-2019``) and is stricter
where the law leaves room. facegate reads its five commitments as these checks:

- minimal sufficient collection, transparent retention: templates kept at most a year;
- encrypted storage and a risk team: a named risk team, encryption at rest at start-up;
- no abuse beyond the defined scope: processing only by declared capabilities, disclosure
  only for the stated purpose and never for profit;
- accountability: a named accountable person or office;
- fairness: the model was tested for bias by sex and age before go-live.
"""

from __future__ import annotations

from facegate.policy.packs.cn_pipl import within_declared_method
from facegate.policy.rules import (
    DEPLOYMENT_LEVEL,
    SETUP,
    Act,
    Context,
    Finding,
    Rule,
    allow,
    deny,
)

RULE_ID = "IND-2019"
MAX_RETENTION_DAYS = 365


def _commitments(ctx: Context) -> Finding | None:
    if ctx.act in DEPLOYMENT_LEVEL:
        return within_declared_method(RULE_ID, ctx)
    if ctx.act is Act.SHARE:
        return _no_abuse(ctx)
    if ctx.act is Act.START_SERVICE:
        if ctx.need_system().controls.get("encryption") is False:
            return deny(
                RULE_ID,
                "face data is not stored encrypted",
                "Encrypt every template at rest.",
            )
        return allow(RULE_ID)
    return _setup(ctx)


def _setup(ctx: Context) -> Finding | None:
    d = ctx.deployment
    if d.retention_days > MAX_RETENTION_DAYS:
        return deny(
            RULE_ID,
            f"the industry code keeps templates at most {MAX_RETENTION_DAYS} days "
            "(minimal collection)",
            f"Set a retention of at most {MAX_RETENTION_DAYS} days.",
        )
    if not d.declarations.risk_team.strip():
        return deny(
            RULE_ID,
            "no risk team is named for this deployment",
            "Name the team that assesses and handles risks to face data (risk_team).",
        )
    if not d.declarations.accountable.strip():
        return deny(
            RULE_ID,
            "nobody is named accountable for this deployment",
            "Name the person or office accountable (accountable).",
        )
    if ctx.act is Act.ACTIVATE_DEPLOYMENT and not d.declarations.fairness_tested:
        return deny(
            RULE_ID,
            "the model has not been tested for bias by sex and age for this deployment",
            "Test error rates by sex and age on people like those served, then declare\n"
            "fairness_tested.",
        )
    return allow(RULE_ID, "publish the self-assessment report of the industry code")


def _no_abuse(ctx: Context) -> Finding:
    t = ctx.need_transfer()
    if t.for_profit or not t.same_purpose:
        return deny(
            RULE_ID,
            "face data may not be disclosed beyond the defined scope or for profit",
            "Disclose only for the deployment's stated purpose, never for gain.",
        )
    return allow(RULE_ID)


RULES: tuple[Rule, ...] = (
    Rule(
        RULE_ID,
        "minimal, encrypted, within scope, accountable, fair",
        SETUP | DEPLOYMENT_LEVEL | {Act.SHARE, Act.START_SERVICE},
        _commitments,
    ),
)
