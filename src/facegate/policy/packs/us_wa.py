"""Washington: Biometric Identifiers, RCW 19.375.020 (US-WA-19.375)."""

from __future__ import annotations

from facegate.policy.packs._common import not_live
from facegate.policy.rules import Act, Context, Finding, Rule, allow, deny


def _before_enrollment(ctx: Context) -> Finding:
    refused = not_live("US-WA-19.375", ctx, what="enrollment")
    if refused is not None:
        return refused
    c = ctx.consent
    if c is not None and not c.withdrawn:
        return allow("US-WA-19.375")
    if ctx.deployment.declarations.opt_out:
        return allow(
            "US-WA-19.375",
            "give notice and honour any opt-out before enrolling the person",
        )
    return deny(
        "US-WA-19.375",
        "commercial enrollment needs notice and the person's consent (or an opt-out mechanism)",
        "Show the notice and record the person's consent before enrolling them.",
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "US-WA-19.375",
        "notice and consent (or opt-out) before commercial enrollment",
        frozenset({Act.ENROLL}),
        _before_enrollment,
    ),
)
