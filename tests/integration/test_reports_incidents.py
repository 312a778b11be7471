"""Breach records on real stores: the clocks, each step on the ledger, and a close that the
policy packs refuse while notice is still owed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from lawful import live
from sqlalchemy import select

from facegate.errors import Conflict, InvalidInput, PolicyDenied
from facegate.gate import Gate
from facegate.storage import tables as t
from facegate.supervision.incidents import (
    GDPR,
    PIPL,
    close_incident,
    get_incident,
    list_incidents,
    notify_incident,
    open_incident,
)

FOUND = datetime(2025, 10, 2, 9, 0, tzinfo=UTC)


def _dep(gate: Gate, name: str, *, jurisdiction: str = "cn") -> str:
    return live(gate, name=name, jurisdiction=jurisdiction).id


def _leaves(gate: Gate, prefix: str) -> list[dict[str, object]]:
    with gate.db.read() as s:
        rows = s.scalars(
            select(t.LedgerEntry.data)
            .where(t.LedgerEntry.kind.startswith(prefix))
            .order_by(t.LedgerEntry.idx)
        )
        return [json.loads(r) for r in rows]


def test_open_notify_close_under_both_laws(gate: Gate) -> None:
    core = gate._core
    cn_dep = _dep(gate, "north gate")
    eu_dep = _dep(gate, "berlin lobby", jurisdiction="cn+eu")
    inc = open_incident(
        core,
        discovered_at=FOUND,
        description="Backup disk with the templates database lost in transit",
        people_estimate=1200,
        deployments=[cn_dep, eu_dep],
        high_risk=True,
        now=FOUND + timedelta(hours=2),
    )
    assert inc.status == "open" and inc.jurisdictions == ("cn", "eu")
    clocks = {(o.rule_id, o.audience): o for o in inc.obligations}
    assert clocks[(GDPR, "regulator")].due_at == FOUND + timedelta(hours=72)
    assert clocks[(GDPR, "regulator")].hours_left == 70.0
    assert clocks[(PIPL, "regulator")].state == "due_now"
    assert clocks[(GDPR, "individuals")].state == "due_now"

    with pytest.raises(PolicyDenied) as refused:
        close_incident(
            core, inc.id, resolution="restored from a safe copy", now=FOUND + timedelta(hours=3)
        )
    assert refused.value.rule_id in {PIPL, GDPR}
    assert {PIPL, GDPR} <= set(refused.value.rule_ids)
    denial = _leaves(gate, "policy.denied")[-1]
    assert denial["details"]["act"] == "incident.closed"  # type: ignore[index]

    later = FOUND + timedelta(hours=80)
    with pytest.raises(InvalidInput):
        notify_incident(
            core, inc.id, audience="regulator", at=later + timedelta(hours=1), now=later
        )
    told = notify_incident(
        core,
        inc.id,
        audience="regulator",
        reference="CAC-2025-77",
        delay_reason="the loss was confirmed only after the carrier's search",
        at=FOUND + timedelta(hours=75),
        now=later,
    )
    assert told.status == "notified" and told.regulator_reference == "CAC-2025-77"
    clocks = {(o.rule_id, o.audience): o for o in told.obligations}
    assert clocks[(GDPR, "regulator")].state == "done_late"
    assert clocks[(PIPL, "regulator")].state == "done"
    with pytest.raises(Conflict):
        notify_incident(core, inc.id, audience="regulator", now=later)

    # the people affected still are owed notice: both laws say so for a high-risk breach
    with pytest.raises(PolicyDenied):
        close_incident(core, inc.id, resolution="restored", now=later)
    notify_incident(core, inc.id, audience="individuals", now=later)
    closed = close_incident(core, inc.id, resolution="restored; disks now encrypted", now=later)
    assert closed.status == "closed" and closed.closed_at == later

    steps = [leaf["kind"] for leaf in _leaves(gate, "incident.")]
    assert steps == [
        "incident.opened",
        "incident.notified",
        "incident.notified",
        "incident.closed",
    ]
    opened = _leaves(gate, "incident.opened")[0]
    details = opened["details"]
    assert isinstance(details, dict)
    assert "lost in transit" not in json.dumps(opened, ensure_ascii=False)  # only its hash
    assert details["description_sha256"] and details["deployments"] == [cn_dep, eu_dep]
    assert gate.verify_ledger().ok


def test_pipl_lets_harm_avoided_stand_in_for_telling_people(gate: Gate) -> None:
    core = gate._core
    dep = _dep(gate, "north gate")
    inc = open_incident(
        core,
        discovered_at=FOUND,
        description="An API key was posted in a public chat and revoked within minutes",
        people_estimate=0,
        now=FOUND,
    )
    assert inc.deployments == (dep,)  # none named: every deployment of the operator
    notify_incident(core, inc.id, audience="regulator", now=FOUND + timedelta(minutes=30))
    closed = close_incident(
        core, inc.id, resolution="key revoked, no access logged", harm_avoided=True, now=FOUND
    )
    assert closed.harm_avoided
    individuals = next(o for o in closed.obligations if o.audience == "individuals")
    assert individuals.state == "waived"
    with pytest.raises(Conflict):
        close_incident(core, inc.id, resolution="again", now=FOUND)


def test_listing_and_bad_input(gate: Gate) -> None:
    core = gate._core
    _dep(gate, "north gate")
    now = FOUND + timedelta(days=1)
    for hours in (0, 5):
        open_incident(
            core,
            discovered_at=FOUND + timedelta(hours=hours),
            description=f"incident {hours}",
            people_estimate=1,
            now=now,
        )
    found = list_incidents(core, now=now)
    assert [i.description for i in found] == ["incident 5", "incident 0"]
    assert get_incident(core, found[0].id, now=now).id == found[0].id
    with pytest.raises(InvalidInput, match="future"):
        open_incident(
            core,
            discovered_at=now + timedelta(seconds=1),
            description="x",
            people_estimate=1,
            now=now,
        )
    with pytest.raises(InvalidInput):
        open_incident(core, discovered_at=now, description="  ", people_estimate=1, now=now)
    with pytest.raises(InvalidInput):
        open_incident(core, discovered_at=now, description="x", people_estimate=-1, now=now)
