"""Bad input to every regulator route is a clear 4xx and changes nothing; never a 500."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from regulator_support import Clock, FakeLog, new_regulator

from facegate.regulator.app import create_regulator_app
from facegate.regulator.protocol import sign_link


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[tuple[TestClient, FakeLog, str]]:
    from datetime import UTC, datetime

    reg, token = new_regulator(tmp_path / "reg", clock=Clock(datetime.now(UTC)))
    log = FakeLog()
    reg.approve(log.origin, vkey=log.vkey)
    with reg, TestClient(create_regulator_app(reg), raise_server_exceptions=False) as client:
        yield client, log, token


def _signed(log: FakeLog, method: str, path: str, body: bytes) -> dict[str, str]:
    return sign_link(
        log.signer.private_key, log.origin, method, path, timestamp=int(time.time()), body=body
    )


GARBAGE = [
    b"",
    b"null",
    b"[]",
    b"{",
    b'{"start": -1, "entries": ["AA=="]}',
    b'{"start": 0, "entries": ["***"]}',
    b'{"start": true, "entries": []}',
    b'{"ref": "", "document": {}}',
    b'{"ref": "x", "document": []}',
    b"\xff" * 10,
]


@pytest.mark.parametrize("body", GARBAGE)
def test_signed_link_routes_refuse_garbage(
    setup: tuple[TestClient, FakeLog, str], body: bytes
) -> None:
    client, log, _ = setup
    for path in (
        "/v1/mirror/entries",
        "/v1/inbox/filing",
        "/v1/inbox/incident",
        "/v1/inbox/order_ack",
        "/v1/inbox/nonsense",
    ):
        r = client.post(path, content=body, headers=_signed(log, "POST", path, body))
        assert 400 <= r.status_code < 500, (path, body, r.status_code, r.text)
    r = client.get("/v1/orders?after=-1", headers=_signed(log, "GET", "/v1/orders?after=-1", b""))
    assert r.status_code == 422


@pytest.mark.parametrize("body", GARBAGE)
def test_official_and_public_routes_refuse_garbage(
    setup: tuple[TestClient, FakeLog, str], body: bytes
) -> None:
    client, log, token = setup
    auth = {"Authorization": f"Bearer {token}"}
    for path in ("/v1/logs/approve", "/v1/logs/state", "/v1/orders"):
        assert client.post(path, content=body).status_code == 401
        r = client.post(path, content=body, headers=auth)
        assert 400 <= r.status_code < 500, (path, body, r.status_code, r.text)
    assert 400 <= client.post("/v1/register", content=body).status_code < 500
    assert 400 <= client.post("/add-checkpoint", content=body).status_code < 500
    assert client.get("/v1/findings", params={"origin": "nope"}, headers=auth).status_code == 404
    assert client.get("/v1/risk", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/logs", headers=auth).json()[0]["size"] == 0  # nothing changed
    del log


def test_orders_and_states_refuse_bad_values(setup: tuple[TestClient, FakeLog, str]) -> None:
    client, log, token = setup
    auth = {"Authorization": f"Bearer {token}"}
    for doc in (
        {"origin": log.origin, "kind": "stop", "reason": "x"},
        {"origin": log.origin, "kind": "rectify", "reason": "x", "due": "soon"},
        {"origin": "nobody", "kind": "stop", "deployment": "d", "reason": "x"},
        {"origin": log.origin, "kind": "stop", "deployment": "d", "reason": ""},
    ):
        r = client.post("/v1/orders", json=doc, headers=auth)
        assert 400 <= r.status_code < 500, (doc, r.text)
    for doc in (
        {"origin": log.origin, "state": "banned"},
        {"origin": log.origin, "state": 3},
        {"origin": log.origin, "push_interval_s": 0},
    ):
        path = "/v1/logs/state" if "state" in doc else "/v1/logs/approve"
        assert 400 <= client.post(path, json=doc, headers=auth).status_code < 500
