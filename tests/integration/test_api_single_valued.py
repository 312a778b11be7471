"""A body that states a field twice is refused (400) before any route acts on it: JSON keys
(at any depth) and form fields, except a form field the route takes as a list."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from lawful import CN_SPEC, consent, form, live

from facegate.api.app import create_app
from facegate.gate import Gate

Client = tuple[TestClient, dict[str, str]]
JSON = {"Content-Type": "application/json"}


@pytest.fixture
def client(gate: Gate) -> Iterator[Client]:
    key = gate.issue_api_key(label="test").key
    with TestClient(create_app(gate), raise_server_exceptions=False) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def _refused_twice(r: object, name: str) -> None:
    assert r.status_code == 400, r.text  # type: ignore[attr-defined]
    body = r.json()  # type: ignore[attr-defined]
    assert body["error"] == "invalid_input" and repr(name) in body["message"], body


def _raw(fields: list[tuple[str, object]]) -> str:
    """A JSON object written out pair by pair, so that a key may come twice."""
    return "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in fields) + "}"


def test_a_legal_fact_stated_twice_in_json_is_refused_and_changes_nothing(
    client: Client, gate: Gate
) -> None:
    c, auth = client
    dep = live(gate).id
    url = f"/v1/deployments/{dep}/consents"
    terms = [("method", "signed_form"), ("form_sha256", form("kid")), ("subject_ref", "kid")]
    before = gate.counts()
    twice = c.post(url, headers={**auth, **JSON}, content=_raw([*terms, ("age", 10), ("age", 30)]))
    _refused_twice(twice, "age")
    assert gate.counts() == before  # no consent, no ledger entry
    # each statement alone is judged: a child needs a guardian (CN-FR-6), an adult does not
    child = c.post(url, headers={**auth, **JSON}, content=_raw([*terms, ("age", 10)]))
    assert child.status_code == 403 and "CN-FR-6" in child.text, child.text
    adult = c.post(url, headers={**auth, **JSON}, content=_raw([*terms, ("age", 30)]))
    assert adult.status_code == 201, adult.text


def test_a_key_twice_in_a_nested_object_is_refused(client: Client, gate: Gate) -> None:
    c, auth = client
    spec = {k: v for k, v in CN_SPEC.items() if k not in ("signage", "pia")}
    pia = _raw([*CN_SPEC["pia"].items(), ("risks", "none at all")])
    body = _raw([*spec.items()])[:-1] + ',"signage":true,"pia":' + pia + "}"
    before = gate.counts()
    _refused_twice(c.post("/v1/deployments", headers={**auth, **JSON}, content=body), "risks")
    top = _raw([*spec.items(), ("signage", False), ("signage", True), ("pia", CN_SPEC["pia"])])
    _refused_twice(c.post("/v1/deployments", headers={**auth, **JSON}, content=top), "signage")
    assert gate.counts() == before
    once = _raw([*spec.items(), ("signage", True), ("pia", CN_SPEC["pia"])])
    assert c.post("/v1/deployments", headers={**auth, **JSON}, content=once).status_code == 201


def test_a_form_field_twice_is_refused_but_a_list_field_may_repeat(
    client: Client, gate: Gate, photo: object
) -> None:
    c, auth = client
    dep = live(gate).id
    consent(gate, dep, "obama")
    jpeg = photo("fixtures/obama.jpg")  # type: ignore[operator]
    url = f"/v1/deployments/{dep}/enroll"
    before = gate.counts()
    two_refs = c.post(
        url,
        headers=auth,
        data={"subject_ref": ["nobody", "obama"]},
        files={"image": ("a.jpg", jpeg, "image/jpeg")},
    )
    _refused_twice(two_refs, "subject_ref")
    two_images = c.post(
        url,
        headers=auth,
        data={"subject_ref": "obama"},
        files=[("image", ("a.jpg", jpeg, "image/jpeg")), ("image", ("b.jpg", jpeg, "image/jpeg"))],
    )
    _refused_twice(two_images, "image")
    assert gate.counts() == before
    # camera frames are a list: several parts of one name are what the route asks for
    frames = c.post(
        f"/v1/deployments/{dep}/liveness/challenges/chl_nothere/frames",
        headers=auth,
        files=[("frames", (f"{i}.jpg", jpeg, "image/jpeg")) for i in range(3)],
    )
    assert "no such challenge" in frames.text, frames.text  # the route ran
    once = c.post(
        url, headers=auth, data={"subject_ref": "obama"}, files={"image": ("a.jpg", jpeg)}
    )
    assert once.status_code == 201, once.text
