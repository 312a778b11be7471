"""Revoking a deployment key: every template dies at once, the ledger records why, and a
re-enrollment campaign carries consents over only where the notice did not change."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from lawful import consent, live, sign
from sqlalchemy import select

from facegate.config import Settings
from facegate.errors import InvalidInput, InvalidTemplate, NotFound, PolicyDenied
from facegate.flows.keys import KeyRevocation
from facegate.gate import Gate
from facegate.ledger.events import Kind
from facegate.recognition import FaceEngine, decode_image
from facegate.storage import tables as t
from facegate.templates import MasterKey, TemplateProtector
from facegate.templates.hazmat import keys

Photo = Callable[[str], bytes]


def _deployment(gate: Gate) -> str:
    return live(gate, name="Lobby").id


def _ledger(gate: Gate, kind: Kind) -> list[dict[str, object]]:
    with gate.db.read() as s:
        rows = s.scalars(
            select(t.LedgerEntry.data)
            .where(t.LedgerEntry.kind == str(kind))
            .order_by(t.LedgerEntry.idx)
        )
        return [json.loads(r) for r in rows]


@dataclass(frozen=True)
class Before:
    dep: str
    old_key_id: str
    old_protector: TemplateProtector
    old_probe: bytes
    probe: npt.NDArray[np.float32]
    wrapped: dict[str, bytes]


def _enrolled_and_revoked(gate: Gate, photo: Photo) -> tuple[Before, KeyRevocation]:
    dep = _deployment(gate)
    for ref in ("alice", "bob"):
        consent(gate, dep, ref)
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    gate.enroll(dep, "bob", photo("fixtures/biden.jpg"))
    assert gate.verify(dep, "alice", photo("fixtures/obama2.jpg")).decision == "match"
    assert gate.identify(dep, photo("fixtures/obama3.jpg")).subject_ref == "alice"
    core = gate.core
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep)
        assert row is not None
        subjects = list(s.scalars(select(t.Template.subject_id)))
    protector = core.keyring.protector(row)
    probe = core.engine.extract_probe(decode_image(photo("fixtures/obama2.jpg"))).embedding
    before = Before(
        dep=dep,
        old_key_id=row.key_id,
        old_protector=protector,
        old_probe=protector.protect(probe),
        probe=probe,
        wrapped=core.keyring.keystore.get_many(subjects),
    )
    revoked = gate.revoke_deployment_key(dep, reason="template database leaked (incident 7)")
    return before, revoked


def test_revocation_kills_every_template_at_once(gate: Gate, photo: Photo) -> None:
    before, revoked = _enrolled_and_revoked(gate, photo)
    dep = before.dep
    assert revoked.old_key_id == before.old_key_id != revoked.new_key_id
    assert revoked.templates_revoked == 2
    assert revoked.to_reenroll == ("alice", "bob")
    assert revoked.consents_not_carried == ()

    # Every template is gone and nobody matches until they enroll again.
    assert gate.counts()["templates"] == 0
    with pytest.raises(NotFound):
        gate.verify(dep, "alice", photo("fixtures/obama2.jpg"))
    assert gate.identify(dep, photo("fixtures/obama3.jpg")).decision == "unknown"

    # A stolen old template is useless: its data key was replaced in the key store ...
    keyring = gate.core.keyring
    after = keyring.keystore.get_many(list(before.wrapped))
    for sid, wrapped in before.wrapped.items():
        assert after[sid] != wrapped
        with pytest.raises(InvalidTemplate):
            before.old_protector.unwrap_data_key(after[sid], subject_id=sid)
    # ... and even opened with keys kept from before, it matches nothing now: a probe under
    # the new key is unrelated to templates made under the old one.
    with gate.db.read() as s:
        row = s.get(t.Deployment, dep)
        assert row is not None
    new = keyring.protector(row)
    assert new.key_id == revoked.new_key_id
    assert abs(new.similarity(new.protect(before.probe), before.old_probe) - 0.5) < 0.1
    assert new.similarity(before.old_protector.protect(before.probe), before.old_probe) > 0.9

    # The ledger says why.
    (event,) = _ledger(gate, Kind.DEPLOYMENT_KEY_REVOKED)
    details = event["details"]
    assert isinstance(details, dict)
    assert details["reason"] == "template database leaked (incident 7)"
    assert (details["old_key_id"], details["new_key_id"]) == (
        before.old_key_id,
        revoked.new_key_id,
    )
    assert details["templates_revoked"] == 2
    assert gate.verify_ledger().ok


def test_the_campaign_lists_who_must_enroll_again(sqlite_gate: Gate, photo: Photo) -> None:
    gate = sqlite_gate
    before, revoked = _enrolled_and_revoked(gate, photo)
    dep = before.dep
    campaign = gate.reenrollment_campaign(dep)
    assert [e.subject_ref for e in campaign.pending] == ["alice", "bob"]
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))  # her consent carried over
    assert gate.verify(dep, "alice", photo("fixtures/obama2.jpg")).decision == "match"
    assert gate.identify(dep, photo("fixtures/obama3.jpg")).subject_ref == "alice"
    campaign = gate.reenrollment_campaign(dep)
    assert [e.subject_ref for e in campaign.pending] == ["bob"]
    assert [e.subject_ref for e in campaign.entries if e.enrolled] == ["alice"]
    assert campaign.key_id == revoked.new_key_id


def test_consents_carry_over_only_under_an_unchanged_notice(
    sqlite_gate: Gate, photo: Photo
) -> None:
    gate = sqlite_gate
    dep = _deployment(gate)
    consent(gate, dep, "alice")  # to notice version 1
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    gate.change_deployment(dep, retention_days=200)  # a draft again: the DPO re-signs ...
    assert sign(gate, dep).notice_version == 2  # ... publishing a new notice
    consent(gate, dep, "carol", notice_version=2)  # carol consents to the new notice
    gate.enroll(dep, "carol", photo("fixtures/biden.jpg"))

    revoked = gate.revoke_deployment_key(dep, reason="yearly key renewal")
    assert revoked.to_reenroll == ("carol",)
    assert revoked.consents_not_carried == ("alice",)
    # Alice is erased (she must consent again); Carol is asked to enroll again.
    erased = _ledger(gate, Kind.ERASED)
    assert any("notice changed" in str(e["details"]) for e in erased)
    assert [e.subject_ref for e in gate.reenrollment_campaign(dep).pending] == ["carol"]
    with pytest.raises(PolicyDenied):
        gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    consent(gate, dep, "alice", notice_version=2)
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    gate.enroll(dep, "carol", photo("fixtures/biden.jpg"))
    assert gate.verify(dep, "carol", photo("fixtures/knn/train/biden/biden2.jpg")).decision == (
        "match"
    )
    assert gate.reenrollment_campaign(dep).pending == ()


def test_revocation_needs_a_reason(sqlite_gate: Gate) -> None:
    dep = _deployment(sqlite_gate)
    with pytest.raises(InvalidInput):
        sqlite_gate.revoke_deployment_key(dep, reason="  ")


def test_an_interrupted_revocation_is_finished_by_the_keyring(
    sqlite_gate: Gate, photo: Photo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process stops after the main commit, before the key store swap: the staged
    data keys are found and promoted on the next use, and nothing is lost."""
    gate = sqlite_gate
    dep = _deployment(gate)
    consent(gate, dep, "alice")
    keyring = gate.core.keyring
    monkeypatch.setattr(keyring, "swap_data_keys", lambda wrapped, *, destroy: None)
    gate.revoke_deployment_key(dep, reason="renewal")
    monkeypatch.undo()
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    assert gate.verify(dep, "alice", photo("fixtures/obama2.jpg")).decision == "match"
    assert gate.key_status().orphan_data_keys == 0  # the staged copy was promoted


