"""What the supervision functions hand back: frozen, JSON-ready (``model_dump(mode="json")``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json")


class FilingState(_Frozen):
    """Where an operator stands with the CN-FR-15 filing."""

    rule_id: Literal["CN-FR-15"] = "CN-FR-15"
    operator_id: str
    people: int
    people_note: str
    threshold: int
    required: bool
    filing_id: str | None = None
    status: Literal["none", "open", "cancelled"] = "none"
    #: the act the operator still owes the administration, if any
    pending: Literal["file", "amend", "cancel"] | None = None
    pending_since: datetime | None = None
    due_on: date | None = None
    #: the deadline counts days of a year the holiday calendar has no official data for yet
    due_provisional: bool = False
    working_days_left: int | None = None
    overdue: bool = False
    reached_at: datetime | None = None
    amendments: int = 0
    reference: str = ""
    submitted_at: datetime | None = None
    calendar: str = ""
    #: what this call changed ("opened", "amendment due: ...", ...), and the ledger events
    actions: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()


Audience = Literal["regulator", "individuals"]
ObligationState = Literal["done", "done_late", "pending", "due_now", "overdue", "waived"]
IncidentStatus = Literal["open", "notified", "closed"]


class Obligation(_Frozen):
    """One notification an incident calls for, and whether it was made in time."""

    rule_id: str
    audience: Audience
    #: what the law says about timing, in words
    when: str
    #: the latest moment; for "immediately" the moment of discovery
    due_at: datetime
    immediate: bool
    done_at: datetime | None = None
    state: ObligationState
    hours_left: float | None = None


class IncidentInfo(_Frozen):
    id: str
    operator_id: str
    discovered_at: datetime
    description: str
    deployments: tuple[str, ...]
    jurisdictions: tuple[str, ...]
    people_estimate: int
    high_risk: bool
    status: IncidentStatus
    obligations: tuple[Obligation, ...]
    regulator_reference: str = ""
    delay_reason: str = ""
    harm_avoided: bool = False
    resolution: str = ""
    closed_at: datetime | None = None
    event_id: str = ""
