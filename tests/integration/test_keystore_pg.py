"""Issue 15 item 2: with PostgreSQL the data keys live in the same server, in a schema of
their own (optionally behind their own credential), so that a second host opens templates;
a missing key store still stops the start loudly and is never made anew."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from lawful import consent, live

from facegate.config import Settings
from facegate.errors import ConfigError
from facegate.gate import Gate
from facegate.recognition import FaceEngine

Photo = Callable[[str], bytes]


def test_keys_live_in_their_schema_and_a_missing_one_is_refused(
    pg_url: str, tmp_path: Path, face_engine: FaceEngine, photo: Photo
) -> None:
    settings = Settings(home=tmp_path / "home", database_url=pg_url)
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = live(gate, location="office", alternative="staff badge").id
        consent(gate, dep, "obama")
        gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
        report = gate.self_check()
        assert report.ok and "kept apart" in report.measurements["keys_apart"], report.problems
    assert not (tmp_path / "home" / "keys.db").exists()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        count = conn.execute("SELECT count(*) FROM facegate_keys.data_keys").fetchone()
        assert count is not None and count[0] == 1
        conn.execute("ALTER TABLE facegate_keys.data_keys RENAME TO data_keys_bak")
    for create in (False, True):  # not even init may make an empty one in its place
        with pytest.raises(ConfigError, match=r"key store .* is missing") as caught:
            Gate.open(settings=settings, engine=face_engine, create=create)
        assert "backup" in caught.value.advice
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("ALTER TABLE facegate_keys.data_keys_bak RENAME TO data_keys")
    with Gate.open(settings=settings, engine=face_engine) as gate:  # restored: all there
        assert gate.verify(dep, "obama", photo("fixtures/obama2.jpg")).decision == "match"


def test_the_key_store_behind_its_own_credential(
    pg_url: str, tmp_path: Path, face_engine: FaceEngine, photo: Photo
) -> None:
    """FACEGATE_KEYSTORE_URL names a role that owns only the key schema; the main database's
    role is another."""
    role = f"fg_keys_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"CREATE SCHEMA vault AUTHORIZATION {role}")
    base, name = pg_url.rsplit("/", 1)
    keystore_url = base.replace("postgres@", f"{role}@") + "/" + name
    settings = Settings(
        home=tmp_path / "home",
        database_url=pg_url,
        keystore_url=keystore_url,
        keystore_schema="vault",
    )
    try:
        with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
            dep = live(gate, location="office", alternative="staff badge").id
            consent(gate, dep, "obama")
            gate.enroll(dep, "obama", photo("fixtures/obama.jpg"))
            with gate.core.keyring._require_keystore_db().engine.connect() as c:
                assert c.exec_driver_sql("SELECT current_user").scalar() == role
            assert gate.verify(dep, "obama", photo("fixtures/obama2.jpg")).decision == "match"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            owner = conn.execute(
                "SELECT tableowner FROM pg_tables WHERE schemaname = 'vault'"
            ).fetchone()
            assert owner == (role,)
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute("DROP SCHEMA IF EXISTS vault CASCADE")
            conn.execute(f"DROP OWNED BY {role}")
        with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")
