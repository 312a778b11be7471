"""Crypto-shredding: a copy of the main database taken before an erasure cannot yield the
erased person's template afterwards, because the only key left the separate key store."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from lawful import consent, live
from sqlalchemy import select

from facegate.errors import InvalidTemplate
from facegate.gate import Gate
from facegate.keyring import STAGED_SUFFIX
from facegate.storage import tables as t
from facegate.templates import MasterKey
from facegate.templates.hazmat import aead, keys
from facegate.templates.protector import template_ad

Photo = Callable[[str], bytes]


def copy_sqlite(src: Path, dst: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included), as a backup tool makes."""
    with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
        source.backup(target)


def open_templates(backup: Path, keys_db: Path, master: MasterKey) -> dict[str, bytes]:
    """Everything an attacker can do with a database copy, the key store and the master key:
    unwrap each deployment key, unwrap each subject's data key, open each sealed template.
    Templates whose data key is missing are tried with every data key the store holds."""
    with sqlite3.connect(backup) as db, sqlite3.connect(keys_db) as ks:
        deployments = dict(db.execute("SELECT id, wrapped_key FROM deployments").fetchall())
        rows = db.execute(
            "SELECT id, subject_id, deployment_id, scheme, sealed FROM templates"
        ).fetchall()
        stored = dict(ks.execute("SELECT subject_id, wrapped FROM data_keys").fetchall())
    dep_keys = {
        dep: keys.unwrap_key(master.key, blob, context=keys.deployment_key_context(dep))
        for dep, blob in deployments.items()
    }
    opened: dict[str, bytes] = {}
    for template_id, subject_id, dep, scheme, sealed in rows:
        ad = template_ad(dep, subject_id, template_id, scheme)
        for row_id, wrapped in stored.items():
            owner = row_id.removesuffix(STAGED_SUFFIX)
            try:
                data_key = keys.unwrap_key(
                    dep_keys[dep], wrapped, context=keys.data_key_context(dep, owner)
                )
                opened[template_id] = aead.open_sealed(data_key, sealed, ad=ad)
            except InvalidTemplate:
                continue
    return opened


def test_erasure_shreds_what_a_backup_holds(
    sqlite_gate: Gate, tmp_path: Path, photo: Photo
) -> None:
    gate = sqlite_gate
    home = gate.settings.home
    dep = live(gate, name="Lobby").id
    consent(gate, dep, "alice")
    consent(gate, dep, "bob")
    alice = gate.enroll(dep, "alice", photo("fixtures/obama.jpg")).template_id
    bob = gate.enroll(dep, "bob", photo("fixtures/biden.jpg")).template_id
    master = MasterKey.from_file(home / "master.key")

    backup = tmp_path / "facegate-before-erasure.db"
    copy_sqlite(home / "facegate.db", backup)
    with sqlite3.connect(home / "keys.db") as ks:
        wrapped_before = {w for (w,) in ks.execute("SELECT wrapped FROM data_keys")}

    # The attack works before the erasure: the procedure is not vacuous.
    before = open_templates(backup, home / "keys.db", master)
    assert set(before) == {alice, bob}

    receipt = gate.erase(dep, "alice")
    assert receipt.key_destroyed and receipt.templates_erased == 1

    # The same attack, with the pre-erasure copy, the master key and the key store as they
    # are now: Bob's template still opens, Alice's opens with no key that remains.
    after = open_templates(backup, home / "keys.db", master)
    assert set(after) == {bob}
    assert after[bob] == before[bob]
    # ... and her wrapped key is gone from the key store file itself, not just unlinked
    # from an index (secure_delete, rollback journal): no byte sequence of it remains.
    raw = (home / "keys.db").read_bytes()
    with sqlite3.connect(home / "keys.db") as ks:
        remaining = {w for (w,) in ks.execute("SELECT wrapped FROM data_keys")}
    assert len(wrapped_before - remaining) == 1
    for gone in wrapped_before - remaining:
        assert gone not in raw
    assert not (home / "keys.db-wal").exists()
    assert gate.key_status().orphan_data_keys == 0


def test_template_decryption_errors_are_opaque(sqlite_gate: Gate, photo: Photo) -> None:
    gate = sqlite_gate
    dep = live(gate, name="Lobby").id
    consent(gate, dep, "alice")
    tid = gate.enroll(dep, "alice", photo("fixtures/obama.jpg")).template_id
    with gate.db.read() as s:
        row = s.get(t.Template, tid)
        assert row is not None
        sealed, subject_id = row.sealed, row.subject_id
        deployment = s.get(t.Deployment, dep)
        assert deployment is not None
    keyring = gate.core.keyring
    protector = keyring.protector(deployment)
    data_key = keyring.data_key(deployment, subject_id)
    errors = []
    for attempt in (
        lambda: protector.open(
            sealed, subject_id=subject_id, template_id="tpl_x", data_key=data_key
        ),
        lambda: protector.open(
            sealed[:-1] + bytes([sealed[-1] ^ 1]),
            subject_id=subject_id,
            template_id=tid,
            data_key=data_key,
        ),
        lambda: protector.open(sealed, subject_id=subject_id, template_id=tid, data_key=bytes(32)),
        lambda: protector.open(
            sealed[:10], subject_id=subject_id, template_id=tid, data_key=data_key
        ),
    ):
        with pytest.raises(InvalidTemplate) as caught:
            attempt()
        errors.append((type(caught.value), str(caught.value)))
    assert len(set(errors)) == 1  # one error, one message, whatever went wrong


def test_erasure_shreds_a_copy_of_the_rows_on_both_databases(gate: Gate, photo: Photo) -> None:
    """The same attack where the database is PostgreSQL (keys in their own schema): rows
    copied before the erasure (what a dump holds) open no template of the erased person."""
    dep = live(gate, name="Lobby").id
    consent(gate, dep, "alice")
    consent(gate, dep, "bob")
    alice = gate.enroll(dep, "alice", photo("fixtures/obama.jpg")).template_id
    bob = gate.enroll(dep, "bob", photo("fixtures/biden.jpg")).template_id
    master = MasterKey.from_file(gate.settings.home / "master.key")
    with gate.db.read() as s:  # the dump taken before the erasure
        deployments = {d.id: d.wrapped_key for d in s.scalars(select(t.Deployment))}
        rows = [
            (r.id, r.subject_id, r.deployment_id, r.scheme, r.sealed)
            for r in s.scalars(select(t.Template))
        ]

    def attack() -> set[str]:
        with gate.core.keyring._require_keystore_db().read() as ks:
            stored = {
                sid: w for sid, w in ks.execute(select(t.DataKey.subject_id, t.DataKey.wrapped))
            }
        dep_keys = {
            d: keys.unwrap_key(master.key, blob, context=keys.deployment_key_context(d))
            for d, blob in deployments.items()
        }
        opened = set()
        for template_id, subject_id, d, scheme, sealed in rows:
            for owner, wrapped in stored.items():
                try:
                    data_key = keys.unwrap_key(
                        dep_keys[d], wrapped, context=keys.data_key_context(d, owner)
                    )
                    aead.open_sealed(
                        data_key, sealed, ad=template_ad(d, subject_id, template_id, scheme)
                    )
                    opened.add(template_id)
                except InvalidTemplate:
                    continue
        return opened

    assert attack() == {alice, bob}  # the attack works before: the test is not vacuous
    assert gate.erase(dep, "alice").key_destroyed
    assert attack() == {bob}
