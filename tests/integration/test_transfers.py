"""Shares and exports as they leave: what the file holds, that it works only with its own
key, that a leaked part of it names its recipient, and what the person, the Art 30 record
and the evidence bundle say about it."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from lawful import consent, live
from transfers_support import PEOPLE, Photo, leaves, matrix, people, ready, recipient, rows

from facegate.api.app import create_app
from facegate.errors import PolicyDenied
from facegate.gate import Gate
from facegate.ledger.evidence_verify import verify_bundle
from facegate.recognition import FaceEngine, decode_image
from facegate.reports.issue import art30
from facegate.storage import tables as t
from facegate.templates import MasterKey, get_scheme
from facegate.templates.hazmat import hamming

THREE = ("obama", "biden", "hopkins")


def _probe(engine: FaceEngine, photo: Photo, name: str, key_file: bytes) -> bytes:
    """The person's *other* photo, protected with the recipient's key (what it can do)."""
    key = json.loads(key_file)
    embedding = engine.extract_probe(decode_image(photo(PEOPLE[name][1]))).embedding
    return get_scheme(key["scheme"]).protect(embedding, base64.b64decode(key["transform_seed"]))


def test_an_export_matches_only_under_its_own_key(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = ready(gate, photo, THREE, egress=True)
    a = gate.share(dep.id, recipient(gate, dep).id, everyone=True)
    b = gate.share(dep.id, recipient(gate, dep, name="Second Processor").id, everyone=True)
    threshold = get_scheme(a.scheme).default_threshold
    rows_a, rows_b = matrix([r for _, r in rows(a.file)]), matrix([r for _, r in rows(b.file)])
    for name in THREE:  # the recipient recognises each person from a new photo ...
        probe = _probe(face_engine, photo, name, a.key_file)
        assert hamming.similarity_many(probe, rows_a).max() >= threshold
        # ... and the same probe says nothing about the other recipient's copy
        assert hamming.similarity_many(probe, rows_b).max() < threshold
    across = [hamming.similarity_many(row, rows_b).max() for row in rows_a]
    assert max(across) < threshold and float(np.mean(across)) < 0.6
    # nor does anything in either copy match the operator's own templates
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep.id)
        assert row is not None
        s.expunge(row)
    protector = gate.core.keyring.protector(row)
    for name in THREE:
        own = protector.protect(
            face_engine.extract_probe(decode_image(photo(PEOPLE[name][0]))).embedding
        )
        assert hamming.similarity_many(own, np.vstack([rows_a, rows_b])).max() < threshold


def test_the_file_holds_templates_ids_and_the_agreement_and_nothing_else(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = ready(gate, photo, THREE, egress=True)
    rec = recipient(gate, dep)
    out = gate.export(dep.id, rec.id, everyone=True)
    doc = json.loads(out.file)
    assert set(doc) == {
        "format", "export_id", "act", "agreement", "scheme", "threshold", "created_at", "terms",
        "rows",
    }  # fmt: skip
    assert doc["agreement"]["agreement_sha256"] == rec.agreement_sha256
    assert all(set(r) == {"id", "template"} for r in doc["rows"])
    size = get_scheme(out.scheme).template_bytes
    assert all(len(t) == size for _, t in rows(out.file))
    assert out.rows > out.people == 3  # canaries among them, with ids like everyone's
    assert len({rid for rid, _ in rows(out.file)}) == out.rows
    pseudonyms = {leaf["subject"] for leaf in leaves(gate, "transfer.person")}
    text = out.file.decode()
    assert not any(p in text for p in pseudonyms) and not any(n in text for n in THREE)
    assert "transform_seed" not in text and "transform_seed" in out.key_file.decode()
    (event,) = leaves(gate, "export")
    assert event["details"]["file_sha256"] == out.file_sha256 == _sha(out.file)


def test_a_few_leaked_rows_reordered_and_reencoded_name_their_recipient(
    gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    dep = ready(gate, photo, THREE, egress=True)
    names = ("First Co", "Second Co", "Third Co")
    outs = [gate.share(dep.id, recipient(gate, dep, name=n).id, everyone=True) for n in names]
    leaked = rows(outs[1].file)[::-1][:2]  # two rows, re-ordered, ids dropped, as hex CSV
    csv = "template\n" + "\n".join(t.hex() for _, t in leaked)
    found = gate.trace(csv.encode())
    assert (found.verdict, found.export_id, found.recipient) == (
        "export",
        outs[1].export_id,
        "Second Co",
    )
    assert found.attributed == found.templates == 2 and found.confidence > 1 - 1e-9
    assert found.ledger_events["export"] == outs[1].event_id
    (traced,) = leaves(gate, "trace")
    assert traced["details"]["export_id"] == outs[1].export_id
    # one template as a list of numbers is enough
    one = json.dumps({"x": list(rows(outs[2].file)[0][1])}).encode()
    assert gate.trace(one).export_id == outs[2].export_id
    # templates made under no key of this operator are attributed to nobody
    stranger = base64.b64encode(os.urandom(get_scheme(outs[0].scheme).template_bytes))
    assert gate.trace(b'{"rows":["' + stranger + b'"]}').verdict == "none"


def test_revocation_ends_transfers_and_keeps_the_copy_traceable(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = ready(gate, photo, ("obama",), egress=True)
    rec = recipient(gate, dep)
    out = gate.share(dep.id, rec.id, everyone=True)
    revoked = gate.revoke_recipient(rec.id, reason="the processor lost its certification")
    assert revoked.revoked_at is not None
    (event,) = leaves(gate, "recipient.revoked")
    assert event["details"]["exports"] == [out.export_id]
    with pytest.raises(PolicyDenied):
        gate.share(dep.id, rec.id, everyone=True)
    found = gate.trace(out.file)
    assert found.export_id == out.export_id and "recipient_revoked" in found.ledger_events
    assert found.canaries_found >= 2  # the planted rows, byte for byte


def test_export_keys_survive_a_master_key_rotation(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = ready(gate, photo, ("obama",), egress=True)
    out = gate.share(dep.id, recipient(gate, dep).id, everyone=True)
    gate.rotate_master_key(MasterKey.generate())
    gate.finish_master_rotation()
    assert gate.trace(out.file).export_id == out.export_id


def test_the_person_sees_where_their_data_went_and_the_record_lists_recipients(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = live(gate, egress=True)
    receipt = consent(gate, dep.id, "obama", egress=True)
    gate.enroll(dep.id, "obama", photo(PEOPLE["obama"][0]))
    people(gate, dep, photo, ("biden",))  # consented to nothing leaving: stays out
    rec = recipient(gate, dep, name="Overseas Cloud", country="SG", mechanism="standard_contract")
    out = gate.export(dep.id, rec.id, subjects=["obama"])
    (went,) = gate.subject_view(receipt.access_code)["transfers"]  # type: ignore[misc]
    assert went["recipient"]["name"] == "Overseas Cloud" and went["abroad"] is True
    record = art30(gate.core, dep.id).report
    text = json.dumps(record.model_dump(mode="json"))
    assert "Overseas Cloud (processor, SG" in text and "standard contract" in text
    pseudonym = receipt.receipt["receipt"]["piiPrincipalId"]  # type: ignore[index]
    verdict = verify_bundle(gate.export_evidence(pseudonym=pseudonym))
    (carried,) = [e for e in verdict.events if e.kind == "transfer.person"]
    assert carried.details["export_id"] == out.export_id


def test_a_bulk_transfer_beyond_the_agreement_is_stopped_with_an_alert(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = ready(gate, photo, ("obama", "biden"), egress=True)
    rec = recipient(gate, dep, max_people=1)
    gate.share(dep.id, rec.id, subjects=["obama"])
    with pytest.raises(PolicyDenied) as caught:
        gate.share(dep.id, rec.id, everyone=True)
    assert "ISO-24745" in caught.value.rule_ids and "beyond the agreement" in caught.value.message
    (alert,) = gate.list_alerts()
    assert alert.kind == "bulk_export" and alert.delivered_at is None  # no regulator linked
    assert leaves(gate, "alert.abuse")[0]["details"]["alert_id"] == alert.id


def test_share_and_trace_on_the_command_line(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo, tmp_path: Path
) -> None:
    from cli_runner import fg

    gate = sqlite_gate
    dep = ready(gate, photo, ("obama",), egress=True)
    home = gate.settings.home
    args = ["recipient", "add", "-d", dep.id, "--name", "CLI Co", "--contact", "+86 21 0000"]
    missing = fg(home, *args, "--json", ok=False)
    assert missing.returncode == 3 and "same_purpose is required (CN-SPC-2)" in missing.stdout
    terms = [
        "--role", "processor", "--country", "CN", "--purpose", "gate entry",
        "--same-purpose", "--retention-days", "30", "--revocable", "--not-for-profit",
        "--mechanism", "none", "--max-people", "10", "--agreement", "ab" * 32,
        "--ends", "2099-01-01T00:00:00+00:00", "--json",
    ]  # fmt: skip
    rec = json.loads(fg(home, *args, *terms).stdout)
    out, key = tmp_path / "export.json", tmp_path / "export.key"
    sent = fg(home, "share", "-d", dep.id, "-r", rec["id"], "--everyone", "-o", str(out),
              "--key-out", str(key))  # fmt: skip
    assert "exp_" in sent.stdout and str(key) in sent.stdout
    assert oct(out.stat().st_mode & 0o777) == oct(key.stat().st_mode & 0o777) == "0o600"
    again = fg(home, "share", "-d", dep.id, "-r", rec["id"], "--everyone", "-o", str(out),
               "--key-out", str(tmp_path / "k2"), ok=False)  # fmt: skip
    assert again.returncode == 3  # never overwrites a file, and nothing was sent
    traced = fg(home, "trace", str(out)).stdout.splitlines()[0].split(",")
    assert traced[1].startswith("exp_") and traced[2] == "CLI Co"


def test_share_and_trace_over_http(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    from lawful import form

    gate = sqlite_gate
    dep = live(gate, egress=True)
    code = consent(gate, dep.id, "obama", egress=True).access_code
    gate.enroll(dep.id, "obama", photo(PEOPLE["obama"][0]))
    auth = {"Authorization": f"Bearer {gate.issue_api_key(label='t').key}"}
    with TestClient(create_app(gate)) as c:
        body = {
            "name": "HTTP Co", "contact": "+86 21 0000 1111", "role": "controller",
            "country": "CN", "purpose": "gate entry", "same_purpose": True,
            "retention_days": 30, "irrevocable": False, "for_profit": False,
            "mechanism": "none", "max_people": 5, "agreement_sha256": form("a"),
            "ends_at": "2099-01-01T00:00:00Z",
        }  # fmt: skip
        lacking = c.post(f"/v1/deployments/{dep.id}/recipients", headers=auth, json={"name": "x"})
        assert lacking.status_code == 422
        r = c.post(f"/v1/deployments/{dep.id}/recipients", headers=auth, json=body)
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        r = c.post(f"/v1/deployments/{dep.id}/shares", headers=auth,
                   json={"recipient_id": rid, "everyone": True})  # fmt: skip
        assert r.status_code == 201, r.text
        sent = r.json()
        assert (
            sent["file"]["export_id"] == sent["export_id"] and "transform_seed" in sent["key_file"]
        )
        leak = json.dumps(sent["file"]["rows"][:1]).encode()
        r = c.post("/v1/traces", headers=auth, files={"file": ("leak.json", leak)})
        assert r.status_code == 200 and r.json()["export_id"] == sent["export_id"]
        held = c.get("/v1/subject/me", headers={"X-Access-Code": code}).json()
        assert [x["recipient"]["name"] for x in held["transfers"]] == ["HTTP Co"]
        r = c.post(f"/v1/deployments/{dep.id}/shares", headers=auth,
                   json={"recipient_id": rid, "everyone": True, "extra": 1})  # fmt: skip
        assert r.status_code == 422


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_an_export_for_another_purpose_is_judged_as_a_disclosure(
    sqlite_gate: Gate, face_engine: FaceEngine, photo: Photo
) -> None:
    from lawful import refused

    gate = sqlite_gate
    dep = ready(gate, photo, ("obama",), egress=True)
    other = recipient(gate, dep, purpose="Marketing analytics", same_purpose=False)
    refused(gate, "CN-SPC-2", lambda: gate.export(dep.id, other.id, everyone=True))
    assert leaves(gate, "export") == []
