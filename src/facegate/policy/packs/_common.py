"""Checks that more than one pack cites, each under its own rule id."""

from __future__ import annotations

from facegate.policy.dates import add_years
from facegate.policy.facts import IMPLIED_METHODS, WRITTEN_METHODS
from facegate.policy.rules import Act, Check, Context, Finding, allow, deny

PIA_KEPT_YEARS = 3


def impact_assessment(rule_id: str, name: str) -> Check:
    """An impact assessment written by people and signed by a data protection officer before
    go-live, covering the current purpose and method (so a change of either voids it).
    ``name`` is "PIA" or "DPIA"."""

    def check(ctx: Context) -> Finding | None:
        d = ctx.deployment
        pia = d.pia
        if pia is None or pia.missing:
            missing = ", ".join(pia.missing) if pia is not None else "every part"
            return deny(
                rule_id,
                f"the {name} (impact assessment) is not complete: it leaves unanswered {missing}",
                f"Answer every part of the {name} (lawfulness, necessity, impact, risks,\n"
                "safeguards, conclusion), then have the DPO sign it: 'facegate pia sign'.",
            )
        if pia.signed_at is None:
            return deny(
                rule_id,
                f"no data protection officer has signed the {name}; the deployment is a draft",
                f"A principal with the 'dpo' role reviews and signs the {name}:\n"
                "'facegate pia sign -d DEPLOYMENT --necessity TEXT' with their own key.",
            )
        if pia.signed_at > ctx.now:
            return deny(
                rule_id,
                f"the {name} is dated after the deployment goes live",
                f"The {name} must be signed before processing starts.",
            )
        if pia.purpose_sha256 != d.purpose_sha256 or pia.method_sha256 != d.method_sha256:
            return deny(
                rule_id,
                f"the purpose or method changed after the {name} was signed",
                f"Redo the {name} for the change and have the DPO sign it again.",
            )
        if ctx.act is Act.ACTIVATE_DEPLOYMENT:
            keep = add_years(pia.signed_at, PIA_KEPT_YEARS)
            return allow(rule_id, f"keep the {name} for {PIA_KEPT_YEARS} years", due=keep)
        return allow(rule_id)

    return check


def not_live(rule_id: str, ctx: Context, *, what: str = "processing") -> Finding | None:
    """A denial when the deployment is not live: a draft has published no notice, so nobody
    can have been told (or have consented); an ended deployment holds no face data."""
    status = ctx.deployment.status
    if status == "ended":
        return deny(
            rule_id,
            f"this deployment has ended; no {what} is allowed and its face data was erased",
            "Register a new deployment if a new purpose needs face recognition.",
        )
    if status != "live" or ctx.notice is None:
        return deny(
            rule_id,
            "this deployment has not gone live: its notice is not published, so nobody can\n"
            "have been told before their face is used",
            "Have the DPO sign the impact assessment ('facegate pia sign'); the notice is\n"
            "published then.",
        )
    return None


def consent_required(rule_id: str, *, written: bool = False) -> Check:
    """Processing needs a consent that exists, is not withdrawn, has not expired, was given
    by an active act of the person (and, with ``written``, is a written release with the
    signed form's or e-signature record's hash)."""

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
        if c.method in IMPLIED_METHODS:
            return deny(
                rule_id,
                f"a consent captured as {c.method!r} is not an explicit consent",
                "Ask the person to agree by an act of their own (signing, pressing 'I agree').",
            )
        if written and (c.method not in WRITTEN_METHODS or not c.form_sha256):
            return deny(
                rule_id,
                f"consent was captured as {c.method!r} without a signed written release",
                "Have the person sign a written release (a signed form or an electronic\n"
                "signature) and record its SHA-256 (--form) before collecting their face.",
            )
        return allow(rule_id)

    return check


def subject_level(ctx: Context) -> bool:
    """Whether the act is judged on one person's consent (enroll, verify, identify)."""
    return ctx.act in {Act.ENROLL, Act.VERIFY, Act.IDENTIFY}
