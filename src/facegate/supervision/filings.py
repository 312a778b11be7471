"""The filing monitor (CN-FR-15).

An operator that holds face data of 100,000 people or more must file with the provincial
cyberspace administration within 30 working days, amend the filing when what it states
changes materially, and cancel it when it stops. :func:`check_filing` counts the people
stored now and opens, amends or cancels the operator's filing accordingly, each step a
ledger event in the same transaction; :func:`record_submission` notes that the operator has
done what was owed. Deadlines are Chinese working days (``supervision.workdays``).

"Stopping" is taken as holding no face data any more (no stored template); a count that
falls below 100,000 without reaching zero leaves the filing in place, which the rule does not
forbid. A filing that was never submitted is simply withdrawn when the operator stops.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate._internal.ids import new_id
from facegate.core import Core, aware
from facegate.errors import Conflict, InvalidInput, NotFound
from facegate.flows.operators import LOCAL_OPERATOR
from facegate.ledger.events import Event, Kind
from facegate.policy.workdays import add_working_days, calendar_name, china_date
from facegate.reports.document import Report
from facegate.storage import tables as t
from facegate.supervision import metrics
from facegate.supervision.filing_document import (
    FilingFacts,
    build_filing_document,
    changed_parts,
    gather_filing_facts,
    material_sha256,
)
from facegate.supervision.results import FilingState

RULE = "CN-FR-15"
FILING_THRESHOLD = 100_000
FILING_WORKING_DAYS = 30


def filing_required(people: int, *, threshold: int = FILING_THRESHOLD) -> bool:
    """Whether holding face data of ``people`` people calls for a filing."""
    return people >= threshold


def check_filing(
    core: Core,
    *,
    operator_id: str = LOCAL_OPERATOR,
    now: datetime | None = None,
    threshold: int = FILING_THRESHOLD,
) -> FilingState:
    """Count the people stored now; open, amend or cancel the filing as the count and the
    operator's deployments call for. Idempotent: a second call with nothing changed does
    nothing."""
    now = now or core.clock()
    with core.db.transaction() as s:
        facts = gather_filing_facts(core, s, operator_id=operator_id, now=now)
        filing = _open_filing(s, operator_id)
        material = facts.material(threshold=threshold)
        digest = material_sha256(material)
        actions: list[str] = []
        events: list[Event] = []
        if filing is None:
            if filing_required(facts.people, threshold=threshold):
                filing = _open(core, s, facts, threshold=threshold, now=now, digest=digest)
                filing.document = {"material": material}
                actions.append("opened")
                events.append(_event(Kind.FILING_OPENED, filing, now, threshold=threshold))
        else:
            filing.people = facts.people
            if facts.people == 0:
                if filing.pending != "cancel":
                    actions.append(_stop(filing, now))
                    events.append(_event(Kind.FILING_CANCELLED, filing, now, threshold=threshold))
            else:
                if filing.pending == "cancel":
                    filing.pending = None
                    filing.updated_at = now
                    actions.append("resumed: face data is held again, no cancellation is due")
                if digest != filing.material_sha256:
                    parts = _amend(filing, material, digest, now)
                    actions.append("changed: " + ", ".join(parts))
                    events.append(
                        _event(Kind.FILING_AMENDED, filing, now, threshold=threshold, changed=parts)
                    )
        recorded = core.record(s, *events)
        state = _state(filing, facts, threshold=threshold, now=now)
    return state.model_copy(
        update={"actions": tuple(actions), "event_ids": tuple(r.event_id for r in recorded)}
    )


def filing_status(
    core: Core,
    *,
    operator_id: str = LOCAL_OPERATOR,
    now: datetime | None = None,
    threshold: int = FILING_THRESHOLD,
) -> FilingState:
    """Where the operator stands, without changing anything."""
    now = now or core.clock()
    with core.db.read() as s:
        facts = gather_filing_facts(core, s, operator_id=operator_id, now=now)
        return _state(_latest_filing(s, operator_id), facts, threshold=threshold, now=now)


def record_submission(
    core: Core,
    *,
    reference: str,
    operator_id: str = LOCAL_OPERATOR,
    now: datetime | None = None,
    threshold: int = FILING_THRESHOLD,
) -> FilingState:
    """The operator has filed (or amended, or cancelled) with the administration."""
    now = now or core.clock()
    reference = reference.strip()
    if not reference or len(reference) > 200:
        raise InvalidInput(
            "a filing reference must be 1 to 200 characters",
            advice="Give the number the cyberspace administration issued for the filing.",
        )
    with core.db.transaction() as s:
        filing = _open_filing(s, operator_id)
        if filing is None:
            raise NotFound(
                f"operator {operator_id!r} has no open filing",
                advice="Run 'facegate filing status' first; a filing opens at 100,000 people.",
            )
        if filing.pending is None:
            raise Conflict(
                f"filing {filing.id} owes nothing to the administration now",
                advice="A submission is recorded once per filing, amendment or cancellation.",
            )
        done = filing.pending
        filing.reference = reference
        filing.submitted_at = now
        filing.pending = None
        filing.updated_at = now
        if done == "cancel":
            filing.status = "cancelled"
            filing.cancelled_at = now
        recorded = core.record(
            s,
            _event(Kind.FILING_SUBMITTED, filing, now, threshold=threshold, done=done),
        )
        facts = gather_filing_facts(core, s, operator_id=operator_id, now=now)
        state = _state(filing, facts, threshold=threshold, now=now)
    return state.model_copy(
        update={"actions": (f"submitted: {done}",), "event_ids": (recorded[0].event_id,)}
    )


def filing_document(
    core: Core,
    *,
    operator_id: str = LOCAL_OPERATOR,
    now: datetime | None = None,
    threshold: int = FILING_THRESHOLD,
) -> Report:
    """The filing document as it stands now (nothing recorded)."""
    now = now or core.clock()
    with core.db.read() as s:
        facts = gather_filing_facts(core, s, operator_id=operator_id, now=now)
        state = _state(_latest_filing(s, operator_id), facts, threshold=threshold, now=now)
    return build_filing_document(facts, state)


# --- internals -------------------------------------------------------------------------------


def _open_filing(s: Session, operator_id: str) -> t.Filing | None:
    return s.scalar(
        select(t.Filing)
        .where(t.Filing.operator_id == operator_id, t.Filing.status == "open")
        .order_by(t.Filing.opened_at.desc())
        .limit(1)
    )


def _latest_filing(s: Session, operator_id: str) -> t.Filing | None:
    return s.scalar(
        select(t.Filing)
        .where(t.Filing.operator_id == operator_id)
        .order_by(t.Filing.opened_at.desc(), t.Filing.id.desc())
        .limit(1)
    )


def _open(
    core: Core, s: Session, facts: FilingFacts, *, threshold: int, now: datetime, digest: str
) -> t.Filing:
    reached = metrics.nth_person_since(s, operator_id=facts.operator_id, n=threshold)
    reached = min(aware(reached), now) if reached is not None else now
    filing = t.Filing(
        id=new_id("fil", core.entropy),
        operator_id=facts.operator_id,
        status="open",
        pending="file",
        pending_since=reached,
        reached_at=reached,
        people=facts.people,
        document={},
        material_sha256=digest,
        amendments=0,
        reference="",
        opened_at=now,
        updated_at=now,
    )
    s.add(filing)
    return filing


def _amend(filing: t.Filing, material: dict[str, object], digest: str, now: datetime) -> list[str]:
    """Take in a material change; once the filing was submitted, an amendment is owed."""
    before = filing.document.get("material")
    parts = changed_parts(before if isinstance(before, dict) else {}, material)
    filing.document = {"material": material}
    filing.material_sha256 = digest
    filing.updated_at = now
    if filing.submitted_at is not None and filing.pending != "amend":
        filing.pending = "amend"
        filing.pending_since = now
        filing.amendments += 1
    return parts


def _stop(filing: t.Filing, now: datetime) -> str:
    filing.updated_at = now
    if filing.submitted_at is None and filing.pending == "file":
        filing.status = "cancelled"
        filing.pending = None
        filing.cancelled_at = now
        return "withdrawn: no face data is held any more and it was never submitted"
    if filing.pending != "cancel":
        filing.pending = "cancel"
        filing.pending_since = now
    return "cancellation due: no face data is held any more"


def _event(
    kind: Kind, filing: t.Filing, now: datetime, *, threshold: int, **extra: object
) -> Event:
    details: dict[str, object] = {
        "filing_id": filing.id,
        "people": filing.people,
        "threshold": threshold,
        "pending": filing.pending,
        "status": filing.status,
        **extra,
    }
    if filing.pending is not None:
        deadline = add_working_days(china_date(aware(filing.pending_since)), FILING_WORKING_DAYS)
        details["due_on"] = deadline.due.isoformat()
        details["due_provisional"] = deadline.provisional
    return Event(kind, now, operator=filing.operator_id, rule_ids=(RULE,), details=details)


def _state(
    filing: t.Filing | None, facts: FilingFacts, *, threshold: int, now: datetime
) -> FilingState:
    base = FilingState(
        operator_id=facts.operator_id,
        people=facts.people,
        people_note=metrics.PEOPLE_PROXY_NOTE,
        threshold=threshold,
        required=filing_required(facts.people, threshold=threshold),
        calendar=calendar_name(),
    )
    if filing is None:
        return base
    update: dict[str, object] = {
        "filing_id": filing.id,
        "status": filing.status,
        "pending": filing.pending,
        "reached_at": aware(filing.reached_at),
        "amendments": filing.amendments,
        "reference": filing.reference,
        "submitted_at": aware(filing.submitted_at) if filing.submitted_at else None,
    }
    if filing.pending is not None:
        since = aware(filing.pending_since)
        deadline = add_working_days(china_date(since), FILING_WORKING_DAYS)
        today = china_date(now)
        update |= {
            "pending_since": since,
            "due_on": deadline.due,
            "due_provisional": deadline.provisional,
            "working_days_left": deadline.working_days_left(today),
            "overdue": today > deadline.due,
        }
    return base.model_copy(update=update)
