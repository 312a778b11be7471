"""Remote identification: a match is pending until two distinct reviewer principals confirm it,
each under their own key (no longer reviewer names typed under one key)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from lawful import consent, live

from facegate.errors import Conflict, Forbidden
from facegate.gate import Gate

Photo = Callable[[str], bytes]


def _remote_deployment(gate: Gate, photo: Photo) -> str:
    dep = live(
        gate,
        name="Station",
        purpose="Find missing persons at the station",
        location="office",
        alternative="staffed desk",
        capabilities=["verify", "remote_identification"],
    ).id
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    return dep


def _reviewer(gate: Gate, name: str) -> Gate:
    return gate.acting_as(gate.create_principal(name, "reviewer").api_key.key)


def test_two_distinct_reviewers_name_the_person(gate: Gate, photo: Photo) -> None:
    dep = _remote_deployment(gate, photo)
    found = gate.identify(dep, photo("fixtures/obama2.jpg"))
    assert found.decision == "pending" and found.subject_ref is None and found.score is None
    idn = found.identification_id
    assert idn and [p["identification_id"] for p in gate.pending_reviews()] == [idn]
    # The operator's admin is not a reviewer: the match cannot be confirmed under its key.
    with pytest.raises(Forbidden):
        gate.review_identification(idn, confirm=True)
    staff17, staff42 = _reviewer(gate, "staff-17"), _reviewer(gate, "staff-42")
    # One person is one principal whatever the case of the name ("r1" then "R1").
    with pytest.raises(Conflict):
        gate.create_principal("STAFF-17", "reviewer")
    first = staff17.review_identification(idn, confirm=True)
    assert first.status == "pending" and first.subject_ref is None
    with pytest.raises(Conflict):
        staff17.review_identification(idn, confirm=True)
    second = staff42.review_identification(idn, confirm=True)
    assert second.status == "confirmed" and second.subject_ref == "obama"
    assert second.reviewers == [staff17.actor.principal_id, staff42.actor.principal_id]
    with pytest.raises(Conflict):
        _reviewer(gate, "staff-99").review_identification(idn, confirm=True)
    assert gate.pending_reviews() == []
    assert gate.verify_ledger().ok


def test_one_rejection_closes_it(gate: Gate, photo: Photo) -> None:
    dep = _remote_deployment(gate, photo)
    found = gate.identify(dep, photo("fixtures/obama2.jpg"))
    assert found.identification_id
    rejected = _reviewer(gate, "a").review_identification(found.identification_id, confirm=False)
    assert rejected.status == "rejected" and rejected.subject_ref is None
    with pytest.raises(Conflict):
        _reviewer(gate, "b").review_identification(found.identification_id, confirm=True)
    # Strangers are never pending: unknown is unknown, with no score.
    stranger = gate.identify(dep, photo("fixtures/Anthony_Hopkins_0001.jpg"))
    assert (stranger.decision, stranger.score, stranger.identification_id) == (
        "unknown",
        None,
        None,
    )
