"""The ledger, reports, principals and passwords in the console: the ledger page shows the
checkpoint and each witness's freshness and verifies the log; a deployment's evidence
bundle verifies offline; a report is previewed without a trace and issued (ledgered) when
downloaded; an admin adds principals (the API key shown once), sets passwords and revokes;
everyone changes their own password with the current one."""

from __future__ import annotations

import json

from lawful import consent
from web_client import client, csrf
from web_console import PASSWORD, live_deployment, login, post, staff

from facegate.gate import Gate
from facegate.ledger.checkpoint import Cosigner
from facegate.ledger.evidence_verify import verify_bundle
from facegate.web import passwords


def _kinds(gate: Gate) -> list[str]:
    size = gate.counts()["ledger_entries"]
    return [json.loads(gate.ledger_entry(i).data)["kind"] for i in range(size)]


def test_the_ledger_page_shows_witness_freshness_and_verifies(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    witness = Cosigner.from_seed("witness.test/w1", bytes(32))
    sqlite_gate.add_witness(witness.verifier_key())
    c = login(sqlite_gate, "Sun Auditor")
    html = c.get("/console/ledger").text
    assert "witness.test/w1" in html and "never" in html
    assert sqlite_gate.checkpoint().splitlines()[2] in html  # the root hash line
    r = post(c, "/console/ledger/verify", {})
    assert r.status_code == 200 and "Verified: all" in r.text
    bundle = c.get(f"/console/ledger/evidence?deployment={dep}")
    assert bundle.headers["content-disposition"].startswith("attachment")
    verdict = verify_bundle(bundle.content, log_key=sqlite_gate.ledger_key())
    assert {e.kind for e in verdict.events} >= {"deployment.created", "pia.signed"}
    assert c.get("/console/ledger/evidence?deployment=nonsense").status_code == 404


def test_a_report_is_previewed_freely_and_ledgered_when_issued(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    c = login(sqlite_gate, "Sun Auditor")
    before = _kinds(sqlite_gate).count("report.issued")
    preview = c.get(f"/console/reports/pia?deployment={dep}")
    assert preview.status_code == 200 and "CN-FR-9" in preview.text
    assert c.get("/console/reports/filing").status_code == 200
    assert _kinds(sqlite_gate).count("report.issued") == before  # a preview records nothing
    for fmt, starts in (("pdf", b"%PDF-"), ("html", b"<!DOCTYPE html>")):
        r = post(c, "/console/reports/art30", {"deployment": dep, "format": fmt})
        assert r.status_code == 200 and r.content.startswith(starts), fmt
    assert _kinds(sqlite_gate).count("report.issued") == before + 2
    size = sqlite_gate.counts()["ledger_entries"]
    issued = json.loads(sqlite_gate.ledger_entry(size - 1).data)
    assert issued["kind"] == "report.issued" and issued["by"] == staff(sqlite_gate)["Sun Auditor"]
    assert c.get("/console/reports/nonsense?deployment=" + dep).status_code == 400
    assert post(c, "/console/reports/pia", {"deployment": dep, "format": "exe"}).status_code == 400


def test_an_admin_adds_a_principal_who_signs_in_and_is_revoked(sqlite_gate: Gate) -> None:
    staff(sqlite_gate)
    admin = login(sqlite_gate, "Zhao Admin")
    short = post(admin, "/console/principals", {"name": "Qian", "role": "dpo", "password": "short"})
    assert short.status_code == 400 and "12 to 1024 characters" in short.text
    assert "Qian" not in {p.name for p in sqlite_gate.list_principals()}  # nothing half-made
    r = post(
        admin,
        "/console/principals",
        {"name": "Qian", "role": "dpo", "password": "another long passphrase"},
    )
    assert r.status_code == 200 and 'id="new-key"' in r.text
    key = r.text.split('id="new-key">')[1].split("<")[0]
    assert sqlite_gate.authenticate(key).name == "Qian"
    qian = next(p for p in sqlite_gate.list_principals() if p.name == "Qian")
    new_client = client(sqlite_gate)  # a fresh browser
    signed = new_client.post(
        "/console/login",
        follow_redirects=False,
        data={
            "csrf_token": csrf(new_client.get("/console/login").text),
            "operator": "op_local",
            "name": "Qian",
            "password": "another long passphrase",
        },
    )
    assert signed.status_code == 303
    revoked = post(admin, f"/console/principals/{qian.id}/revoke", {})
    assert "is revoked" in revoked.text
    assert new_client.get("/console", follow_redirects=False).status_code == 303
    issued = post(
        admin,
        "/console/keys",
        {
            "principal": sqlite_gate.actor.principal_id,
            "label": "door controller",
            "expires_days": "30",
        },
    )
    assert 'id="new-key"' in issued.text


def test_an_admin_resets_a_password_which_ends_that_persons_sessions(sqlite_gate: Gate) -> None:
    people = staff(sqlite_gate)
    operator = login(sqlite_gate, "Li Na")
    admin = login(sqlite_gate, "Zhao Admin")
    r = post(
        admin,
        f"/console/principals/{people['Li Na']}/password",
        {"password": "a brand new passphrase"},
    )
    assert "password of Li Na is set" in r.text
    assert operator.get("/console", follow_redirects=False).status_code == 303
    passwords.verify_password(sqlite_gate, people["Li Na"], "a brand new passphrase")
    # the ledger says who set whose password: an admin could now sign in as Li Na
    size = sqlite_gate.counts()["ledger_entries"]
    last = json.loads(sqlite_gate.ledger_entry(size - 1).data)
    assert last["kind"] == "principal.password_set", last
    assert last["by"] == people["Zhao Admin"] and last["details"]["principal"] == people["Li Na"]
    assert last["details"]["replaced"] is True


def test_everyone_changes_their_own_password_with_the_current_one(sqlite_gate: Gate) -> None:
    people = staff(sqlite_gate)
    c = login(sqlite_gate, "Reviewer One")
    other = login(sqlite_gate, "Reviewer One")  # a second session, elsewhere
    wrong = post(
        c, "/console/account", {"current": "not my password", "new": "x" * 14, "again": "x" * 14}
    )
    assert wrong.status_code == 401
    differ = post(c, "/console/account", {"current": PASSWORD, "new": "x" * 14, "again": "y" * 14})
    assert differ.status_code == 400
    done = post(
        c,
        "/console/account",
        {"current": PASSWORD, "new": "reviewing all day", "again": "reviewing all day"},
    )
    assert done.status_code == 200 and "Your password is changed" in done.text
    assert c.get("/console").status_code == 200  # this session carries on
    assert other.get("/console", follow_redirects=False).status_code == 303  # the other ends
    passwords.verify_password(sqlite_gate, people["Reviewer One"], "reviewing all day")


def test_the_home_page_counts_what_waits(sqlite_gate: Gate) -> None:
    dep = live_deployment(sqlite_gate)
    code = consent(sqlite_gate, dep, "flat-7").access_code
    sqlite_gate.subject_complaint(code, "Please explain the retention period.")
    html = login(sqlite_gate, "Li Na").get("/console").text
    assert "1 in use, 0 waiting" in html and "1 open" in html
