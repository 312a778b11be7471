"""The one policy door: every act a flow is about to do is decided here.

``enforce`` builds the act's context from the stored facts (:mod:`facegate.flows.facts`) and
the facts the flow brings, runs the deployment's packs (and the baseline), and either
returns the decision (its rule ids go into the act's ledger event) or records the refusal as
a ledger event of its own and raises :class:`~facegate.errors.PolicyDenied` citing the rule.
Flows never call :func:`facegate.policy.decide` themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from facegate.actors import Actor
from facegate.core import Core
from facegate.errors import Forbidden, PolicyDenied
from facegate.flows import facts
from facegate.ledger.events import Event
from facegate.policy import Act, Context, Decision, decide, parse_jurisdiction, rules_for
from facegate.policy.rules import DEPLOYMENT_LEVEL
from facegate.storage import tables as t
from facegate.transfers.watch import gatekeeper as _watch

#: a check run at the door before the packs; raises PolicyDenied (or returns None)
Gatekeeper = Callable[[Core, Session, t.Deployment, Act, Event], None]


def _orders(_core: Core, s: Session, dep: t.Deployment, act: Act, _event: Event) -> None:
    """A regulator's stop order in force stops every act that touches a face (and new
    consents), citing the order; people's rights stay open."""
    if act in DEPLOYMENT_LEVEL or act is Act.GIVE_CONSENT:
        from facegate.regulator.link import check_orders

        check_orders(s, dep.id)


#: regulator orders; then harvesting and attacks (hill-climbing, sweeps: facegate.transfers)
_GATEKEEPERS: tuple[Gatekeeper, ...] = (_orders, _watch)


def enforce(
    core: Core,
    s: Session,
    dep: t.Deployment,
    act: Act,
    event: Event,
    *,
    now: datetime | None = None,
    **act_facts: object,
) -> Decision:
    """Decide ``act`` on ``dep``; record and raise a refusal, return an allowed decision."""
    ctx = facts.context(s, dep, act, now or core.clock(), **act_facts)
    try:
        for check in _GATEKEEPERS:
            check(core, s, dep, act, event)
    except PolicyDenied as err:
        core.record_denial(err, event)
        raise
    return decide_or_refuse(core, ctx, event)


def decide_or_refuse(core: Core, ctx: Context, event: Event) -> Decision:
    """Run the packs over an assembled context (for acts whose facts are not all stored yet,
    such as a registration); record and raise a refusal."""
    rules = rules_for(parse_jurisdiction(ctx.deployment.jurisdiction))
    decision = decide(ctx, rules)
    try:
        decision.raise_if_denied()
    except PolicyDenied as err:
        core.record_denial(err, event)
        raise
    return decision


def require(actor: Actor, permission: str, what: str) -> None:
    """Refuse an act the actor's role does not allow (before anything is read)."""
    if not actor.may(permission):
        raise Forbidden(
            f"{actor.name} (role {actor.role}) may not {what}",
            advice="Act with the key of a principal whose role allows it "
            "(--key or FACEGATE_KEY; see 'facegate principal list').",
        )
