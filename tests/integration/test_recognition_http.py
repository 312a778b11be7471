"""The recognition routes of issue 17 over HTTP: liveness refusals and the camera page's
challenge contract (docs/liveness.md), detect, compare, top-N, the quality gate, flags, the
threshold report and alerts; errors are 4xx with the reason, never a 500."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from lawful import consent, live
from recognition_support import attack, degraded, shared_pad

from facegate.api.app import create_app
from facegate.gate import Gate

Photo = Callable[[str], bytes]
Client = tuple[TestClient, dict[str, str]]


@pytest.fixture
def client(sqlite_gate: Gate) -> Iterator[Client]:
    shared_pad(sqlite_gate)
    key = sqlite_gate.issue_api_key(label="test").key
    with TestClient(create_app(sqlite_gate)) as c:
        yield c, {"Authorization": f"Bearer {key}"}


def _image(name: str, data: bytes) -> dict[str, tuple[str, bytes, str]]:
    return {"image": (name, data, "image/jpeg")}


def test_liveness_refusal_and_the_camera_page_contract(
    client: Client, sqlite_gate: Gate, photo: Photo
) -> None:
    c, auth = client
    passive = live(sqlite_gate, liveness=True).id
    consent(sqlite_gate, passive, "alice")
    r = c.post(
        f"/v1/deployments/{passive}/enroll",
        headers=auth,
        data={"subject_ref": "alice"},
        files=_image("f1.jpg", attack("image_F1.jpg")),
    )
    assert r.status_code == 422 and r.json()["error"] == "liveness_failed", r.text
    assert r.json()["advice"] and "score" not in r.json()

    guarded = live(sqlite_gate, liveness_challenge=True).id
    consent(sqlite_gate, guarded, "vstros")
    r = c.post(
        f"/v1/deployments/{guarded}/liveness/challenges",
        headers=auth,
        json={"subject_ref": "vstros", "act": "enroll", "challenge": "blink"},
    )
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["min_frames"] == 2 and issued["instructions"] and issued["expires_at"]
    frames = [photo(f"faces94/vstros/vstros.{i}.jpg") for i in (1, 2, 8)]
    url = f"/v1/deployments/{guarded}/liveness/challenges/{issued['challenge_id']}/frames"
    files = [("frames", (f"{i}.jpg", f, "image/jpeg")) for i, f in enumerate(frames)]
    r = c.post(url, headers=auth, files=files, data={"mirrored": "false"})
    assert r.status_code == 200 and r.json()["passed"] is True, r.text
    again = c.post(url, headers=auth, files=files)
    assert again.status_code == 400 and again.json()["error"] == "liveness_challenge_invalid"
    enroll = f"/v1/deployments/{guarded}/enroll"
    r = c.post(enroll, headers=auth, data={"subject_ref": "vstros"}, files=_image("a", frames[0]))
    assert r.status_code == 400 and r.json()["error"] == "liveness_challenge_invalid"
    r = c.post(
        enroll,
        headers=auth,
        data={"subject_ref": "vstros", "challenge_id": issued["challenge_id"]},
        files=_image("a", frames[0]),
    )
    assert r.status_code == 201, r.text
    one = c.post(
        f"/v1/deployments/{guarded}/liveness/challenges/chl_x/frames",
        headers=auth,
        files=files[:1],
    )
    assert one.status_code == 422  # too few frames (and no such challenge)


def test_detect_compare_top_n_and_quality(client: Client, sqlite_gate: Gate, photo: Photo) -> None:
    c, auth = client
    dep = live(sqlite_gate).id
    r = c.post(
        f"/v1/deployments/{dep}/detect?landmarks=68",
        headers=auth,
        files=_image("c.jpg", photo("in_the_wild/couple.jpg")),
    )
    assert r.status_code == 200, r.text
    assert len(r.json()["faces"]) == 2 and len(r.json()["faces"][0]["landmarks"]) == 68
    bad = c.post(f"/v1/deployments/{dep}/detect?landmarks=7", headers=auth, files=_image("c", b"x"))
    assert bad.status_code == 422 and "landmarks" in bad.json()["message"]
    r = c.post(
        f"/v1/deployments/{dep}/compare",
        headers=auth,
        files={
            "source": ("a.jpg", photo("fixtures/obama.jpg"), "image/jpeg"),
            "target": ("b.jpg", photo("fixtures/obama2.jpg"), "image/jpeg"),
        },
    )
    assert r.status_code == 200 and r.json()["decision"] == "match", r.text
    for ref, file in (("obama", "fixtures/obama.jpg"), ("obama-b", "fixtures/obama3.jpg")):
        consent(sqlite_gate, dep, ref)
        r = c.post(
            f"/v1/deployments/{dep}/enroll",
            headers=auth,
            data={"subject_ref": ref},
            files=_image("p.jpg", photo(file)),
        )
        assert r.status_code == 201, r.text
    r = c.post(
        f"/v1/deployments/{dep}/identify?top=3",
        headers=auth,
        files=_image("q.jpg", photo("fixtures/obama2.jpg")),
    )
    assert [x["subject_ref"] for x in r.json()["candidates"]] == ["obama", "obama-b"]
    assert r.json()["box"]["right"] > r.json()["box"]["left"]
    consent(sqlite_gate, dep, "blurry")
    r = c.post(
        f"/v1/deployments/{dep}/enroll",
        headers=auth,
        data={"subject_ref": "blurry"},
        files=_image("b.jpg", degraded(photo("fixtures/obama.jpg"), "blur")),
    )
    assert r.status_code == 422 and r.json()["error"] == "poor_quality"
    assert any("blurred" in reason for reason in r.json()["reasons"])


def test_flags_report_alerts_and_scoped_keys(
    client: Client, sqlite_gate: Gate, photo: Photo
) -> None:
    c, auth = client
    dep = live(sqlite_gate, unknown_alerts=True).id
    other = live(sqlite_gate).id
    r = c.post(
        f"/v1/deployments/{dep}/identify",
        headers=auth,
        files=_image("s.jpg", photo("fixtures/biden.jpg")),
    )
    assert r.json()["decision"] == "unknown"
    event = r.json()["event_id"]
    flag = {"verdict": "false_reject", "note": "enrolled under another name"}
    assert (
        c.post(f"/v1/deployments/{other}/events/{event}/flag", headers=auth, json=flag).status_code
        == 404
    )
    r = c.post(f"/v1/deployments/{dep}/events/{event}/flag", headers=auth, json=flag)
    assert r.status_code == 201 and r.json()["flagged_event_id"] == event
    assert (
        c.post(f"/v1/deployments/{dep}/events/{event}/flag", headers=auth, json=flag).status_code
        == 409
    )
    report = c.get(f"/v1/deployments/{dep}/threshold-report", headers=auth).json()
    assert report["flags"] == 1 and report["rows"][0]["false_rejects"] == 1
    alerts = c.get(f"/v1/deployments/{dep}/alerts", headers=auth).json()
    assert [a["identify_event_id"] for a in alerts] == [event]
    scoped = sqlite_gate.issue_api_key(label="svc", deployment_id=other).key
    mine = {"Authorization": f"Bearer {scoped}"}
    assert c.get(f"/v1/deployments/{other}/alerts", headers=mine).status_code == 200
    assert c.get(f"/v1/deployments/{dep}/alerts", headers=mine).status_code == 404
