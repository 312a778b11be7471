"""Issue 12 item 11: the HTTP routes no test drove, each through a real flow on both
databases, checked by what changed (the store, the key store, the ledger, the person's view),
not only by the status code."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lawful import NECESSITY, consent, dpo, live

from facegate.api.app import create_app
from facegate.errors import PolicyDenied
from facegate.gate import Gate

Photo = Callable[[str], bytes]
Client = tuple[TestClient, dict[str, str]]


@pytest.fixture
def client(gate: Gate) -> Iterator[Client]:
    key = gate.issue_api_key(label="test").key
    with TestClient(create_app(gate)) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _last_leaf(gate: Gate) -> dict[str, Any]:
    leaf: dict[str, Any] = json.loads(gate.ledger_entry(gate.counts()["ledger_entries"] - 1).data)
    return leaf


def test_a_key_cannot_renew_itself_beyond_its_own_end(client: Client, gate: Gate) -> None:
    """A key about to expire (stolen, say) cannot issue its principal a longer-lived one;
    an admin can, for someone else, and a key may issue shorter ones or one ending with it."""
    c, admin = client
    new = {"name": "Kiosk", "role": "operator"}
    made = _ok(c.post("/v1/principals", headers=admin, json=new), 201)
    short = _ok(
        c.post(
            "/v1/apikeys",
            headers=admin,
            json={"principal_id": made["principal"]["id"], "expires_days": 2},
        ),
        201,
    )
    kiosk = _bearer(short["key"])
    refused = c.post("/v1/apikeys", headers=kiosk, json={"expires_days": 30})
    assert refused.status_code == 403, refused.text
    assert "cannot outlive the key that issues it" in refused.json()["message"]
    assert len(_ok(c.get("/v1/apikeys", headers=kiosk))) == 2  # nothing was issued
    same_end = _ok(c.post("/v1/apikeys", headers=kiosk, json={}), 201)
    assert same_end["expires_at"] == short["expires_at"]
    day = _ok(c.post("/v1/apikeys", headers=kiosk, json={"expires_days": 1}), 201)
    assert day["expires_at"] < short["expires_at"]
    longer = c.post(
        "/v1/apikeys",
        headers=admin,
        json={"principal_id": made["principal"]["id"], "expires_days": 3650},
    )
    assert longer.status_code == 201, longer.text  # an admin, for someone else
    assert c.post("/v1/apikeys", headers=admin, json={"expires_days": 3650}).status_code == 403


def test_refusal_erase_purpose_end_and_hold(client: Client, gate: Gate, photo: Photo) -> None:
    c, auth = client
    dep = live(gate).id
    people = gate.counts()["subjects"]
    refusal = _ok(
        c.post(f"/v1/deployments/{dep}/refusals", headers=auth, json={"method": "spoken"}), 201
    )
    assert refusal["alternative"] == gate.get_deployment(dep).alternative
    assert _last_leaf(gate)["id"] == refusal["event_id"] and _last_leaf(gate)["subject"] is None
    assert gate.counts()["subjects"] == people  # a refusal names nobody
    consent(gate, dep, "alice")
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    keys = gate.core.keyring.keystore.all_ids()
    erased = _ok(
        c.post(
            f"/v1/deployments/{dep}/erase",
            headers=auth,
            json={"subject_ref": "alice", "reason": "asked at the desk"},
        )
    )
    assert erased["templates_erased"] == 1 and erased["key_destroyed"] is True
    assert len(gate.core.keyring.keystore.all_ids()) == len(keys) - 1
    with pytest.raises(PolicyDenied):
        gate.verify(dep, "alice", photo("fixtures/obama2.jpg"))
    consent(gate, dep, "bob")
    ended = _ok(
        c.post(f"/v1/deployments/{dep}/purpose-ended", headers=auth, json={"subject_ref": "bob"})
    )
    assert ended["key_destroyed"] is True and gate.counts()["subjects"] == people
    consent(gate, dep, "carol")
    held = _ok(
        c.post(
            f"/v1/deployments/{dep}/holds",
            headers=auth,
            json={"subject_ref": "carol", "ground": "legal_obligation"},
        )
    )
    assert _last_leaf(gate)["id"] == held["event_id"]
    r = c.post(f"/v1/deployments/{dep}/erase", headers=auth, json={"subject_ref": "carol"})
    assert r.status_code == 409 and gate.counts()["subjects"] == people + 1  # kept while held


def test_change_end_pia_and_its_records(client: Client, gate: Gate) -> None:
    c, auth = client
    dep = live(gate).id
    pia = _ok(c.get(f"/v1/deployments/{dep}/pia", headers=auth))
    assert pia["deployment_id"] == dep
    changed = _ok(c.patch(f"/v1/deployments/{dep}", headers=auth, json={"retention_days": 90}))
    assert changed["status"] == "draft" and changed["retention_days"] == 90
    assert _ok(c.patch(f"/v1/deployments/{dep}", headers=auth, json={}), 422)  # nothing to change
    signed = dpo(gate).sign_pia(dep, necessity=NECESSITY, answers=None)
    assert signed.status == "live" and signed.notice_version == 2
    r = c.post(f"/v1/deployments/{dep}/pia/1/delete", headers=auth)
    assert r.status_code == 403 and r.json()["rule_id"] == "CN-FR-9"  # kept three years
    ended = _ok(
        c.post(
            f"/v1/deployments/{dep}/end",
            headers=auth,
            json={"reason": "The building was sold last month."},
        )
    )
    assert ended["deployment_id"] == dep and gate.get_deployment(dep).status == "ended"


def test_two_reviewers_over_http_then_the_logs_are_purged(
    client: Client, gate: Gate, photo: Photo
) -> None:
    c, auth = client
    dep = live(
        gate,
        name="Station",
        purpose="Find missing persons at the station",
        location="office",
        capabilities=["verify", "remote_identification"],
    ).id
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    found = _ok(
        c.post(
            f"/v1/deployments/{dep}/identify",
            headers=auth,
            files={"image": ("a.jpg", photo("fixtures/obama2.jpg"), "image/jpeg")},
        )
    )
    assert found["decision"] == "pending" and found["subject_ref"] is None
    idn = found["identification_id"]
    queue = _ok(c.get("/v1/identifications", headers=auth))
    assert [q["identification_id"] for q in queue] == [idn]
    r1 = _bearer(gate.create_principal("staff-17", "reviewer").api_key.key)
    r2 = _bearer(gate.create_principal("staff-42", "reviewer").api_key.key)
    url = f"/v1/identifications/{idn}/reviews"
    first = _ok(c.post(url, headers=r1, json={"confirm": True}))
    assert first["status"] == "pending" and first["subject_ref"] is None
    assert c.post(url, headers=r1, json={"confirm": True}).status_code == 409  # same person
    second = _ok(c.post(url, headers=r2, json={"confirm": True}))
    assert second["status"] == "confirmed" and second["subject_ref"] == "obama"
    assert _ok(c.get("/v1/identifications", headers=auth)) == []
    before = (gate.core.clock() + timedelta(minutes=1)).isoformat()
    purged = _ok(
        c.post(
            f"/v1/deployments/{dep}/identification-logs/purge",
            headers=auth,
            json={"before": before},
        )
    )
    assert purged["deleted"] == 1
    r = c.post(
        f"/v1/deployments/{dep}/identification-logs/purge", headers=auth, json={"before": before}
    )
    assert r.status_code == 404  # none left


def test_a_complaint_and_a_correction_are_answered(client: Client, gate: Gate) -> None:
    c, auth = client
    dep = live(gate).id
    code = {"X-Access-Code": consent(gate, dep, "alice").access_code}
    complaint = _ok(
        c.post(
            "/v1/subject/me/complaints",
            headers=code,
            json={"text": "  You showed my photo at the front desk.  "},
        ),
        201,
    )
    correction = _ok(
        c.post(
            "/v1/subject/me/corrections",
            headers=code,
            json={"text": "The gate took me for my brother."},
        ),
        201,
    )
    assert (complaint["kind"], correction["kind"]) == ("complaint", "correction")
    queue = {q["request_id"]: q for q in _ok(c.get("/v1/requests", headers=auth))}
    assert queue.keys() == {complaint["request_id"], correction["request_id"]}
    # stripped before it was kept (ComplaintIn strips, then counts)
    assert queue[complaint["request_id"]]["text"] == "You showed my photo at the front desk."
    for rid in queue:
        answered = _ok(
            c.post(
                f"/v1/requests/{rid}/answer",
                headers=auth,
                json={"reason": "Fixed on the day; we are sorry."},
            )
        )
        assert answered["status"] == "answered"
    again = {"reason": "Fixed on the day; we are sorry."}
    r = c.post(f"/v1/requests/{rid}/answer", headers=auth, json=again)
    assert r.status_code == 409  # answered once
    assert _ok(c.get("/v1/requests", headers=auth)) == []
    mine = gate.subject_requests(code["X-Access-Code"])
    assert {r["status"] for r in mine if r["kind"] in ("complaint", "correction")} == {"answered"}


def test_a_person_erases_themselves(client: Client, gate: Gate, photo: Photo) -> None:
    c, _ = client
    dep = live(gate).id
    code = {"X-Access-Code": consent(gate, dep, "alice").access_code}
    consent(gate, dep, "bob")
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    done = _ok(c.post("/v1/subject/me/erase", headers=code))
    assert done["request"]["kind"] == "erase" and done["erasure"]["key_destroyed"] is True
    assert done["erasure"]["templates_erased"] == 1
    assert gate.counts()["subjects"] == 1  # bob stays
    assert c.get("/v1/subject/me", headers=code).status_code == 401  # the code opens nothing


def test_principals_keys_operator_selfcheck_and_the_ledger_key(client: Client, gate: Gate) -> None:
    c, auth = client
    me = _ok(c.get("/v1/operator", headers=auth))
    assert me["id"] == gate.operator().id
    made = _ok(
        c.post("/v1/principals", headers=auth, json={"name": "Ms Audit", "role": "auditor"}), 201
    )
    audit = _bearer(made["api_key"]["key"])
    names = [p["name"] for p in _ok(c.get("/v1/principals", headers=audit))]
    assert "Ms Audit" in names
    spare = _ok(c.post("/v1/apikeys", headers=audit, json={"label": "spare"}), 201)
    mine = {k["id"] for k in _ok(c.get("/v1/apikeys", headers=audit))}
    assert mine == {made["api_key"]["id"], spare["id"]}  # an auditor sees its own keys only
    assert c.post("/v1/selfcheck", headers=audit).status_code == 403  # a supervision duty
    assert _ok(c.post("/v1/selfcheck", headers=auth))["ok"] is True
    revoked = _ok(c.post(f"/v1/apikeys/{spare['id']}/revoke", headers=audit))
    assert revoked["revoked_at"] is not None
    assert c.get("/v1/operator", headers=_bearer(spare["key"])).status_code == 401
    gone = _ok(c.post(f"/v1/principals/{made['principal']['id']}/revoke", headers=auth))
    assert gone["revoked_at"] is not None
    assert c.get("/v1/operator", headers=audit).status_code == 401  # its keys went with it
    assert c.get("/v1/ledger/key").text.strip() == gate.ledger_key()