def test_old_keys_in_a_backup_die_with_the_key_store(
    sqlite_gate: Gate, tmp_path: Path, photo: Photo
) -> None:
    """A copy of the main database from before the revocation holds the old deployment key
    (openable with the master key) and the old sealed templates; the key store no longer
    holds any data key they open under."""
    gate = sqlite_gate
    home = gate.settings.home
    dep = _deployment(gate)
    consent(gate, dep, "alice")
    gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))
    backup = tmp_path / "before.db"
    with sqlite3.connect(home / "facegate.db") as src, sqlite3.connect(backup) as dst:
        src.backup(dst)
    gate.revoke_deployment_key(dep, reason="renewal")
    master = MasterKey.from_file(home / "master.key")
    with sqlite3.connect(backup) as db, sqlite3.connect(home / "keys.db") as ks:
        (old_wrapped,) = db.execute("SELECT wrapped_key FROM deployments").fetchone()
        (subject_id,) = db.execute("SELECT subject_id FROM templates").fetchone()
        stored = [w for (w,) in ks.execute("SELECT wrapped FROM data_keys")]
    old_key = keys.unwrap_key(master.key, old_wrapped, context=keys.deployment_key_context(dep))
    assert stored
    for wrapped in stored:
        with pytest.raises(InvalidTemplate):
            keys.unwrap_key(old_key, wrapped, context=keys.data_key_context(dep, subject_id))


def test_another_process_drops_its_gallery_after_a_revocation(
    tmp_path: Path, face_engine: FaceEngine, photo: Photo
) -> None:
    """Two Gates on one home stand for two processes (an API worker and the CLI): after the
    CLI revokes the key and a person re-enrolls, the worker's next search reloads."""
    settings = Settings(home=tmp_path / "home")
    with Gate.open(settings=settings, engine=face_engine, create=True) as worker:
        dep = _deployment(worker)
        consent(worker, dep, "alice")
        worker.enroll(dep, "alice", photo("fixtures/obama.jpg"))
        assert worker.identify(dep, photo("fixtures/obama3.jpg")).subject_ref == "alice"
        with Gate.open(settings=settings, engine=face_engine) as cli:
            cli.revoke_deployment_key(dep, reason="laptop with a backup stolen")
            consent(cli, dep, "bob")
            cli.enroll(dep, "bob", photo("fixtures/obama.jpg"))
        # the worker's gallery was loaded under the old key: it must not answer from it
        found = worker.identify(dep, photo("fixtures/obama3.jpg"))
        assert found.subject_ref == "bob"
        assert found.decision == "match"
