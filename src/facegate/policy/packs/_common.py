"""Checks that more than one pack cites under its own rule id."""

from __future__ import annotations

from facegate.policy.dates import add_years
from facegate.policy.rules import Act, Check, Context, Finding, allow, deny

PIA_KEPT_YEARS = 3


def known(ctx: Context) -> bool:
    """Whether the deployment facts past ``purpose_sha256`` were supplied (see
    :class:`~facegate.policy.facts.DeploymentFacts`); rules about them are silent if not."""
    return ctx.deployment.complete


def impact_assessment(rule_id: str, name: str) -> Check:
    """An impact assessment completed before go-live, covering the current purpose and
    method (so a change of either needs a new one). ``name`` is "PIA" or "DPIA"."""

    def check(ctx: Context) -> Finding | None:
        if not known(ctx):
            return None
        d = ctx.deployment
        pia = d.pia
        if pia is None:
            return deny(
                rule_id,
                f"no {name} (impact assessment) was completed for this deployment",
                f"Complete a {name} of the purpose, the method, the risks to people and the\n"
                "safeguards, and have it confirmed before the deployment goes live.",
            )
        if pia.completed_at > ctx.now:
            return deny(
                rule_id,
                f"the {name} is dated after the deployment goes live",
                f"The {name} must be completed before processing starts.",
            )
        if pia.purpose_sha256 != d.purpose_sha256:
            return deny(
                rule_id,
                f"the purpose changed after the {name} was done",
                f"Redo the {name} for the new purpose before processing again.",
            )
        if pia.method_sha256 != d.method_sha256:
            return deny(
                rule_id,
                f"the method (location, capabilities, transfers) changed after the {name}",
                f"Redo the {name} for the new method before processing again.",
            )
        if ctx.act is Act.ACTIVATE_DEPLOYMENT:
            keep = add_years(pia.completed_at, PIA_KEPT_YEARS)
            return allow(rule_id, f"keep the {name} for {PIA_KEPT_YEARS} years", due=keep)
        return allow(rule_id)

    return check


def consent_required(rule_id: str, *, written: frozenset[str] | None = None) -> Check:
    """Processing needs a consent that exists, is not withdrawn and has not expired (and,
    with ``written``, was captured by one of those methods)."""

    def check(ctx: Context) -> Finding | None:
        c = ctx.consent
        if c is None:
            return deny(
                rule_id,
                "this person has not given consent to this deployment",
                "Show the person the notice and record their consent first, or use the\n"
                "non-face alternative the deployment offers.",
            )
        if c.withdrawn:
            return deny(
                rule_id,
                "this person withdrew their consent",
                "Their face data must be erased; use the non-face alternative.",
            )
        if c.expires_at is not None and c.expires_at <= ctx.now:
            return deny(
                rule_id,
                "this person's consent has expired",
                "Ask the person to consent again after reading the current notice.",
            )
        if written is not None and c.method not in written:
            return deny(
                rule_id,
                f"consent was captured as {c.method!r}, not as a written release",
                "Have the person sign a written release (a signed form or an electronic\n"
                "signature) before collecting their face.",
            )
        return allow(rule_id)

    return check
