"""The regulator's home: its own directory, database, master key and signing keys.

::

    DIR/                 0700
      regulator.json     0600  name, database URL (None: SQLite here), defaults
      master.key         0600  wraps the two signing keys (or FACEGATE_REGULATOR_MASTER_KEY)
      regulator.db       0600  SQLite, unless a PostgreSQL URL is configured

The witness key (cosignature/v1, type 0x04) cosigns checkpoints; the authority key (note
signatures, type 0x01) signs orders and receipts, so that no order can ever pass for a
cosignature. Both live only wrapped by the master key in ``reg_meta``. Opening a home whose
master key or wrapped keys are missing is a loud :class:`ConfigError`: a witness that
silently made a new key would forget every checkpoint it vouched for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from facegate._internal.clock import Entropy, system_entropy
from facegate.errors import ConfigError, InvalidTemplate
from facegate.ledger.checkpoint import Cosigner, Signer
from facegate.regulator.tables import RegMeta
from facegate.storage.db import Database, make_engine
from facegate.templates.hazmat import keys
from facegate.templates.hazmat.master_key import MASTER_KEY_FILENAME, MasterKey

__all__ = ["RegulatorConfig", "RegulatorHome", "init_home", "open_home"]

CONFIG_FILE: Final = "regulator.json"
DB_FILE: Final = "regulator.db"
ENV_MASTER: Final = "FACEGATE_REGULATOR_MASTER_KEY"
ENV_PASSPHRASE: Final = "FACEGATE_REGULATOR_PASSPHRASE"
ENV_DATABASE: Final = "FACEGATE_REGULATOR_DATABASE_URL"
WITNESS_KEY: Final = "witness_key"
AUTHORITY_KEY: Final = "authority_key"
ADMIN_TOKEN: Final = "admin_token_sha256"
MIGRATIONS: Final = Path(__file__).parent / "migrations"
_FORMAT: Final = "facegate-regulator/v1"


@dataclass(frozen=True, slots=True)
class RegulatorConfig:
    name: str
    database_url: str | None = None
    #: the push interval agreed with an operator unless set at approval (seconds)
    push_interval_s: int = 300
    #: CN-FR-15 filing threshold (people), unless set per log at approval
    filing_threshold: int = 100_000

    def to_json(self) -> str:
        return json.dumps({"format": _FORMAT, **_fields(self)}, indent=2) + "\n"


def _fields(cfg: RegulatorConfig) -> dict[str, Any]:
    return {k: getattr(cfg, k) for k in RegulatorConfig.__slots__}


@dataclass(frozen=True, slots=True, eq=False)
class RegulatorHome:
    """An opened home: configuration, database and the two unwrapped signing keys."""

    path: Path
    config: RegulatorConfig
    db: Database
    witness: Cosigner
    authority: Signer
    admin_token_sha256: bytes

    def close(self) -> None:
        self.db.dispose()


@dataclass(frozen=True, slots=True)
class Created:
    home: Path
    witness_key: str
    authority_key: str
    admin_token: str


def migrate(engine: Engine) -> None:
    """Bring the regulator's database to the newest schema (its own Alembic chain)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _database_url(home: Path, configured: str | None) -> str:
    return os.environ.get(ENV_DATABASE) or configured or f"sqlite:///{home / DB_FILE}"


