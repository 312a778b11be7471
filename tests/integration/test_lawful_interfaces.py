"""The findings of the lawful-by-construction audit, each reproduced through the command line
or HTTP as an operator cutting corners would, and refused (or fixed) now."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_runner import fg
from fastapi.testclient import TestClient
from lawful import ANSWERS, CN_SPEC, NECESSITY, OPERATOR, consent, form, live, sign

from facegate.api.app import create_app
from facegate.gate import Gate

Photo = Callable[[str], bytes]
OBAMA = "fixtures/obama.jpg"


def _out(proc: object) -> dict[str, object]:
    return dict(json.loads(proc.stdout))  # type: ignore[attr-defined]


def test_the_command_line_asks_the_laws_questions(tmp_path: Path, faces_dir: Path) -> None:
    home = tmp_path / "h"
    fg(home, "init")
    fg(home, "operator", "set", *[a for k, v in OPERATOR.items() for a in ("--" + k, v)])
    base = [
        "deployment",
        "create",
        "--name",
        "Gate",
        "--purpose",
        CN_SPEC["purpose"],
        "--location",
        "residential_compound",
        "--alternative",
        "key card",
        "--legal-basis",
        "consent",
        "--retention-days",
        "365",
        "--capability",
        "verify",
        "--signage",
        "--no-alternative-penalty",
        "--json",
    ]
    # finding 1: an empty (or empty-part) jurisdiction switches nothing off
    for empty in ("", "+", "++", "cn+", "xx"):
        proc = fg(home, *base, "--jurisdiction", empty, ok=False)
        assert proc.returncode == 3 and "jurisdiction" in _out(proc)["message"], proc.stdout
    # finding 3: a legal fact left out is named with its rule
    proc = fg(home, *[a for a in base if a != "--signage"], "--jurisdiction", "cn", ok=False)
    assert proc.returncode == 3 and "signage" in str(_out(proc)["message"])
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(ANSWERS))
    dep = str(_out(fg(home, *base, "--jurisdiction", "cn", "--pia", str(answers)))["id"])
    # finding 4: the assessment does not approve itself; only a DPO signs it
    proc = fg(home, "pia", "sign", "-d", dep, "--necessity", NECESSITY, "--json", ok=False)
    assert proc.returncode == 8, proc.stdout
    dpo = _out(fg(home, "principal", "create", "--name", "Ms DPO", "--role", "dpo", "--json"))
    dpo_key = str(dpo["api_key"]["key"])  # type: ignore[index]
    signed = _out(
        fg(home, "--key", dpo_key, "pia", "sign", "-d", dep, "--necessity", NECESSITY, "--json")
    )
    assert signed["status"] == "live" and signed["signed_by"] == dpo["principal"]["id"]  # type: ignore[index]
    # finding 3: how consent was given, the signed form and the age are required
    proc = fg(
        home, "consent", "give", "-d", dep, "-s", "flat-1", "--adult-attested", "--json", ok=False
    )
    assert proc.returncode == 3 and "method" in str(_out(proc)["message"])
    proc = fg(
        home,
        "consent",
        "give",
        "-d",
        dep,
        "-s",
        "flat-1",
        "--method",
        "signed_form",
        "--adult-attested",
        "--json",
        ok=False,
    )
    assert proc.returncode == 3 and "form_sha256" in str(_out(proc)["message"])
    signed_form = tmp_path / "form.pdf"
    signed_form.write_bytes(b"%PDF- signed consent of flat-1")
    proc = fg(
        home,
        "consent",
        "give",
        "-d",
        dep,
        "-s",
        "flat-1",
        "--method",
        "signed_form",
        "--form",
        str(signed_form),
        "--json",
        ok=False,
    )
    assert proc.returncode == 3 and "age" in str(_out(proc)["message"])
    receipt = _out(
        fg(
            home,
            "consent",
            "give",
            "-d",
            dep,
            "-s",
            "flat-1",
            "--method",
            "signed_form",
            "--form",
            str(signed_form),
            "--adult-attested",
            "--json",
        )
    )
    assert receipt["access_code"]
    # finding 2: identify on a deployment that did not declare it: refused, exit 4, no score
    photo = str(faces_dir / OBAMA)
    proc = fg(home, "identify", "-d", dep, photo, "--json", ok=False)
    refusal = _out(proc)
    assert proc.returncode == 4 and refusal["rule_id"] == "CN-SPC-2" and "score" not in refusal


@pytest.fixture
def http(sqlite_gate: Gate) -> Iterator[tuple[TestClient, dict[str, str], Gate]]:
    sqlite_gate.set_operator(**OPERATOR)
    key = sqlite_gate.create_principal("Desk", "operator").api_key.key
    with TestClient(create_app(sqlite_gate)) as c:
        yield c, {"Authorization": f"Bearer {key}"}, sqlite_gate


def test_http_refuses_before_decoding_and_returns_no_score(
    http: tuple[TestClient, dict[str, str], Gate], photo: Photo
) -> None:
    c, auth, gate = http
    for empty in ("", "+", "++"):
        r = c.post("/v1/deployments", headers=auth, json={**CN_SPEC, "jurisdiction": empty})
        assert r.status_code == 400 and "jurisdiction" in r.json()["message"]
    dep = live(gate, capabilities=["verify"], capture=None)
    consent(gate, dep.id, "alice")
    gate.enroll(dep.id, "alice", photo(OBAMA))
    # not even a photo: the law is asked first, so the refusal (not a 4xx about the image)
    r = c.post(
        f"/v1/deployments/{dep.id}/identify",
        headers=auth,
        files={"image": ("x.jpg", b"not a photo at all", "image/jpeg")},
    )
    assert r.status_code == 403 and r.json()["rule_id"] == "CN-SPC-2"
    r = c.post(
        f"/v1/deployments/{dep.id}/identify",
        headers=auth,
        files={"image": ("a.jpg", photo(OBAMA), "image/jpeg")},
    )
    assert r.status_code == 403 and "score" not in r.json()
    r = c.post(
        f"/v1/deployments/{dep.id}/consents",
        headers=auth,
        json={"subject_ref": "bob", "adult_attested": True},
    )
    assert r.status_code == 422 and "method: Field required (CN-FR-6" in r.json()["message"]


@pytest.mark.parametrize(
    ("field", "value", "rule"),
    [
        ("signage", "yes", "CN-FR-5"),
        ("signage", 1, "CN-FR-5"),
        ("retention_days", "30", "CN-PIPL-19"),
        ("retention_days", True, "CN-PIPL-19"),
        ("alternative_penalty", "no", "CN-FR-12"),
        ("threshold", "0.9", "ISO-30136"),
    ],
)
def test_a_legal_fact_is_taken_as_typed_never_coerced(
    http: tuple[TestClient, dict[str, str], Gate], field: str, value: object, rule: str
) -> None:
    """ "yes" is not true and true is not one day: a legal fact in the wrong JSON type is
    an error naming the field, and nothing is recorded."""
    c, auth, gate = http
    head = gate.checkpoint()
    r = c.post("/v1/deployments", headers=auth, json={**CN_SPEC, field: value})
    assert r.status_code == 422, r.text
    assert field in r.json()["message"] and rule in r.json()["message"], r.text
    assert gate.checkpoint() == head
    dep = live(gate)
    form_hash = form("typed")
    for bad in ({"age": "30"}, {"age": True}, {"adult_attested": "true"}):
        body = {"subject_ref": "bob", "method": "signed_form", "form_sha256": form_hash, **bad}
        r = c.post(f"/v1/deployments/{dep.id}/consents", headers=auth, json=body)
        assert r.status_code == 422 and next(iter(bad)) in r.json()["message"], r.text


def test_the_public_sees_the_retention_schedule_without_a_key(
    http: tuple[TestClient, dict[str, str], Gate],
) -> None:
    c, _auth, gate = http
    draft_only = gate.create_deployment(**CN_SPEC)
    assert c.get(f"/v1/public/deployments/{draft_only.id}").status_code == 404
    dep = sign(gate, draft_only.id)
    r = c.get(f"/v1/public/deployments/{dep.id}")
    assert r.status_code == 200
    body = r.json()
    assert body["retention_schedule"]["retention_days"] == 365
    assert body["operator"]["dpo"] == OPERATOR["dpo"]
    assert body["notice"]["languages"]["zh-CN"]["plain"]


def test_reviewers_are_principals_and_names_ignore_case(sqlite_gate: Gate) -> None:
    from facegate.errors import Conflict

    sqlite_gate.create_principal("r1", "reviewer")
    with pytest.raises(Conflict):
        sqlite_gate.create_principal("R1", "reviewer")


def test_a_change_voids_the_signature_until_the_dpo_signs_again(
    sqlite_gate: Gate, face_engine: object, photo: Photo
) -> None:
    from facegate.errors import PolicyDenied

    dep = live(sqlite_gate)
    changed = sqlite_gate.change_deployment(dep.id, capabilities=["verify"], capture=None)
    assert changed.status == "draft" and changed.signed_by is None
    with pytest.raises(PolicyDenied) as refused:
        consent(sqlite_gate, dep.id, "alice")
    assert "CN-FR-5" in refused.value.rule_ids
    again = sign(sqlite_gate, dep.id)
    assert (again.status, again.notice_version) == ("live", 2)
    consent(sqlite_gate, dep.id, "alice", notice_version=2)
    with pytest.raises(Exception, match="notice_version is required"):
        consent(sqlite_gate, dep.id, "bob")


def test_notices_are_true_and_name_the_contact_and_dpo(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    for language in ("en", "zh-CN"):
        body = sqlite_gate.notice(dep.id, language=language).body
        assert body["contact"] == OPERATOR["contact"] and body["dpo"] == OPERATOR["dpo"]
    en = sqlite_gate.notice(dep.id).body
    assert "cannot be turned back" not in en["method"]
    assert "keys" in en["method"] and "destroyed" in en["method"]


def test_a_correction_request_is_answered_and_complaints_are_shredded_with_the_person(
    sqlite_gate: Gate,
) -> None:
    dep = live(sqlite_gate)
    code = consent(sqlite_gate, dep.id, "alice").access_code
    words = "My name was matched to someone else's photo on 3 May."
    asked = sqlite_gate.subject_correction(code, words)
    listed = {r["request_id"]: r for r in sqlite_gate.open_requests()}
    assert listed[asked.request_id]["kind"] == "correction"
    assert listed[asked.request_id]["text"] == words
    sqlite_gate.subject_complaint(code, "Nobody answered my correction request yet!")
    sqlite_gate.subject_erase(code)
    texts = [r["text"] for r in sqlite_gate.open_requests()]
    assert texts and all(t is None for t in texts)
    raw = (sqlite_gate.settings.home / "facegate.db").read_bytes()
    assert b"matched to someone else" not in raw and b"Nobody answered" not in raw


def test_receipts_say_when_face_data_may_go_to_a_third_party(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate, egress=True)
    shared = consent(sqlite_gate, dep.id, "alice", egress=True, disclosure=True)
    kept = consent(sqlite_gate, dep.id, "bob")
    flag = lambda r: r.receipt["receipt"]["services"][0]["purposes"][0]["thirdPartyDisclosure"]  # noqa: E731
    assert (flag(shared), flag(kept)) == (True, False)


def test_consents_and_people_have_a_ttl(sqlite_gate: Gate) -> None:
    from datetime import UTC, datetime, timedelta

    dep = live(sqlite_gate, retention_days=30)
    consent(sqlite_gate, dep.id, "alice")
    view = sqlite_gate.subject_view(consent(sqlite_gate, dep.id, "bob").access_code)
    expires = datetime.fromisoformat(str(view["consent"]["expires_at"]))  # type: ignore[index]
    assert expires <= datetime.now(UTC) + timedelta(days=30, minutes=1)


def test_the_service_checks_itself_at_start(sqlite_gate: Gate) -> None:
    before = sqlite_gate.counts()["ledger_entries"]
    with TestClient(create_app(sqlite_gate)):
        pass
    kinds = [
        json.loads(sqlite_gate.ledger_entry(i).data)["kind"]
        for i in range(before, sqlite_gate.counts()["ledger_entries"])
    ]
    assert "selfcheck" in kinds


def test_a_form_hash_is_recorded_with_the_consent(sqlite_gate: Gate) -> None:
    dep = live(sqlite_gate)
    receipt = consent(sqlite_gate, dep.id, "alice")
    leaf = json.loads(sqlite_gate.ledger_entry(sqlite_gate.counts()["ledger_entries"] - 1).data)
    assert leaf["id"] == receipt.event_id and leaf["details"]["form_sha256"] == form("alice")
    assert leaf["by"] == sqlite_gate.actor.principal_id


def test_an_expired_consent_stops_verification_before_any_sweep(
    tmp_path: Path, face_engine: object, photo: Photo
) -> None:
    from datetime import UTC, datetime, timedelta

    from facegate.config import Settings
    from facegate.errors import PolicyDenied

    now = [datetime(2026, 6, 1, 9, tzinfo=UTC)]
    with Gate.open(
        settings=Settings(home=tmp_path / "h"),
        engine=face_engine,  # type: ignore[arg-type]
        clock=lambda: now[0],
        create=True,
    ) as gate:
        dep = live(gate)
        consent(gate, dep.id, "alice", expires_at=now[0] + timedelta(days=2))
        gate.enroll(dep.id, "alice", photo(OBAMA))
        assert gate.verify(dep.id, "alice", photo("fixtures/obama2.jpg")).decision == "match"
        now[0] += timedelta(days=3)
        with pytest.raises(PolicyDenied, match="expired"):
            gate.verify(dep.id, "alice", photo("fixtures/obama2.jpg"))


def test_bipa_templates_die_within_three_years_of_enrollment(
    sqlite_gate: Gate, face_engine: object, photo: Photo
) -> None:
    from datetime import UTC, datetime, timedelta

    from lawful import PACK_SPEC

    dep = live(sqlite_gate, **{**PACK_SPEC["us-il"], "retention_days": 1095})
    consent(sqlite_gate, dep.id, "amy")
    before = datetime.now(UTC)
    result = sqlite_gate.enroll(dep.id, "amy", photo(OBAMA))
    assert (
        before + timedelta(days=1094)
        < result.expires_at
        <= datetime.now(UTC) + timedelta(days=1095)
    )
    short = live(sqlite_gate, **{**PACK_SPEC["us-il"], "retention_days": 30})
    consent(sqlite_gate, short.id, "amy")
    ttl = sqlite_gate.enroll(short.id, "amy", photo(OBAMA)).expires_at - datetime.now(UTC)
    assert timedelta(days=29) < ttl <= timedelta(days=30)


def test_withdrawal_on_the_command_line_erases(tmp_path: Path) -> None:
    from facegate.config import Settings

    home = tmp_path / "h"
    with Gate.open(settings=Settings(home=home), create=True) as gate:
        dep = live(gate)
        consent(gate, dep.id, "alice")
    out = _out(fg(home, "consent", "withdraw", "-d", dep.id, "-s", "alice", "--json"))
    assert out["key_destroyed"] is True
    with Gate.open(settings=Settings(home=home)) as gate:
        assert gate.counts()["subjects"] == 0 and gate.core.keyring.keystore.all_ids() == set()
    proc = fg(home, "consent", "withdraw", "-d", dep.id, "-s", "alice", "--json", ok=False)
    assert proc.returncode == 5
