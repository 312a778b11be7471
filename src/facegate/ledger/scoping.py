"""What one operator may read of a ledger it shares with others (the HTTP routes use this).

An entry belongs to the operator its leaf names (the authenticated ``operator`` field, not a
column). Anything else, and anything that does not exist, is answered with one and the same
:class:`~facegate.errors.NotFound`, so the answer tells nothing about other operators' objects.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

from facegate.errors import NotFound
from facegate.ledger.records import StoredEntry

if TYPE_CHECKING:
    from facegate.gate import Gate

__all__ = ["own_entry", "public_problem"]


def own_entry(gate: Gate, index: int, operator_id: str) -> StoredEntry:
    """Entry ``index`` if its leaf names ``operator_id`` as the operator."""
    hidden = NotFound(
        f"no ledger entry {index} is visible to this API key",
        advice="An operator's key reads its own entries; proofs and tiles are public.",
    )
    try:
        entry = gate.ledger_entry(index)
    except NotFound:
        raise hidden from None
    try:
        owner = json.loads(entry.data).get("operator")
    except (UnicodeDecodeError, ValueError, AttributeError):
        owner = None
    if owner != operator_id:
        raise hidden
    return entry


def public_problem(report: Mapping[str, object]) -> str:
    """A failed verification's problem without the values found (they may be anyone's)."""
    where = report.get("first_bad_index")
    missing = report.get("missing_heads") or ()
    parts = ["the ledger does not verify"]
    if where is not None:
        parts.append(f"first bad entry: {where}")
    if isinstance(missing, list | tuple) and missing:
        parts.append(f"signed heads missing at sizes {', '.join(map(str, missing))}")
    return "; ".join(parts) + " (details: 'facegate ledger verify' on the server)"
