"""Figures over time from the operator's own ledger, for the regulator console's charts.

Read only through the Gate's public ledger functions (the signed checkpoint for the size,
``ledger_entry`` for each leaf), so the figures are those of the log a witness co-signs.
The newest :data:`WINDOW` entries are read once and kept (entries never change), so each
page view reads only what was appended since. Until the regulator node serves its own risk
view, this is what the console charts.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Final

from facegate.errors import LedgerError
from facegate.gate import Gate

#: the most entries the charts read (the newest ones)
WINDOW: Final = 5000
DENIED: Final = "policy.denied"
GIVEN: Final = "consent.given"
WITHDRAWN: Final = "consent.withdrawn"


@dataclass(frozen=True, slots=True)
class _Leaf:
    day: date
    kind: str
    rules: tuple[str, ...]


@dataclass(frozen=True)
class Figures:
    size: int
    read: int  # entries the figures are based on (the newest, at most WINDOW)
    days: tuple[date, ...]
    events_per_day: tuple[int, ...]
    consents_per_day: tuple[int, ...]
    withdrawals_per_day: tuple[int, ...]
    refusals_by_rule: tuple[tuple[str, int], ...]
    kinds: tuple[tuple[str, int], ...]


def ledger_size(gate: Gate) -> int:
    """The size of the latest signed checkpoint (its second line), 0 for an empty log."""
    try:
        note = gate.checkpoint()
    except LedgerError:
        return 0
    lines = note.splitlines()
    return int(lines[1]) if len(lines) > 1 and lines[1].isdigit() else 0


def _leaf(data: bytes) -> _Leaf:
    event = json.loads(data)
    at = datetime.fromisoformat(str(event["at"])).astimezone(UTC)
    return _Leaf(at.date(), str(event["kind"]), tuple(str(r) for r in event.get("rules") or ()))


class LedgerFigures:
    """The parsed newest entries of one Gate's ledger, extended as the log grows."""

    def __init__(self, gate: Gate) -> None:
        self._gate = gate
        self._leaves: dict[int, _Leaf] = {}
        self._lock = threading.Lock()

    def _refresh(self) -> int:
        size = ledger_size(self._gate)
        low = max(0, size - WINDOW)
        with self._lock:
            for index in [i for i in self._leaves if i < low]:
                del self._leaves[index]
            for index in range(low, size):
                if index not in self._leaves:
                    self._leaves[index] = _leaf(self._gate.ledger_entry(index).data)
        return size

    def figures(self, *, days: int = 14, today: date | None = None) -> Figures:
        size = self._refresh()
        with self._lock:
            leaves = list(self._leaves.values())
        today = today or datetime.now(UTC).date()
        span = tuple(today - timedelta(days=days - 1 - k) for k in range(days))
        per_day = Counter(leaf.day for leaf in leaves)
        given = Counter(leaf.day for leaf in leaves if leaf.kind == GIVEN)
        withdrawn = Counter(leaf.day for leaf in leaves if leaf.kind == WITHDRAWN)
        refusals = Counter(rule for leaf in leaves if leaf.kind == DENIED for rule in leaf.rules)
        return Figures(
            size=size,
            read=len(leaves),
            days=span,
            events_per_day=tuple(per_day[d] for d in span),
            consents_per_day=tuple(given[d] for d in span),
            withdrawals_per_day=tuple(withdrawn[d] for d in span),
            refusals_by_rule=tuple(sorted(refusals.items(), key=lambda kv: (-kv[1], kv[0]))[:12]),
            kinds=tuple(sorted(Counter(leaf.kind for leaf in leaves).items())),
        )
