"""The HTTP API over a real Gate: auth, the lifecycle, and errors mapped to 4xx."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from lawful import CN_SPEC, NECESSITY, OPERATOR, form

from facegate.api.app import create_app
from facegate.gate import Gate

Photo = Callable[[str], bytes]


@pytest.fixture
def client(gate: Gate) -> Iterator[tuple[TestClient, dict[str, str]]]:
    key = gate.issue_api_key(label="test").key
    with TestClient(create_app(gate)) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def _live(c: TestClient, auth: dict[str, str], **changes: object) -> str:
    """Over HTTP, as an operator must: say who the operator is, register a draft, and have a
    DPO principal (with a key of its own) sign the assessment."""
    assert c.put("/v1/operator", headers=auth, json=OPERATOR).status_code == 200
    r = c.post("/v1/deployments", headers=auth, json={**CN_SPEC, **changes})
    assert r.status_code == 201, r.text
    dep = r.json()["id"]
    assert (r.json()["status"], r.json()["notice_version"]) == ("draft", 0)
    r = c.post("/v1/principals", headers=auth, json={"name": f"DPO of {dep}", "role": "dpo"})
    assert r.status_code == 201, r.text
    dpo = {"Authorization": f"Bearer {r.json()['api_key']['key']}"}
    r = c.post(f"/v1/deployments/{dep}/pia/sign", headers=dpo, json={"necessity": NECESSITY})
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["notice_version"]) == ("live", 1)
    return str(dep)


def _consent(ref: str, notice_version: int | None = None) -> dict[str, object]:
    body: dict[str, object] = {
        "subject_ref": ref,
        "method": "signed_form",
        "form_sha256": form(ref),
        "adult_attested": True,
    }
    if notice_version is not None:
        body["notice_version"] = notice_version
    return body


def test_lifecycle_over_http(client: tuple[TestClient, dict[str, str]], photo: Photo) -> None:
    c, auth = client
    dep = _live(c, auth, location="office", alternative="staff badge at the desk")
    notice = c.get(f"/v1/deployments/{dep}/notice", headers=auth).json()
    r = c.post(
        f"/v1/deployments/{dep}/consents",
        headers=auth,
        json=_consent("obama", notice["version"]),
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
    assert r.json()["score"] is None  # no score for strangers
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
    dep = _live(c, auth)
    r = c.post(f"/v1/deployments/{dep}/consents", headers=auth, json=_consent("a", 1))
    assert r.status_code == 201, r.text
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
    dep = _live(c, auth)
    other = gate.create_operator("Other Bank", contact="+86 10 5555 0199")
    assert other.principal.role == "admin" and other.principal.operator_id != "op_local"
    other_key = other.api_key.key
    # Another operator's deployment does not exist for them (404, not 403: no oracle).
    r = c.get(f"/v1/deployments/{dep}", headers={"Authorization": f"Bearer {other_key}"})
    assert r.status_code == 404
    assert c.get("/v1/deployments", headers={"Authorization": f"Bearer {other_key}"}).json() == []
