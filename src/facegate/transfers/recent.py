"""The recent probes the watch judges, read from the ledger incrementally.

Each process keeps, per deployment, the 1:1 probes of each person (the last day) and the
1:N searches of each principal (the last hour) that the ledger recorded, and a cursor: the
last ledger index it read. A check reads only the entries written since (usually none or
one, by any process), so the door stays cheap; the first check of a deployment reads its
latest :data:`COLD_START` entries. The ledger stays the only source: nothing new is stored.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from facegate.core import Core, aware
from facegate.storage import tables as t
from facegate.transfers import detect

__all__ = ["COLD_START", "Recent", "recent"]

#: ledger entries of a deployment read at its first check
COLD_START = 2000
#: probes kept per person and searches per principal (more than any pattern needs)
_KEEP = 64
_KINDS = ("verify", "identify")


@dataclass
class Recent:
    """One deployment's recent probes, by person and by principal."""

    cursor: int = -1
    pruned_at: datetime | None = None
    probes: dict[str, deque[detect.Probe]] = field(default_factory=dict)
    searches: dict[str, deque[detect.Probe]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def of_person(self, pseudonym: str) -> list[detect.Probe]:
        with self.lock:
            return list(self.probes.get(pseudonym, ()))

    def of_principal(self, principal_id: str) -> list[detect.Probe]:
        with self.lock:
            return list(self.searches.get(principal_id, ()))


def recent(core: Core, s: Session, deployment_id: str) -> Recent:
    """The deployment's recent probes, brought up to date with the ledger."""
    states: dict[str, Recent] = core.__dict__.setdefault("_transfer_recent", {})
    state = states.setdefault(deployment_id, Recent())
    q = select(t.LedgerEntry.idx, t.LedgerEntry.kind, t.LedgerEntry.data).where(
        t.LedgerEntry.deployment_id == deployment_id, t.LedgerEntry.kind.in_(_KINDS)
    )
    if state.cursor < 0:
        rows = list(
            reversed(s.execute(q.order_by(t.LedgerEntry.idx.desc()).limit(COLD_START)).all())
        )
    else:
        rows = list(
            s.execute(q.where(t.LedgerEntry.idx > state.cursor).order_by(t.LedgerEntry.idx))
        )
    with state.lock:
        for idx, kind, data in rows:
            if idx <= state.cursor:
                continue  # another thread read it meanwhile
            _file(state, kind, json.loads(bytes(data)))
            state.cursor = idx
        state.cursor = max(state.cursor, 0)
        _prune(state, core.clock())
    return state


def _prune(state: Recent, now: datetime) -> None:
    """Forget people and principals with nothing recent (at most once a minute)."""
    if state.pruned_at is not None and (now - state.pruned_at).total_seconds() < 60:
        return
    state.pruned_at = now
    for kept, span in ((state.probes, detect.DAY), (state.searches, detect.WINDOW)):
        for key in [k for k, q in kept.items() if not q or q[-1].at < now - span]:
            del kept[key]


def _file(state: Recent, kind: str, leaf: dict[str, object]) -> None:
    details = leaf.get("details")
    d = details if isinstance(details, dict) else {}
    score = d.get("score")
    probe = detect.Probe(
        aware(datetime.fromisoformat(str(leaf["at"]))),
        str(d.get("decision", "")),
        float(score) if isinstance(score, int | float) else None,
    )
    if kind == "verify" and isinstance(leaf.get("subject"), str):
        state.probes.setdefault(str(leaf["subject"]), deque(maxlen=_KEEP)).append(probe)
    elif kind == "identify" and isinstance(leaf.get("by"), str):
        state.searches.setdefault(str(leaf["by"]), deque(maxlen=_KEEP)).append(probe)
