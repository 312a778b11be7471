"""The CN-FR-15 filing monitor on real stores: the counting query, the 100,000 threshold,
the exact deadline across the 2025 National Day holidays, amendment and cancellation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from lawful import OPERATOR, consent, live
from sqlalchemy import insert, select

from facegate.config import Settings
from facegate.core import Core
from facegate.gate import Gate
from facegate.policy.workdays import calendar_years
from facegate.recognition import FaceEngine
from facegate.storage import tables as t
from facegate.supervision import metrics
from facegate.supervision.filings import (
    FILING_THRESHOLD,
    check_filing,
    filing_document,
    filing_status,
    record_submission,
)

Photo = Callable[[str], bytes]
#: Friday 26 September 2025, 10:00 in Beijing
REACHED = datetime(2025, 9, 26, 2, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(REACHED)


@pytest.fixture
def timed_gate(settings: Settings, face_engine: FaceEngine, clock: Clock) -> Iterator[Gate]:
    with Gate.open(settings=settings, engine=face_engine, clock=clock, create=True) as g:
        yield g


def _core(gate: Gate) -> Core:
    return gate._core


def _dep(gate: Gate, name: str) -> str:
    return live(gate, name=name, purpose=f"Residents open the {name} by face").id


def _ledger_kinds(gate: Gate) -> list[str]:
    with gate.db.read() as s:
        return list(s.scalars(select(t.LedgerEntry.kind).order_by(t.LedgerEntry.idx)))


def test_people_are_counted_per_deployment_and_only_with_a_template(
    timed_gate: Gate, photo: Photo, clock: Clock
) -> None:
    gate = timed_gate
    north, south = _dep(gate, "north gate"), _dep(gate, "south gate")
    for ref in ("obama", "biden", "carol"):
        consent(gate, north, ref)
    consent(gate, south, "obama")
    gate.enroll(north, "obama", photo("fixtures/obama.jpg"))
    gate.enroll(north, "obama", photo("fixtures/obama2.jpg"))  # a second template, same person
    gate.enroll(north, "biden", photo("fixtures/biden.jpg"))
    gate.enroll(south, "obama", photo("fixtures/obama.jpg"))
    with gate.db.read() as s:
        # carol consented but holds no template; obama counts once per deployment
        assert metrics.people_by_deployment(s, operator_id="op_local") == {north: 2, south: 1}
        assert metrics.people_stored(s, operator_id="op_local") == 3
        counts = metrics.deployment_counts(s, north)
        assert (counts.subjects, counts.people_stored, counts.templates) == (3, 2, 3)
        assert counts.events["enroll"] == 3 and counts.events["consent.given"] == 3
        assert metrics.deployment_counts(s, south).events["consent.given"] == 1

    below = check_filing(_core(gate), threshold=4)
    assert (below.people, below.required, below.filing_id) == (3, False, None)
    clock.now = REACHED + timedelta(days=3)  # Monday 29 September
    state = check_filing(_core(gate), threshold=3)
    assert state.people == 3 and state.required and state.actions == ("opened",)
    assert state.status == "open" and state.pending == "file"
    # the threshold was reached when the third person got a template, on the Friday
    assert state.reached_at == REACHED
    assert state.due_on == date(2025, 11, 13)
    assert state.working_days_left == 28
    assert not state.overdue and not state.due_provisional
    assert "counted per deployment" in state.people_note
    assert _ledger_kinds(gate)[-1] == "filing.opened"
    assert gate.verify_ledger().ok


def test_the_threshold_is_100000_people_on_the_real_query(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = _dep(gate, "stadium turnstiles")
    early = datetime(2025, 9, 1, tzinfo=UTC)
    _bulk_people(gate, dep, FILING_THRESHOLD - 1, created_at=early)
    now = datetime(2025, 9, 29, 1, 0, tzinfo=UTC)
    state = check_filing(_core(gate), now=now)
    assert (state.people, state.required, state.filing_id) == (99_999, False, None)
    _bulk_people(gate, dep, 1, created_at=REACHED, start=FILING_THRESHOLD)
    state = check_filing(_core(gate), now=now)
    assert state.people == 100_000 and state.required
    assert state.reached_at == REACHED
    assert state.due_on == date(2025, 11, 13)
    late = filing_status(_core(gate), now=datetime(2025, 11, 14, 1, 0, tzinfo=UTC))
    assert late.overdue and late.working_days_left == -1


def test_file_amend_cancel(timed_gate: Gate, photo: Photo, clock: Clock) -> None:
    gate, core = timed_gate, _core(timed_gate)
    dep = _dep(gate, "north gate")
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    assert check_filing(core, threshold=1).pending == "file"
    assert check_filing(core, threshold=1).event_ids == ()  # nothing changed: nothing done

    clock.now = datetime(2025, 10, 20, 2, 0, tzinfo=UTC)
    filed = record_submission(core, reference="京网信备-2025-0001")
    assert filed.pending is None and filed.reference == "京网信备-2025-0001"
    assert filed.submitted_at == clock.now

    # a new purpose is a material change: an amendment is owed 30 working days later
    clock.now = datetime(2025, 10, 21, 2, 0, tzinfo=UTC)
    _dep(gate, "car park")
    amended = check_filing(core, threshold=1)
    assert amended.pending == "amend" and amended.amendments == 1
    assert amended.actions == ("changed: deployments",)
    assert amended.due_on == date(2025, 12, 2)
    record_submission(core, reference="京网信备-2025-0001-1")

    # holding nobody's face any more: the filing must be cancelled
    clock.now = datetime(2025, 12, 1, 2, 0, tzinfo=UTC)
    gate.erase(dep, "obama")
    stopping = check_filing(core, threshold=1)
    assert stopping.pending == "cancel" and stopping.people == 0
    cancelled = record_submission(core, reference="京网信备-2025-0001-X")
    assert cancelled.status == "cancelled" and cancelled.pending is None
    kinds = [k for k in _ledger_kinds(gate) if k.startswith("filing.")]
    assert kinds == [
        "filing.opened",
        "filing.submitted",
        "filing.amended",
        "filing.submitted",
        "filing.cancelled",
        "filing.submitted",
    ]
    with gate.db.read() as s:
        leaf = json.loads(
            s.scalars(select(t.LedgerEntry.data).order_by(t.LedgerEntry.idx)).all()[-1]
        )
    assert leaf["rules"] == ["CN-FR-15"] and leaf["details"]["done"] == "cancel"
    assert gate.verify_ledger().ok


def test_a_filing_never_submitted_is_withdrawn_when_processing_stops(
    timed_gate: Gate, photo: Photo
) -> None:
    gate, core = timed_gate, _core(timed_gate)
    dep = _dep(gate, "north gate")
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    check_filing(core, threshold=1)
    gate.withdraw_consent(dep, "obama")
    state = check_filing(core, threshold=1)
    assert state.status == "cancelled" and state.pending is None
    assert state.actions[0].startswith("withdrawn")


def test_a_deadline_in_an_unpublished_year_is_provisional(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    dep = _dep(gate, "north gate")
    last = calendar_years()[1]
    reached = datetime(last, 12, 20, 2, 0, tzinfo=UTC)
    _bulk_people(gate, dep, 2, created_at=reached)
    state = check_filing(_core(gate), threshold=2, now=reached + timedelta(hours=1))
    assert state.due_provisional and state.due_on is not None
    assert state.due_on.year == last + 1


def test_the_filing_document_lists_what_cn_fr_15_asks(
    timed_gate: Gate, photo: Photo, tmp_path: Path
) -> None:
    gate, core = timed_gate, _core(timed_gate)
    dep = _dep(gate, "north gate")
    gate.set_operator(address="88 Garden Road, Shanghai")
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    check_filing(core, threshold=1)
    doc = filing_document(core, threshold=1)
    titles = [s.title_zh for s in doc.sections]
    assert titles[:6] == [
        "人脸信息处理者基本情况",
        "人脸信息处理目的和方式",
        "处理人脸信息的数量和存储方式",
        "安全保护措施",
        "人脸信息处理规则",
        "个人信息保护影响评估报告",
    ]
    values = {i.label: i.value for s in doc.sections for i in s.items}
    assert values["Name"] == OPERATOR["name"]
    assert values["Address"] == "88 Garden Road, Shanghai"
    assert values["People whose face data is stored"].startswith("1 as of 2025-09-26")
    # The DPO signed the assessment that took the deployment live; the report is still owed.
    assert values[f"PIA of {dep}"].startswith("version 1 (sha256 ")
    assert "signed by the DPO" in values[f"PIA of {dep}"]
    assert values[f"PIA of {dep}"].endswith("no report issued yet (facegate report pia)")
    assert "file by 2025-11-13" in values["Owed to the administration"]
    purposes = doc.sections[1].table
    assert purposes is not None and "Residents open the north gate by face" in purposes.rows[0]


def _bulk_people(gate: Gate, dep: str, n: int, *, created_at: datetime, start: int = 0) -> None:
    """``n`` people with one template each, written straight into the tables (no face model:
    only the count and the times matter here)."""
    subjects = [
        {
            "id": f"sub_bulk{start + i:08d}",
            "deployment_id": dep,
            "ref_hmac": f"{start + i:064d}",
            "ref_sealed": b"x",
            "pseudonym": f"bulk{start + i:08d}",
            "created_at": created_at,
        }
        for i in range(n)
    ]
    templates = [
        {
            "id": f"tpl_bulk{start + i:08d}",
            "subject_id": f"sub_bulk{start + i:08d}",
            "deployment_id": dep,
            "scheme": "biohash-v1",
            "sealed": b"x",
            "created_at": created_at,
            "expires_at": created_at + timedelta(days=365),
        }
        for i in range(n)
    ]
    with gate.db.transaction() as s:
        s.execute(insert(t.Subject), subjects)
        s.execute(insert(t.Template), templates)
