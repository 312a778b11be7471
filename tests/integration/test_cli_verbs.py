"""Issue 12 item 11: the verbs no test drove, each through a real flow and checked by its
effect on the store, the key store or the ledger (not just an exit status of 0).

The verbs run in-process (Typer's runner) against a home that a Gate prepared: the Gate does
what is slow (faces, through the shared engine), the verb does the act under test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lawful import consent, live
from typer.testing import CliRunner

from facegate.config import Settings
from facegate.errors import PolicyDenied, Unauthenticated
from facegate.gate import Gate
from facegate.recognition import FaceEngine

Photo = Callable[[str], bytes]
RUNNER = CliRunner()


def cli(home: Path, *args: str, key: str | None = None, code: int = 0) -> Any:
    """``facegate [--key K] ARGS --home HOME --json``; the JSON it printed."""
    from facegate.cli.main import app

    root = ["--key", key] if key else []
    result = RUNNER.invoke(app, [*root, *args, "--home", str(home), "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def gate(tmp_path: Path, face_engine: FaceEngine) -> Iterator[Gate]:
    with Gate.open(settings=Settings(home=tmp_path / "h"), engine=face_engine, create=True) as g:
        yield g


def _kinds(gate: Gate, since: int = 0) -> list[str]:
    size = gate.counts()["ledger_entries"]
    return [json.loads(e.data)["kind"] for e in gate.ledger_entries(since, size)]


def test_consent_refuse_is_recorded_without_a_person(gate: Gate) -> None:
    dep = live(gate).id
    before = gate.counts()
    out = cli(gate.settings.home, "consent", "refuse", "-d", dep, "--method", "spoken")
    after = gate.counts()
    assert after["subjects"] == before["subjects"]  # nobody is created for a refusal
    leaf = json.loads(gate.ledger_entry(after["ledger_entries"] - 1).data)
    assert leaf["id"] == out["event_id"] and leaf["subject"] is None
    assert "refus" in leaf["kind"]


def test_erase_destroys_the_key_and_stops_processing(gate: Gate, photo: Photo) -> None:
    dep = live(gate).id
    consent(gate, dep, "alice")
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    keys_before = gate.core.keyring.keystore.all_ids()
    out = cli(gate.settings.home, "erase", "-d", dep, "-s", "alice")
    assert out["templates_erased"] == 1 and out["key_destroyed"] is True
    assert len(gate.core.keyring.keystore.all_ids()) == len(keys_before) - 1  # the key is gone
    assert gate.counts()["subjects"] == 0
    with pytest.raises(PolicyDenied):
        gate.verify(dep, "alice", photo("fixtures/obama2.jpg"))
    cli(gate.settings.home, "erase", "-d", dep, "-s", "alice", code=5)  # nobody left to erase


def test_purpose_end_erases_that_person_only(gate: Gate) -> None:
    dep = live(gate).id
    consent(gate, dep, "leaver")
    consent(gate, dep, "stayer")
    out = cli(gate.settings.home, "purpose-end", "-d", dep, "-s", "leaver")
    assert out["key_destroyed"] is True and gate.counts()["subjects"] == 1


def test_retention_sweep_deletes_what_outlived_its_time(
    tmp_path: Path, face_engine: FaceEngine, photo: Photo
) -> None:
    home = tmp_path / "h"
    then = [datetime.now(UTC) - timedelta(days=40)]
    with Gate.open(
        settings=Settings(home=home), engine=face_engine, clock=lambda: then[0], create=True
    ) as past:
        dep = live(past, retention_days=30).id
        consent(past, dep, "alice")
        enrolled = past.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    assert enrolled.expires_at < datetime.now(UTC)  # kept 30 days, enrolled 40 days ago
    out = cli(home, "retention", "sweep")
    assert out["templates_expired"] == 1
    again = cli(home, "retention", "sweep")
    assert again["templates_expired"] == 0  # nothing left to expire
    with Gate.open(settings=Settings(home=home), engine=face_engine) as now:
        assert now.counts()["templates"] == 0


def test_review_list_confirm_and_purge(gate: Gate, photo: Photo) -> None:
    home = gate.settings.home
    dep = live(
        gate,
        name="Station",
        purpose="Find missing persons at the station",
        location="office",
        capabilities=["verify", "remote_identification"],
    ).id
    consent(gate, dep, "obama")
    gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
    found = gate.identify(dep, photo("fixtures/obama2.jpg"))
    assert found.decision == "pending" and found.identification_id
    idn = found.identification_id
    k1 = gate.create_principal("staff-17", "reviewer").api_key.key
    k2 = gate.create_principal("staff-42", "reviewer").api_key.key
    pending = cli(home, "review", "list")
    assert [r["identification_id"] for r in pending] == [idn]
    assert "subject_ref" not in pending[0] or pending[0]["subject_ref"] is None
    first = cli(home, "review", "confirm", idn, key=k1)
    assert first["status"] == "pending" and first["subject_ref"] is None
    cli(home, "review", "confirm", idn, key=k1, code=6)  # the same reviewer twice: refused
    second = cli(home, "review", "confirm", idn, key=k2)
    assert second["status"] == "confirmed" and second["subject_ref"] == "obama"
    assert cli(home, "review", "list") == []
    before = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    purged = cli(home, "review", "purge", "-d", dep, "--before", before)
    assert purged["deleted"] == 1
    cli(home, "review", "purge", "-d", dep, "--before", before, code=5)  # none left


def test_requests_list_and_answer(gate: Gate) -> None:
    home = gate.settings.home
    dep = live(gate).id
    code = consent(gate, dep, "alice").access_code
    asked = gate.subject_complaint(code, "The gate opened for my brother with my face.")
    listed = cli(home, "requests", "list")
    assert [r["request_id"] for r in listed] == [asked.request_id]
    answer = "We re-enrolled you and raised the threshold on the same day."
    done = cli(home, "requests", "answer", asked.request_id, "--reason", answer)
    assert done["status"] == "answered"
    assert cli(home, "requests", "list") == []
    (mine,) = gate.subject_requests(code)
    assert mine["status"] == "answered" and answer in json.dumps(mine)
    cli(home, "requests", "answer", asked.request_id, "--reason", answer, code=6)  # once only


def test_apikey_create_list_revoke(gate: Gate) -> None:
    home = gate.settings.home
    auditor = gate.create_principal("Ms Audit", "auditor").principal.id
    made = cli(home, "apikey", "create", "--principal", auditor, "--label", "laptop",
               "--expires-days", "30")  # fmt: skip
    assert made["principal_id"] == auditor and made["key"].startswith("fg_")
    assert gate.authenticate(made["key"]).role == "auditor"
    listed = {k["id"]: k for k in cli(home, "apikey", "list")}
    assert listed[made["id"]]["label"] == "laptop" and "key" not in listed[made["id"]]
    revoked = cli(home, "apikey", "revoke", made["id"])
    assert revoked["revoked_at"] is not None
    with pytest.raises(Unauthenticated):
        gate.authenticate(made["key"])


def test_operators_and_principals(gate: Gate) -> None:
    home = gate.settings.home
    shown = cli(home, "operator", "show")
    assert shown["id"] == gate.operator().id
    other = cli(home, "operator", "create", "--name", "Other Co", "--contact", "+86 21 1")
    other_key = other["api_key"]["key"]
    assert gate.authenticate(other_key).operator_id != shown["id"]  # a second operator
    clerk = gate.create_principal("Clerk", "operator")
    names = [p["name"] for p in cli(home, "principal", "list")]
    assert "Clerk" in names and "admin" not in names  # the other operator's admin is apart
    assert cli(home, "principal", "revoke", clerk.principal.id)["revoked_at"] is not None
    with pytest.raises(Unauthenticated):
        gate.authenticate(clerk.api_key.key)  # its keys went with it


def test_deployment_change_notice_end_and_pia(gate: Gate) -> None:
    home = gate.settings.home
    dep = live(gate).id
    notice = cli(home, "deployment", "notice", "-d", dep)
    assert notice["version"] == 1
    changed = cli(home, "deployment", "change", "-d", dep, "--set", "retention_days=180")
    assert changed["status"] == "draft" and changed["retention_days"] == 180
    pia = cli(home, "pia", "show", "-d", dep)
    assert pia["deployment_id"] == dep
    kept = cli(home, "pia", "delete", "-d", dep, "--version", "1", code=4)
    assert kept["rule_id"] == "CN-FR-9"  # an assessment is kept three years
    ended = cli(home, "deployment", "end", "-d", dep, "--reason", "The building was sold.")
    assert ended["deployment_id"] == dep
    assert gate.get_deployment(dep).status == "ended"


def test_hold_place_and_release(gate: Gate) -> None:
    home = gate.settings.home
    dep = live(gate).id
    consent(gate, dep, "alice")
    placed = cli(home, "hold", "place", "-d", dep, "-s", "alice", "--ground", "legal_obligation")
    assert placed["event_id"]
    cli(home, "erase", "-d", dep, "-s", "alice", code=6)  # held: the erasure waits
    assert gate.counts()["subjects"] == 1
    assert cli(home, "hold", "release", "-d", dep, "-s", "alice")["event_id"]
    assert cli(home, "erase", "-d", dep, "-s", "alice")["key_destroyed"] is True


def test_selfcheck_ledger_key_witnesses_and_orphan_sweep(gate: Gate) -> None:
    home = gate.settings.home
    live(gate)
    since = gate.counts()["ledger_entries"]
    report = cli(home, "selfcheck")
    assert report["ok"] is True and "selfcheck" in _kinds(gate, since)
    auditor = gate.create_principal("Ms Audit", "auditor").api_key.key
    cli(home, "selfcheck", key=auditor, code=8)  # a supervision duty: admin or dpo
    assert cli(home, "ledger", "key")["verifier_key"] == gate.ledger_key()
    assert cli(home, "ledger", "witnesses") == []
    assert cli(home, "keys", "sweep-orphans")["destroyed"] == 0