def init_home(
    home: Path,
    *,
    name: str,
    database_url: str | None = None,
    passphrase: str | None = None,
    entropy: Entropy = system_entropy,
) -> Created:
    """Create a regulator home: keys, database and an admin token (shown once)."""
    home = Path(home).expanduser()
    if (home / CONFIG_FILE).exists():
        raise ConfigError(
            f"{home} already holds a regulator",
            advice="Open it with 'facegate regulator serve'; never re-create a witness.",
        )
    try:
        witness = Cosigner.from_seed(name, entropy(32))
        authority = Signer.from_seed(f"{name}/authority", entropy(32))
    except ValueError as err:
        raise ConfigError(f"cannot use {name!r} as the regulator's name: {err}") from None
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    master = _master(home, create=True, passphrase=passphrase, entropy=entropy)
    url = _database_url(home, database_url)
    if url.startswith("sqlite") and not (home / DB_FILE).exists() and url.endswith(DB_FILE):
        _write_private(home / DB_FILE, b"")  # SQLite's WAL and SHM files copy this mode
    engine = make_engine(url)
    try:
        migrate(engine)
        db = Database(engine)
        token = base64.urlsafe_b64encode(entropy(32)).decode().rstrip("=")
        with db.transaction() as s:
            if s.get(RegMeta, WITNESS_KEY) is not None:
                raise ConfigError(
                    "this database already holds a regulator's keys",
                    advice="Point the new home at an empty database.",
                )
            for row, seed in (
                (WITNESS_KEY, witness.private_key.private_bytes_raw()),
                (AUTHORITY_KEY, authority.private_key.private_bytes_raw()),
            ):
                wrapped = keys.wrap_key(master.key, seed, context=row, entropy=entropy)
                s.add(RegMeta(key=row, value=wrapped))
            s.add(RegMeta(key=ADMIN_TOKEN, value=hashlib.sha256(token.encode()).digest()))
    finally:
        engine.dispose()
    config = RegulatorConfig(name=name, database_url=database_url)
    _write_private(home / CONFIG_FILE, config.to_json().encode())
    return Created(home, witness.verifier_key(), authority.verifier().verifier_key(), token)


def _master(
    home: Path, *, create: bool, passphrase: str | None = None, entropy: Entropy = system_entropy
) -> MasterKey:
    env = os.environ.get(ENV_MASTER)
    if env:
        return MasterKey.from_base64(env)
    path = home / MASTER_KEY_FILENAME
    passphrase = passphrase or os.environ.get(ENV_PASSPHRASE) or None
    if create:
        return MasterKey.create_file(path, passphrase=passphrase, entropy=entropy)
    if not path.exists():
        raise ConfigError(
            f"the regulator's master key is missing: no {path} and no {ENV_MASTER}",
            advice="Restore master.key from your backup. A new key cannot open the witness\n"
            "key, and a witness with a new key would forget every checkpoint it cosigned.",
        )
    return MasterKey.from_file(path, passphrase=passphrase)


def _read_config(home: Path) -> RegulatorConfig:
    path = home / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no regulator in {home}",
            advice="Create one with 'facegate regulator init --home DIR --name NAME'.",
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or data.pop("format", None) != _FORMAT:
        raise ConfigError(f"{path} is not a facegate regulator configuration")
    try:
        return RegulatorConfig(**data)
    except TypeError as exc:
        raise ConfigError(f"{path} has unknown or missing fields: {exc}") from None


def open_home(home: Path) -> RegulatorHome:
    """Open an existing home; loud :class:`ConfigError` if anything needed is missing."""
    home = Path(home).expanduser()
    config = _read_config(home)
    master = _master(home, create=False)
    url = _database_url(home, config.database_url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        raise ConfigError(
            f"the regulator database {url.removeprefix('sqlite:///')} is missing",
            advice="Restore it from backup; a witness must never restart from nothing.",
        )
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("reg_meta"):
            raise ConfigError(
                f"the regulator database of {home} is empty",
                advice="Restore it from backup; a witness must never restart from nothing.",
            )
        migrate(engine)
        db = Database(engine)
        with db.read() as s:
            rows = {k: s.get(RegMeta, k) for k in (WITNESS_KEY, AUTHORITY_KEY, ADMIN_TOKEN)}
        missing = [k for k, row in rows.items() if row is None]
        if missing:
            raise ConfigError(
                f"the regulator database lacks {', '.join(missing)}",
                advice="Restore the database from backup; keys are never silently regenerated.",
            )
        seeds = {k: _unwrap(master, rows[k], k) for k in (WITNESS_KEY, AUTHORITY_KEY)}
    except BaseException:
        engine.dispose()
        raise
    token = rows[ADMIN_TOKEN]
    assert token is not None  # checked above
    return RegulatorHome(
        path=home,
        config=config,
        db=db,
        witness=Cosigner.from_seed(config.name, seeds[WITNESS_KEY]),
        authority=Signer.from_seed(f"{config.name}/authority", seeds[AUTHORITY_KEY]),
        admin_token_sha256=token.value,
    )


def _unwrap(master: MasterKey, row: RegMeta | None, context: str) -> bytes:
    assert row is not None
    try:
        return keys.unwrap_key(master.key, row.value, context=context)
    except InvalidTemplate:
        raise ConfigError(
            f"the master key does not open the regulator's {context.replace('_', ' ')}",
            advice="This is not the master key the home was created with; restore the right one.",
        ) from None
