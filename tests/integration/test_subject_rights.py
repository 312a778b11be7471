"""A person with only their access code: see what is held, complain, withdraw, erase."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from lawful import consent, live

from facegate.api.app import create_app
from facegate.errors import PolicyDenied, Unauthenticated
from facegate.gate import Gate

Photo = Callable[[str], bytes]


def _enrolled(gate: Gate, photo: Photo, ref: str = "obama") -> tuple[str, str]:
    dep = live(gate, name="Gate").id
    code = consent(gate, dep, ref).access_code
    gate.enroll(dep, ref, photo("fixtures/obama.jpg"))
    return dep, code


def test_what_is_held_and_erase(gate: Gate, photo: Photo) -> None:
    dep, code = _enrolled(gate, photo)
    view = gate.subject_view(code)
    held = view["held"]
    assert isinstance(held, dict)
    assert held["photos"] == 0 and held["raw_embeddings"] == 0
    assert len(held["protected_templates"]) == 1
    assert view["deployment"]["id"] == dep  # type: ignore[index]
    request = view["request"]
    assert request["status"] == "answered"  # type: ignore[index]
    record, receipt = gate.subject_erase(code)
    assert record.kind == "erase" and receipt.templates_erased == 1 and receipt.key_destroyed
    assert gate.counts()["subjects"] == 0
    with pytest.raises(Unauthenticated):
        gate.subject_view(code)
    assert gate.verify_ledger().ok


def test_complaint_has_a_deadline_and_needs_reasons_to_answer(gate: Gate, photo: Photo) -> None:
    _dep, code = _enrolled(gate, photo)
    complaint = gate.subject_complaint(code, "The camera was said to film the playground.")
    assert complaint.status == "open"
    assert complaint.due_at - complaint.received_at == timedelta(days=15)
    (listed,) = gate.open_requests()
    assert listed["request_id"] == complaint.request_id
    # The operator reads the person's words (sealed under their key at rest).
    assert listed["text"] == "The camera was said to film the playground."
    # An answer without reasons is a refusal of a legal duty, not an input error.
    with pytest.raises(PolicyDenied) as refused:
        gate.answer_request(complaint.request_id, reason="no")
    assert refused.value.rule_id == "CN-PIPL-44"
    answered = gate.answer_request(
        complaint.request_id, reason="The camera was re-aimed on 1 May; see photo log."
    )
    assert answered.status == "answered"
    assert gate.open_requests() == []


def test_wrong_codes_are_refused_alike(gate: Gate) -> None:
    for code in ("", "AAAAA-BBBBB-CCCCC-DDDDD", "x" * 100):
        with pytest.raises(Unauthenticated):
            gate.subject_view(code)


@pytest.fixture
def client(sqlite_gate: Gate) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_gate)) as c:
        yield c


def test_subject_routes_over_http(client: TestClient, sqlite_gate: Gate, photo: Photo) -> None:
    _dep, code = _enrolled(sqlite_gate, photo)
    r = client.get("/v1/subject/me", headers={"X-Access-Code": code})
    assert r.status_code == 200 and r.json()["held"]["photos"] == 0
    assert client.get("/v1/subject/me").status_code == 401  # no code: like a wrong one
    assert client.get("/v1/subject/me", headers={"X-Access-Code": "nope"}).status_code == 401
    r = client.post("/v1/subject/me/withdraw", headers={"X-Access-Code": code})
    assert r.status_code == 200 and r.json()["erasure"]["templates_erased"] == 1
    # Guessing codes is throttled.
    statuses = [
        client.get("/v1/subject/me", headers={"X-Access-Code": f"guess{i}"}).status_code
        for i in range(12)
    ]
    assert 429 in statuses


def test_my_evidence_bundle_verifies_offline(
    client: TestClient, sqlite_gate: Gate, photo: Photo
) -> None:
    from facegate.ledger.evidence_verify import verify_bundle

    dep, code = _enrolled(sqlite_gate, photo)
    sqlite_gate.verify(dep, "obama", photo("fixtures/obama2.jpg"))
    r = client.get("/v1/subject/me/evidence", headers={"X-Access-Code": code})
    assert r.status_code == 200, r.text
    verdict = verify_bundle(r.content, log_key=sqlite_gate.ledger_key())
    kinds = [e.kind for e in verdict.events]
    assert {"consent.given", "enroll", "verify"} <= set(kinds)
    assert kinds.index("consent.given") < kinds.index("enroll") < kinds.index("verify")
    assert verdict.lawful and verdict.log_key_trusted
    assert verdict.receipts >= 1
