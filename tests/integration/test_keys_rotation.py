"""Master-key rotation without downtime: every wrapped key really moves to the new key."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from lawful import consent, live
from sqlalchemy import select

from facegate.config import Settings
from facegate.errors import Conflict, InvalidTemplate
from facegate.gate import Gate
from facegate.keyring import LEDGER_KEY
from facegate.ledger.events import Kind
from facegate.recognition import FaceEngine
from facegate.storage import tables as t
from facegate.templates import MasterKey
from facegate.templates.hazmat import keys

Photo = Callable[[str], bytes]


def copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included), as a backup tool makes."""
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)


def _deployment(gate: Gate, name: str = "Lobby") -> str:
    return live(gate, name=name).id


def _wrapped(gate: Gate) -> dict[str, tuple[bytes, str]]:
    """Every master-wrapped blob with its wrap context."""
    with gate.db.read() as s:
        out = {
            d.id: (d.wrapped_key, keys.deployment_key_context(d.id))
            for d in s.scalars(select(t.Deployment))
        }
        meta = s.get(t.Meta, LEDGER_KEY)
        assert meta is not None
        out[LEDGER_KEY] = (meta.value, LEDGER_KEY)
    return out


def _opens(master: MasterKey, blob: bytes, context: str) -> bool:
    try:
        keys.unwrap_key(master.key, blob, context=context)
    except InvalidTemplate:
        return False
    return True


def _kinds(gate: Gate) -> list[str]:
    with gate.db.read() as s:
        return list(s.scalars(select(t.LedgerEntry.kind).order_by(t.LedgerEntry.idx)))


def test_rotation_rewraps_everything_and_keeps_serving(
    settings: Settings, face_engine: FaceEngine, photo: Photo
) -> None:
    home = settings.home
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        deps = [_deployment(gate, "Lobby"), _deployment(gate, "Garage")]
        consent(gate, deps[0], "alice")
        gate.enroll(deps[0], "alice", photo("fixtures/obama.jpg"))
        old = MasterKey.from_file(home / "master.key")
        before = _wrapped(gate)
        public_key = gate.public_key()
        assert all(_opens(old, blob, ctx) for blob, ctx in before.values())

        # A second process started before the rotation, which it knows nothing about.
        with Gate.open(settings=settings, engine=face_engine) as bystander:
            new = MasterKey.generate()
            rotation = gate.rotate_master_key(new)
            assert rotation.old_key_id == old.key_id
            assert rotation.new_key_id == new.key_id
            assert rotation.rewrapped == len(deps) + 1  # the deployment keys and the ledger key

            after = _wrapped(gate)
            for name, (blob, ctx) in after.items():
                assert blob != before[name][0], name
                assert _opens(new, blob, ctx), name
                assert not _opens(old, blob, ctx), name  # re-wrapped, not just copied
            assert MasterKey.from_file(home / "master.key") == new
            assert MasterKey.from_file(home / "master.key.previous") == old

            # No downtime: both processes keep working, and a third one starts.
            assert gate.verify(deps[0], "alice", photo("fixtures/obama2.jpg")).decision == "match"
            assert (
                bystander.verify(deps[0], "alice", photo("fixtures/obama2.jpg")).decision == "match"
            )
            with Gate.open(settings=settings, engine=face_engine) as late:
                assert late.public_key() == public_key
                assert late.verify(deps[0], "alice", photo("fixtures/obama2.jpg")).decision == (
                    "match"
                )

        retired = gate.finish_master_rotation()
        assert retired.retired_key_ids == (old.key_id,)
        assert not (home / "master.key.previous").exists()
        assert gate.key_status().previous_key_ids == ()
        assert gate.verify_ledger().ok
        kinds = _kinds(gate)
        assert str(Kind.MASTER_KEY_ROTATED) in kinds and str(Kind.MASTER_KEY_RETIRED) in kinds
        with pytest.raises(Conflict):
            gate.finish_master_rotation()

    # After the roll the old key opens nothing, and the installation opens with the new one.
    for blob, ctx in _wrapped_from(settings, face_engine).values():
        assert not _opens(old, blob, ctx)
    with Gate.open(settings=settings, engine=face_engine) as reopened:
        assert reopened.public_key() == public_key
        assert reopened.verify(deps[0], "alice", photo("fixtures/obama2.jpg")).decision == ("match")


def _wrapped_from(settings: Settings, engine: FaceEngine) -> dict[str, tuple[bytes, str]]:
    with Gate.open(settings=settings, engine=engine) as gate:
        return _wrapped(gate)


def test_old_master_alone_cannot_open_after_the_roll(
    sqlite_gate: Gate, tmp_path: Path, face_engine: FaceEngine
) -> None:
    gate = sqlite_gate
    _deployment(gate)
    home = gate.settings.home
    old_text = (home / "master.key").read_bytes()
    gate.rotate_master_key(MasterKey.generate())
    gate.finish_master_rotation()
    # Someone restores the old key file over the new one: the installation must not open.
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    for name in ("facegate.db", "keys.db"):
        copy_sqlite(home / name, stolen / name)
    (stolen / "master.key").write_bytes(old_text)
    (stolen / "master.key").chmod(0o600)
    with pytest.raises(InvalidTemplate):
        Gate.open(settings=Settings(home=stolen), engine=face_engine)


def test_rotation_refuses_the_current_key_and_resumes(sqlite_gate: Gate) -> None:
    gate = sqlite_gate
    _deployment(gate)
    home = gate.settings.home
    current = MasterKey.from_file(home / "master.key")
    with pytest.raises(Conflict):
        gate.rotate_master_key(MasterKey(current.key))
    # An interrupted rotation left its staged key: running again with it completes the roll.
    new = MasterKey.generate()
    new.write_file(home / "master.key.next")
    rotation = gate.rotate_master_key(new)
    assert rotation.new_key_id == new.key_id
    assert not (home / "master.key.next").exists()
    status = gate.key_status()
    assert status.master_key_id == new.key_id
    assert all(d.under_current_master for d in status.deployments)
    assert status.ledger_key_under_current_master


def test_env_keys_roll_with_the_previous_key_accepted(
    tmp_path: Path, face_engine: FaceEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = MasterKey.generate(), MasterKey.generate()
    home = tmp_path / "home"
    with Gate.open(
        settings=Settings(home=home, master_key=old.to_base64()), engine=face_engine, create=True
    ) as g:
        dep = _deployment(g)
    # The operator restarts with the new key current and the old one still accepted ...
    monkeypatch.setenv("FACEGATE_PREVIOUS_MASTER_KEY", old.to_base64())
    settings = Settings(home=home, master_key=new.to_base64())
    with Gate.open(settings=settings, engine=face_engine) as gate:
        assert gate.get_deployment(dep).id == dep  # served while nothing is re-wrapped yet
        status = gate.key_status()
        assert not any(d.under_current_master for d in status.deployments)
        rotation = gate.rotate_master_key()  # ... then re-wraps under the current key
        assert (rotation.old_key_id, rotation.new_key_id) == (old.key_id, new.key_id)
        assert all(d.under_current_master for d in gate.key_status().deployments)
        gate.finish_master_rotation()
    # ... and drops the old one: the new key alone now opens the installation.
    monkeypatch.delenv("FACEGATE_PREVIOUS_MASTER_KEY")
    with Gate.open(settings=settings, engine=face_engine) as gate:
        assert gate.get_deployment(dep).id == dep
        assert gate.key_status().previous_key_ids == ()
