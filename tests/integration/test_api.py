"""The HTTP API over a real Gate: auth, the lifecycle, and errors mapped to 4xx."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from facegate.api.app import create_app
from facegate.gate import Gate

Photo = Callable[[str], bytes]


@pytest.fixture
def client(gate: Gate) -> Iterator[tuple[TestClient, dict[str, str]]]:
    key = gate.issue_api_key("op_local", label="test").key
    with TestClient(create_app(gate)) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def test_lifecycle_over_http(client: tuple[TestClient, dict[str, str]], photo: Photo) -> None:
    c, auth = client
    r = c.post(
        "/v1/deployments",
        headers=auth,
        json={
            "name": "Lobby",
            "purpose": "Staff pass the lobby turnstile by face",
            "location": "office",
            "alternative": "badge",
        },
    )
    assert r.status_code == 201, r.text
    dep = r.json()["id"]
    notice = c.get(f"/v1/deployments/{dep}/notice", headers=auth).json()
    r = c.post(
        f"/v1/deployments/{dep}/consents",
        headers=auth,
        json={"subject_ref": "obama", "notice_version": notice["version"]},
    )
    assert r.status_code == 201, r.text
    assert r.json()["receipt"]["receipt"]["version"] == "KI-CR-v1.1.0"
    r = c.post(
        f"/v1/deployments/{dep}/enroll",
        headers=auth,
        data={"subject_ref": "obama"},
        files={"image": ("a.jpg", photo("fixtures/obama.jpg"), "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    r = c.post(
        f"/v1/deployments/{dep}/verify",
        headers=auth,
        data={"subject_ref": "obama"},
        files={"image": ("b.jpg", photo("fixtures/obama2.jpg"), "image/jpeg")},
    )
    body = r.json()
    assert r.status_code == 200 and body["decision"] == "match"
    assert {"score", "threshold", "model_version", "event_id"} <= body.keys()
    r = c.post(
        f"/v1/deployments/{dep}/identify",
        headers=auth,
        files={"image": ("c.jpg", photo("fixtures/Anthony_Hopkins_0001.jpg"), "image/jpeg")},
    )
    assert r.json()["decision"] == "unknown"
    r = c.post(
        f"/v1/deployments/{dep}/consents/withdraw", headers=auth, json={"subject_ref": "obama"}
    )
    assert r.status_code == 200 and r.json()["templates_erased"] == 1
    r = c.post(
        f"/v1/deployments/{dep}/verify",
        headers=auth,
        data={"subject_ref": "obama"},
        files={"image": ("b.jpg", photo("fixtures/obama2.jpg"), "image/jpeg")},
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "CN-FR-6"
    assert c.get("/v1/ledger/verify", headers=auth).json()["ok"] is True
    assert c.get("/v1/ledger/checkpoint").text.startswith("facegate.local/ledger\n")
    assert c.get("/docs").status_code == 200


def test_errors_are_4xx_and_change_nothing(
    client: tuple[TestClient, dict[str, str]], gate: Gate, photo: Photo
) -> None:
    c, auth = client
    assert c.get("/v1/deployments").status_code == 401
    assert (
        c.get("/v1/deployments", headers={"Authorization": "Bearer fg_forged"}).status_code == 401
    )
    dep = c.post(
        "/v1/deployments",
        headers=auth,
        json={
            "name": "Lobby",
            "purpose": "Staff pass the lobby turnstile by face",
            "location": "office",
            "alternative": "badge",
        },
    ).json()["id"]
    c.post(
        f"/v1/deployments/{dep}/consents",
        headers=auth,
        json={"subject_ref": "a", "notice_version": 1},
    )
    before = gate.counts()
    cases = [
        ({"subject_ref": "a"}, {"image": ("x.jpg", b"", "image/jpeg")}, 400),
        ({"subject_ref": "a"}, {"image": ("x.jpg", b"not an image at all" * 9, "image/jpeg")}, 415),
        (
            {"subject_ref": "a"},
            {"image": ("x.jpg", photo("fixtures/obama.jpg")[:2000], "image/jpeg")},
            400,
        ),
        (
            {"subject_ref": "a"},
            {"image": ("x.jpg", photo("in_the_wild/couple.jpg"), "image/jpeg")},
            422,
        ),
        ({}, {"image": ("x.jpg", photo("fixtures/obama.jpg"), "image/jpeg")}, 422),
        ({"subject_ref": "a"}, None, 422),
    ]
    for data, files, status in cases:
        r = c.post(f"/v1/deployments/{dep}/enroll", headers=auth, data=data, files=files)
        assert r.status_code == status, (data, r.text)
        assert r.json()["message"]
    r = c.post("/v1/deployments", headers=auth, json={"name": "x", "bogus": 1})
    assert r.status_code == 422 and "bogus" in r.json()["message"]
    r = c.post(
        f"/v1/deployments/{dep}/enroll",
        headers=auth,
        data={"subject_ref": "a"},
        files={"image": ("big.jpg", b"\xff\xd8" + b"0" * (21 * 1024 * 1024), "image/jpeg")},
    )
    assert r.status_code == 413
    assert gate.counts() == before


def test_operators_are_isolated(client: tuple[TestClient, dict[str, str]], gate: Gate) -> None:
    c, auth = client
    dep = c.post(
        "/v1/deployments",
        headers=auth,
        json={
            "name": "Lobby",
            "purpose": "Staff pass the lobby turnstile by face",
            "location": "office",
            "alternative": "badge",
        },
    ).json()["id"]
    other = gate.create_operator("Other Bank")
    other_key = gate.issue_api_key(other.id).key
    r = c.get(f"/v1/deployments/{dep}", headers={"Authorization": f"Bearer {other_key}"})
    assert r.status_code == 403
    assert c.get("/v1/deployments", headers={"Authorization": f"Bearer {other_key}"}).json() == []
