"""The watch: canaries that name a leaked export when a probe made from one arrives, wolf
probes, hill-climbing on a template, sweeps of strangers; alerts ledgered and delivered to
the regulator; ordinary traffic raises none. Attack probes are planted embeddings
(:class:`ProbeEngine`); everything else is the real service."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from lawful import consent, dpo, live
from probe_engine import ProbeEngine
from regulator_support import Clock, new_regulator
from sqlalchemy import select
from transfers_support import PEOPLE, Photo, leaves, ready, recipient, rows

from facegate.config import Settings
from facegate.errors import Forbidden, PolicyDenied
from facegate.gate import Gate
from facegate.recognition import FaceEngine, decode_image
from facegate.regulator.app import create_regulator_app
from facegate.regulator.link import register_link
from facegate.regulator.link_client import RegulatorClient
from facegate.storage import tables as t
from facegate.templates import get_scheme
from facegate.templates.hazmat._mean import MEAN
from facegate.transfers import detect
from facegate.transfers.alerts import deliver_pending
from facegate.transfers.canaries import canary_ids
from facegate.transfers.keys import open_export_key
from facegate.transfers.reprotect import ExportKeys, rebuild


@pytest.fixture
def engine(face_engine: FaceEngine) -> ProbeEngine:
    return ProbeEngine(face_engine)


@pytest.fixture
def gate(settings: Settings, engine: ProbeEngine) -> Iterator[Gate]:
    """On SQLite and on PostgreSQL (the watch reads the ledger's rows on both)."""
    with Gate.open(settings=settings, engine=engine, create=True) as g:
        yield g


def _embedding(engine: FaceEngine, photo: Photo, rel: str) -> np.ndarray:  # type: ignore[type-arg]
    return np.asarray(engine.extract_probe(decode_image(photo(rel))).embedding, dtype=np.float64)


def _canary_rows(gate: Gate, export_id: str) -> set[str]:
    """The ids of the export's canary rows (the operator can tell; the file cannot)."""
    with gate.db.read() as s:
        row = s.get(t.TransferExport, export_id)
        assert row is not None
        ek = ExportKeys.of(open_export_key(gate.core, row))
        return set(canary_ids(ek.id_key, row.canaries))


def test_a_probe_made_from_a_leaked_canary_raises_the_alarm_in_that_request(
    gate: Gate, engine: ProbeEngine, photo: Photo
) -> None:
    dep = ready(gate, photo, ("obama", "biden", "hopkins"), egress=True)
    out = gate.share(dep.id, recipient(gate, dep).id, everyone=True)
    canaries = _canary_rows(gate, out.export_id)
    # the buyer of the leaked file and key turns every row back into a probe (the stolen-key
    # inversion) and tries them on another deployment of any facegate
    key = json.loads(out.key_file)
    seed = base64.b64decode(key["transform_seed"])
    elsewhere = live(gate, name="Office door")
    consent(gate, elsewhere.id, "visitor")
    gate.enroll(elsewhere.id, "visitor", photo("fixtures/knn/train/kit_harington/john1.jpeg"))
    alarms = 0
    for rid, template in rows(out.file):
        [estimate] = rebuild(
            get_scheme(key["scheme"]), seed, np.frombuffer(template, np.uint8)[None]
        )
        probe = engine.plant(estimate)
        if rid in canaries:
            with pytest.raises(PolicyDenied) as caught:
                gate.identify(elsewhere.id, probe)
            assert out.export_id in caught.value.message and "CN-FR-14" in caught.value.rule_ids
            alarms += 1
        else:
            assert gate.identify(elsewhere.id, probe).decision in {"unknown", "match"}
    assert alarms == len(canaries) >= 2
    (alert,) = [a for a in gate.list_alerts() if a.kind == "canary"]  # one per hour and export
    assert alert.export_id == out.export_id and alert.details["recipient_id"] == out.recipient_id
    denials = [d for d in leaves(gate, "policy.denied") if "canary" in json.dumps(d)]
    assert len(denials) == alarms  # every refused probe is on the ledger


def test_real_faces_raise_no_alarm_and_a_wolf_probe_is_refused(
    gate: Gate, engine: ProbeEngine, photo: Photo, faces_dir: Path
) -> None:
    dep = ready(gate, photo, ("obama",), egress=True)
    gate.share(dep.id, recipient(gate, dep).id, everyone=True)
    for path in sorted((faces_dir / "fixtures").rglob("*.jp*g")):
        result = gate.identify(dep.id, path.read_bytes())
        assert result.decision in {"match", "unknown"}, path
    assert gate.list_alerts() == []
    with pytest.raises(PolicyDenied) as caught:  # the public mean face: an attack's first guess
        gate.verify(dep.id, "obama", engine.plant(np.asarray(MEAN)))
    assert "mean face" in caught.value.message
    assert [a.kind for a in gate.list_alerts()] == ["wolf_probe"]


def test_comparing_two_photos_watches_both(gate: Gate, engine: ProbeEngine, photo: Photo) -> None:
    dep = ready(gate, photo, ("obama",))
    real = photo("fixtures/obama.jpg")
    assert gate.compare(dep.id, real, photo("fixtures/obama2.jpg")).decision == "match"
    with pytest.raises(PolicyDenied) as caught:
        gate.compare(dep.id, real, engine.plant(np.asarray(MEAN)))
    assert "mean face" in caught.value.message
    assert [a.kind for a in gate.list_alerts()] == ["wolf_probe"]


def test_hill_climbing_on_a_template_is_stopped_before_it_succeeds(
    gate: Gate, engine: ProbeEngine, photo: Photo
) -> None:
    dep = ready(gate, photo, ("obama",))
    start = _embedding(engine, photo, PEOPLE["biden"][0])  # the attacker's best public face
    rng = np.random.default_rng(7)
    best, scores, stopped = start, [], None
    for _ in range(200):  # a climb needs hundreds of probes; the door allows a few
        candidate = best + rng.standard_normal(128) * 0.01
        try:
            result = gate.verify(dep.id, "obama", engine.plant(candidate))
        except PolicyDenied as err:
            stopped = err
            break
        assert result.decision == "no_match"  # never succeeded
        scores.append(result.score)
        if result.score >= max(scores):
            best = candidate
    assert stopped is not None and len(scores) == detect.BURST
    assert "CN-FR-14" in stopped.rule_ids and "failed probes" in stopped.message
    (alert,) = gate.list_alerts()
    assert alert.kind == "hill_climb" and alert.blocks_until is not None
    # the person is protected until a supervisor lifts the block: even their own face waits
    with pytest.raises(PolicyDenied):
        gate.verify(dep.id, "obama", photo(PEOPLE["obama"][1]))
    desk = gate.acting_as(gate.create_principal("Desk", "operator").api_key.key)
    with pytest.raises(Forbidden):  # the desk may not lift it
        desk.clear_alert(alert.id, reason="looked fine to me at the desk")
    dpo(gate).clear_alert(alert.id, reason="the probes came from our own test harness")
    assert gate.verify(dep.id, "obama", photo(PEOPLE["obama"][1])).decision == "match"


def test_a_sweep_of_strangers_is_stopped(gate: Gate, engine: ProbeEngine, photo: Photo) -> None:
    dep = ready(gate, photo, ("obama",))
    rng = np.random.default_rng(11)
    mean = np.asarray(MEAN)
    for _ in range(detect.SWEEP):
        direction = rng.standard_normal(128)
        stranger = mean + 0.6 * direction / np.linalg.norm(direction)
        assert gate.identify(dep.id, engine.plant(stranger)).decision == "unknown"
    with pytest.raises(PolicyDenied) as caught:
        gate.identify(dep.id, photo(PEOPLE["obama"][1]))
    assert "named nobody" in caught.value.message
    assert [a.kind for a in gate.list_alerts()] == ["sweep"]
    # another principal at another desk is not stopped
    desk = gate.acting_as(gate.create_principal("Desk 2", "operator").api_key.key)
    assert desk.identify(dep.id, photo(PEOPLE["obama"][1])).decision == "match"


def test_ordinary_traffic_raises_no_alert(gate: Gate, photo: Photo) -> None:
    dep = ready(gate, photo, ("obama", "biden", "hopkins"))
    for _ in range(2):
        for name, (_, other) in PEOPLE.items():
            assert gate.verify(dep.id, name, photo(other)).decision == "match"
            assert gate.identify(dep.id, photo(other)).subject_ref == name
    assert gate.verify(dep.id, "obama", photo(PEOPLE["biden"][1])).decision == "no_match"
    assert gate.identify(dep.id, photo("fixtures/knn/train/rose_leslie/img1.jpg")).decision == (
        "unknown"
    )
    assert gate.list_alerts() == []


def test_the_link_loop_delivers_alerts_the_request_did_not_wait_for(
    gate: Gate, engine: ProbeEngine, photo: Photo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from facegate.regulator import link_service
    from facegate.regulator.tables import RegInbox

    reg, _ = new_regulator(tmp_path / "reg", clock=Clock(datetime.now(UTC)))
    with reg, TestClient(create_regulator_app(reg)) as http:
        core = gate.core
        client = RegulatorClient(
            "http://testserver", origin=core.ledger.origin, signing_key=core.ledger.signing_key,
            client=http,
        )  # fmt: skip
        register_link(
            core, "http://testserver", operator_name="Acme", contact="dpo@acme.test",
            operator_url="http://acme.test", witness_key=reg.witness_key, client=client,
        )  # fmt: skip
        reg.approve(core.ledger.origin)
        dep = ready(gate, photo, ("obama",))
        with pytest.raises(PolicyDenied):
            gate.verify(dep.id, "obama", engine.plant(np.asarray(MEAN)))
        (pending,) = gate.list_alerts(open_only=True)
        assert pending.delivered_at is None  # raised, not sent inside the request
        monkeypatch.setattr(link_service, "client_for", lambda core, link: client)
        link_service.run_once(core)
        assert gate.list_alerts(open_only=True) == []
        (sent,) = gate.list_alerts()
        assert sent.delivered_at is not None and sent.receipt_id is not None
        with reg.core.db.read() as s:
            inbox = [(r.what, r.ref) for r in s.scalars(select(RegInbox))]
        assert ("alert", pending.id) in inbox


def test_alerts_reach_the_regulator(
    gate: Gate, engine: ProbeEngine, photo: Photo, tmp_path: Path
) -> None:
    reg, _ = new_regulator(tmp_path / "reg", clock=Clock(datetime.now(UTC)))
    with reg, TestClient(create_regulator_app(reg)) as http:
        core = gate.core
        client = RegulatorClient(
            "http://testserver", origin=core.ledger.origin, signing_key=core.ledger.signing_key,
            client=http,
        )  # fmt: skip
        register_link(
            core, "http://testserver", operator_name="Acme", contact="dpo@acme.test",
            operator_url="http://acme.test", witness_key=reg.witness_key, client=client,
        )  # fmt: skip
        reg.approve(core.ledger.origin)
        dep = ready(gate, photo, ("obama",))
        with pytest.raises(PolicyDenied):
            gate.verify(dep.id, "obama", engine.plant(np.asarray(MEAN)))
        (pending,) = gate.list_alerts(open_only=True)
        assert pending.delivered_at is None  # the link's own client could not reach it here
        (sent,) = deliver_pending(core, gate.actor, client=client)
        assert sent.receipt_id is not None and sent.delivered_at is not None
        from facegate.regulator.tables import RegInbox

        with reg.core.db.read() as s:
            inbox = [(r.what, r.ref) for r in s.scalars(select(RegInbox))]
        assert ("alert", pending.id) in inbox
