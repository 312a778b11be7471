"""Why a ledger event happened: the entry read from the store, explained by the policy
catalogue (``facegate policy explain EVT``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.errors import NotFound
from facegate.ledger.hasher import hash_leaf
from facegate.policy.explain import EventExplanation, explain_leaf
from facegate.storage import tables as t


def explain_event(s: Session, event_id: str) -> EventExplanation:
    """The kind of a ledger event and each rule id it recorded, explained."""
    row = s.scalar(select(t.LedgerEntry).where(t.LedgerEntry.event_id == event_id.strip()))
    if row is None:
        raise NotFound(
            f"no ledger event {event_id!r}",
            advice="Event ids are printed with each act (event_id) and in 'policy.denied' entries.",
        )
    data = bytes(row.data)
    return explain_leaf(data, intact=hash_leaf(data) == bytes(row.leaf_hash))
