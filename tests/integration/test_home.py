"""Issue 12 items 3, 9 and 10: only ``init`` makes a home; a missing or damaged key store,
master key or database stops the start loudly and is never replaced; the home is 0700 and
every file in it 0600; ``~`` is expanded and a failed ``init`` leaves nothing behind."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_runner import fg
from lawful import consent, live

from facegate.config import Settings
from facegate.errors import ConfigError
from facegate.gate import Gate
from facegate.recognition import FaceEngine
from facegate.storage import tables as t
from facegate.storage.db import make_engine
from facegate.storage.keystore import keystore_place


def _deployment(gate: Gate) -> str:
    return live(gate, name="Lobby").id


def _snapshot(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(home.iterdir()) if p.is_file()}


def test_open_refuses_a_home_that_does_not_exist(tmp_path: Path) -> None:
    home = tmp_path / "typo"
    with pytest.raises(ConfigError) as caught:
        Gate.open(home)
    assert "facegate init --home" in caught.value.advice
    assert not home.exists()
    home.mkdir()  # an empty folder is not an installation either
    with pytest.raises(ConfigError, match="holds no facegate installation"):
        Gate.open(home)
    assert list(home.iterdir()) == []


def _key_store_mover(settings: Settings) -> tuple[Callable[[], None], Callable[[], None]]:
    """Take the key store away and bring it back: ``keys.db`` on SQLite, the key schema
    (renamed) on PostgreSQL."""
    if settings.database_url is None:
        keys_db, aside = settings.home / "keys.db", settings.home.parent / "keys.db.bak"
        return lambda: keys_db.rename(aside), lambda: aside.rename(keys_db)
    schema = settings.keystore_schema

    def rename(old: str, new: str) -> None:
        engine = make_engine(settings.database_url or "")
        with engine.begin() as conn:
            conn.exec_driver_sql(f'ALTER SCHEMA "{old}" RENAME TO "{new}"')
        engine.dispose()

    return lambda: rename(schema, schema + "_bak"), lambda: rename(schema + "_bak", schema)


def test_a_missing_key_store_is_never_recreated(
    settings: Settings, face_engine: FaceEngine, photo: object
) -> None:
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = _deployment(gate)
        consent(gate, dep, "alice")
        gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))  # type: ignore[operator]
    place = keystore_place(settings.home, settings)
    move_aside, put_back = _key_store_mover(settings)
    move_aside()
    for create in (False, True):  # not even init may make an empty one in its place
        with pytest.raises(ConfigError, match=r"key store .* is missing") as caught:
            Gate.open(settings=settings, engine=face_engine, create=create)
        assert "backup" in caught.value.advice
        assert not place.exists()
    put_back()
    with Gate.open(settings=settings, engine=face_engine) as gate:  # restored: all there
        assert gate.verify(dep, "alice", photo("fixtures/obama2.jpg")).decision == "match"  # type: ignore[operator]


@pytest.mark.parametrize("damage", [b"", b"not a database at all" * 100])
def test_a_damaged_key_store_is_refused_untouched(tmp_path: Path, damage: bytes) -> None:
    home = tmp_path / "home"
    Gate.open(home, create=True).close()
    (home / "keys.db").write_bytes(damage)
    with pytest.raises(ConfigError, match=r"key store|damaged"):
        Gate.open(home)
    assert (home / "keys.db").read_bytes() == damage


def test_a_missing_or_damaged_master_key_is_never_replaced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Gate.open(home, create=True) as gate:
        _deployment(gate)
    key = home / "master.key"
    original = key.read_bytes()
    key.unlink()
    for create in (False, True):
        with pytest.raises(ConfigError, match=r"master key file .* is missing") as caught:
            Gate.open(home, create=create)
        assert "restore" in caught.value.advice
        assert not key.exists()
    key.write_bytes(b'{"kind": "facegate-master-key", "version": 1, "key_id": "x"')
    key.chmod(0o600)
    before = _snapshot(home)
    with pytest.raises(ConfigError, match="not a readable facegate master key"):
        Gate.open(home)
    assert _snapshot(home) == before
    key.unlink()
    key.write_bytes(original)
    key.chmod(0o600)
    Gate.open(home).close()


def test_a_damaged_database_is_a_config_error_in_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    fg(home, "init")
    (home / "facegate.db").write_bytes(b"\x00garbage" * 512)
    proc = fg(home, "deployment", "list", "--json", ok=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout
    body = json.loads(proc.stdout)
    assert body["error"] == "config_error" and "damaged" in body["message"]


def test_cli_verbs_refuse_a_missing_home_and_init_makes_it(tmp_path: Path) -> None:
    home = tmp_path / "mistyped"
    proc = fg(home, "deployment", "list", ok=False)
    assert proc.returncode == 1 and "facegate init --home" in proc.stderr
    assert not home.exists()
    assert json.loads(fg(home, "init", "--json").stdout)["ledger_entries"] >= 1
    assert json.loads(fg(home, "deployment", "list", "--json").stdout) == []
    fg(home, "init")  # a second init opens what is there and replaces nothing
    assert json.loads(fg(home, "deployment", "list", "--json").stdout) == []


def test_the_database_without_its_key_store_is_refused_even_by_init(tmp_path: Path) -> None:
    home = tmp_path / "home"
    Gate.open(home, create=True).close()
    (home / "facegate.db").unlink()
    with pytest.raises(ConfigError, match=r"database .* holds no facegate installation"):
        Gate.open(home, create=True)
    assert not (home / "facegate.db").exists()


def test_a_ledger_without_its_signing_key_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Gate.open(home, create=True) as gate, gate.db.transaction() as s:
        s.delete(s.get(t.Meta, "ledger_signing_key"))
    with pytest.raises(ConfigError, match="signing key is missing"):
        Gate.open(home)


def test_tilde_is_expanded_and_a_failed_init_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with Gate.open("~/.facegate", create=True) as gate:
        assert gate.settings.home == tmp_path / ".facegate"
    assert (tmp_path / ".facegate" / "keys.db").is_file() and not (tmp_path / "~").exists()
    broken = Settings(home=tmp_path / "new", database_url="postgresql://nobody@127.0.0.1:1/x")
    with pytest.raises(ConfigError, match="cannot use the database"):
        Gate.open(settings=broken, create=True)
    assert not (tmp_path / "new").exists()


def test_a_failed_init_in_an_existing_folder_removes_only_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "notes.txt").write_text("the operator's own file")

    def broken(_engine: object) -> None:
        raise ConfigError("the migration failed half-way")

    monkeypatch.setattr("facegate.gate.migrate", broken)
    with pytest.raises(ConfigError, match="half-way"):
        Gate.open(home, create=True)
    assert sorted(p.name for p in home.iterdir()) == ["notes.txt"]


def _modes(home: Path) -> dict[str, int]:
    found = {".": stat.S_IMODE(home.stat().st_mode)}
    for root, dirs, files in os.walk(home):
        for name in (*dirs, *files):
            path = Path(root) / name
            found[str(path.relative_to(home))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_home_and_files_are_private_from_creation(
    tmp_path: Path, face_engine: FaceEngine, photo: object
) -> None:
    os.umask(0o022)  # the usual umask, which made database files 0644 before
    settings = Settings(home=tmp_path / "home")
    with Gate.open(settings=settings, engine=face_engine, create=True) as gate:
        dep = _deployment(gate)
        consent(gate, dep, "alice")
        gate.enroll(dep, "alice", photo("fixtures/obama.jpg"))  # type: ignore[operator]
        modes = _modes(settings.home)  # while open: the WAL and shared-memory files exist
    assert {"facegate.db-wal", "facegate.db-shm", "keys.db", "master.key"} <= set(modes)
    assert modes.pop(".") == 0o700
    assert all(m == (0o700 if (settings.home / n).is_dir() else 0o600) for n, m in modes.items())


def test_start_tightens_database_files_and_refuses_a_readable_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "home"
    Gate.open(home, create=True).close()
    home.chmod(0o755)
    (home / "facegate.db").chmod(0o644)
    (home / "keys.db").chmod(0o640)
    with caplog.at_level(logging.WARNING, logger="facegate.home"):
        Gate.open(home).close()
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "facegate.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((home / "keys.db").stat().st_mode) == 0o600
    assert "facegate.db was mode 0644" in caplog.text
    (home / "master.key").chmod(0o644)
    with pytest.raises(ConfigError, match="can be read by other users") as caught:
        Gate.open(home)
    assert "chmod 600" in caught.value.advice
    assert stat.S_IMODE((home / "master.key").stat().st_mode) == 0o644  # left for a person
