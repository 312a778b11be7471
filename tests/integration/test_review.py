"""Remote identification: a match is pending until two distinct reviewers confirm it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from facegate.errors import Conflict
from facegate.gate import Gate

Photo = Callable[[str], bytes]


def _remote_deployment(gate: Gate, photo: Photo) -> str:
    dep = gate.create_deployment(
        name="Station",
        purpose="Find missing persons at the station",
        location="office",
        alternative="staffed desk",
        capabilities=["verify", "remote_identification"],
    ).id
    gate.give_consent(dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    return dep


def test_two_distinct_reviewers_name_the_person(sqlite_gate: Gate, photo: Photo) -> None:
    gate = sqlite_gate
    dep = _remote_deployment(gate, photo)
    found = gate.identify(dep, photo("fixtures/obama2.jpg"))
    assert found.decision == "pending" and found.subject_ref is None
    assert found.identification_id
    first = gate.review_identification(found.identification_id, reviewer="staff-17", confirm=True)
    assert first.status == "pending" and first.subject_ref is None
    with pytest.raises(Conflict):
        gate.review_identification(found.identification_id, reviewer="staff-17", confirm=True)
    second = gate.review_identification(found.identification_id, reviewer="staff-42", confirm=True)
    assert second.status == "confirmed" and second.subject_ref == "obama"
    assert second.reviewers == ["staff-17", "staff-42"]
    with pytest.raises(Conflict):
        gate.review_identification(found.identification_id, reviewer="staff-99", confirm=True)
    assert gate.verify_ledger().ok


def test_one_rejection_closes_it(sqlite_gate: Gate, photo: Photo) -> None:
    gate = sqlite_gate
    dep = _remote_deployment(gate, photo)
    found = gate.identify(dep, photo("fixtures/obama2.jpg"))
    assert found.identification_id
    rejected = gate.review_identification(found.identification_id, reviewer="a", confirm=False)
    assert rejected.status == "rejected" and rejected.subject_ref is None
    # Strangers are never pending: unknown is unknown.
    assert gate.identify(dep, photo("fixtures/Anthony_Hopkins_0001.jpg")).decision == "unknown"
