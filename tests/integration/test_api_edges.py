"""Issue 12 item 5: integers past 2**63 and control characters are refused at the edge with
the documented error shape (never a 500), and a NUL that reaches the domain layer is
InvalidInput on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lawful import CN_SPEC, consent, live

from facegate.api.app import create_app
from facegate.errors import InvalidInput
from facegate.gate import Gate

BIG = 2**63
Client = tuple[TestClient, dict[str, str]]


@pytest.fixture
def client(gate: Gate) -> Iterator[Client]:
    key = gate.issue_api_key(label="test").key
    # raise_server_exceptions=False: a 500 must show up as a 500 here, not as a raise
    with TestClient(create_app(gate), raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def _documented(r: object, status: int) -> dict[str, object]:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert {"error", "message", "advice"} <= body.keys(), body
    return body  # type: ignore[no-any-return]


def _deployment(c: TestClient, auth: dict[str, str], name: str = "Lobby") -> object:
    return c.post("/v1/deployments", headers=auth, json={**CN_SPEC, "name": name})


def test_indexes_past_int64_are_422_not_500(client: Client) -> None:
    c, auth = client
    for url, headers in (
        (f"/v1/ledger/checkpoint/{BIG}", {}),
        (f"/v1/ledger/checkpoint/{BIG * 10**20}", {}),
        (f"/v1/ledger/entries/{BIG}", auth),
        (f"/v1/ledger/inclusion?index={BIG}", {}),
        (f"/v1/ledger/inclusion?index=0&size={BIG}", {}),
        (f"/v1/ledger/consistency?old={BIG}", {}),
        ("/v1/ledger/checkpoint/-1", {}),
    ):
        assert _documented(c.get(url, headers=headers), 422)["error"] == "invalid_request"
    # the largest allowed value is a plain "not there"
    assert c.get(f"/v1/ledger/checkpoint/{BIG - 1}").status_code == 404
    assert c.get(f"/v1/ledger/entries/{BIG - 1}", headers=auth).status_code == 404
    too_far = _documented(c.get(f"/v1/ledger/inclusion?index={BIG - 1}"), 400)
    assert too_far["error"] == "invalid_input"  # index >= size: a relation, said in words


def test_control_characters_in_paths_and_queries_are_400(client: Client) -> None:
    c, auth = client
    for url in (
        "/v1/deployments/dep%00x",
        "/v1/deployments/dep%01x/notice",
        "/v1/ledger/evidence?deployment=a%00b",
        "/v1/ledger/evidence?pseudonym=%1b[31m",
        "/v1/ledger/evidence?deployment=%ff%fe",  # not UTF-8
    ):
        body = _documented(c.get(url, headers=auth), 400)
        assert body["error"] == "invalid_request"


def test_nul_in_a_body_field_is_400_on_both_databases(client: Client, gate: Gate) -> None:
    c, auth = client
    before = gate.counts()
    # the model refuses it (Text's pattern), naming the field
    body = _documented(_deployment(c, auth, name="Lob\x00by"), 422)  # type: ignore[arg-type]
    assert body["error"] == "invalid_request" and "name" in str(body["message"])
    assert gate.counts() == before  # nothing was written
    dep = live(gate).id
    code = consent(gate, dep, "alice").access_code
    r = c.post(
        "/v1/subject/me/complaints",
        headers={"X-Access-Code": code},
        json={"text": "my data was shown to my neighbour \x00 please act"},
    )
    _documented(r, 422)  # ComplaintIn's pattern: no control characters
    assert gate.open_requests() == []


def test_cosignature_with_control_characters_is_400(client: Client) -> None:
    c, _ = client
    r = c.post("/v1/ledger/cosignatures", content=b"facegate.local/ledger\n\x00\n")
    _documented(r, 400)


def test_the_domain_layer_turns_nul_into_invalid_input(gate: Gate) -> None:
    dep = live(gate, name="Lobby").id
    code = consent(gate, dep, "bob").access_code
    before = gate.counts()
    with pytest.raises(InvalidInput):
        gate.create_deployment(**{**CN_SPEC, "name": "Lob\x00by"})  # the spec's own check
    with pytest.raises(InvalidInput):
        gate.subject_complaint(code, "bad \x00 data here")  # the flow's own check
    # ids go straight into queries: the database layer refuses the NUL (a 500 on PostgreSQL
    # before issue 12)
    with pytest.raises(InvalidInput, match="NUL"):
        gate.get_deployment("dep\x00x")
    with pytest.raises(InvalidInput, match="NUL"):
        gate.answer_request("req\x00x", reason="answered")
    with pytest.raises(InvalidInput):
        gate.ledger_entry(BIG)
    assert gate.counts() == before
    assert gate.open_requests() == []
