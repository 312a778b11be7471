"""Texas: Capture or Use of Biometric Identifier, Bus. & Com. Code 503.001 (US-TX-503)."""

from __future__ import annotations

from datetime import timedelta

from facegate.policy.dates import add_years
from facegate.policy.packs._common import consent_required
from facegate.policy.rules import PROCESSING, SETUP, Context, Finding, Rule, allow, deny

DESTROY_WITHIN_YEARS = 1


def _notice_consent_and_destruction(ctx: Context) -> Finding | None:
    if ctx.act in PROCESSING:
        return consent_required("US-TX-503")(ctx)
    d = ctx.deployment
    if d.purpose_ends_at is None or d.retention_days is None:
        return allow("US-TX-503", "destroy face data within 1 year after the purpose expires")
    latest = add_years(d.purpose_ends_at, DESTROY_WITHIN_YEARS)
    if ctx.now + timedelta(days=d.retention_days) > latest:
        return deny(
            "US-TX-503",
            f"templates would be kept past {latest.date()}, over a year after the purpose ends",
            "Shorten the retention so that everything is destroyed within a year of the end.",
        )
    return allow("US-TX-503")


RULES: tuple[Rule, ...] = (
    Rule(
        "US-TX-503",
        "notice and consent before capture; destroyed within a year of purpose end",
        SETUP | PROCESSING,
        _notice_consent_and_destruction,
    ),
)
