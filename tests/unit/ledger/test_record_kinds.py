"""The partial index of migration 0016 and the hold on deployment rows (ledger/held.py) name
the record events by their strings: they must be the kinds the deployment flows record."""

from __future__ import annotations

from facegate.ledger.events import Kind
from facegate.storage.tables.core import RECORD_KINDS, RECORD_KINDS_SQL


def test_the_record_kinds_are_the_deployment_flows_kinds() -> None:
    flows = (
        Kind.DEPLOYMENT_CREATED,
        Kind.DEPLOYMENT_CHANGED,
        Kind.PIA_SIGNED,
        Kind.DEPLOYMENT_ENDED,
    )
    assert tuple(str(k) for k in flows) == RECORD_KINDS
    # the migration's condition, word for word (a partial index serves only that condition)
    assert RECORD_KINDS_SQL == (
        "kind IN ('deployment.created', 'deployment.changed', 'pia.signed', 'deployment.ended')"
    )
