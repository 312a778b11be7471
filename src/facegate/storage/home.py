"""The home of an installation: only ``init`` makes one, and nothing else ever remakes a part.

An installation is three things: the main database (``facegate.db`` in the home, or the
PostgreSQL database of ``FACEGATE_DATABASE_URL``), the key store (``keys.db``) and the master
key (``master.key``, or ``FACEGATE_MASTER_KEY``). Opening one never creates any of them,
because a part made anew is not a repair: an empty key store reads as "everyone was erased"
and a new master key opens nothing. A missing or damaged part is a :class:`ConfigError`
saying what to restore; a home that does not exist is one saying to run ``facegate init``
(so a mistyped ``--home`` makes nothing).

Every file in the home is created 0600 and the home 0700. At start the modes are checked:
key files that others could read are refused (the key may already have been copied, so
whether to rotate is a person's decision); any other file or folder that others could read
(the databases and the model cache, which facegate versions before 0.2 created 0644) is
tightened, with a warning, because it holds only wrapped or sealed data and refusing would
stop every upgraded installation.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from facegate.errors import ConfigError

__all__ = [
    "DATABASE_FILE",
    "FILE_MODE",
    "HOME_MODE",
    "KEYSTORE_FILE",
    "create_private_file",
    "prepare",
    "secure_tree",
    "sqlite_path",
    "undo_on_failure",
    "write_atomically",
]

DATABASE_FILE: Final = "facegate.db"
KEYSTORE_FILE: Final = "keys.db"
HOME_MODE: Final = 0o700
FILE_MODE: Final = 0o600
#: files SQLite keeps beside a database (they get the database file's mode)
_SQLITE_SIDE: Final = ("-wal", "-shm", "-journal")
_MASTER_KEY_PREFIX: Final = "master.key"

log = logging.getLogger("facegate.home")


def init_advice(home: Path) -> str:
    return (
        f"If this is a new installation, create it with:\n  facegate init --home {home}\n"
        "(in Python: Gate.open(home, create=True)). Otherwise check --home and FACEGATE_HOME "
        "for a typo."
    )


def prepare(home: Path, database_url: str, *, create: bool, keystore: Any = None) -> bool:
    """Check ``home`` before anything in it is opened; make it when ``create`` allows.

    Returns True when no part of an installation exists yet and ``create`` was asked, i.e.
    the caller may make the key store, the master key and the database; False when every
    part must already be there (the key ring then refuses a missing one). ``keystore`` is a
    :class:`~facegate.storage.keystore.KeyStorePlace` (default: ``keys.db`` in the home).
    """
    if not home.is_dir():
        if home.exists():
            raise ConfigError(f"the facegate home {home} is not a directory")
        if not create:
            raise ConfigError(f"there is no facegate home at {home}", advice=init_advice(home))
        home.mkdir(parents=True, mode=HOME_MODE)
    secure_tree(home)
    initialised = database_initialised(database_url)
    if keystore is None:
        from facegate.storage.keystore import KeyStorePlace

        keystore = KeyStorePlace(f"sqlite:///{home / KEYSTORE_FILE}")
    # a 0-byte key store is what an interrupted first init leaves; it holds no key
    has_keystore = keystore.exists()
    if not initialised and not has_keystore:
        if create:
            db_file = sqlite_path(database_url)
            if db_file is not None and not db_file.exists():
                create_private_file(db_file)  # SQLite gives its WAL and SHM the same mode
            return True
        raise ConfigError(f"{home} holds no facegate installation", advice=init_advice(home))
    if not initialised:
        raise ConfigError(
            f"the key store {keystore.describe()} exists but the database "
            f"{_shown(database_url)} holds no facegate installation",
            advice="The database was lost or FACEGATE_DATABASE_URL points elsewhere: restore "
            "the database from your backup, or correct the URL.\nTo start a new "
            "installation instead, use a new --home.",
        )
    return False


@contextlib.contextmanager
def undo_on_failure(home: Path) -> Iterator[None]:
    """Remove what the body made in ``home`` if it fails: a failed ``init`` leaves no
    half-made home. Only whole files it created go (a database with its journal files);
    nothing that was there before is touched, not even a journal beside an old database."""
    existed = home.exists()
    parts = [home / name for name in (DATABASE_FILE, KEYSTORE_FILE, _MASTER_KEY_PREFIX)]
    before = {p for p in parts if p.exists()} if existed else set()
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(home, ignore_errors=True)
        else:
            for part in parts:
                if part in before:
                    continue
                for path in (part, *(Path(f"{part}{side}") for side in _SQLITE_SIDE)):
                    with contextlib.suppress(OSError):
                        path.unlink()
        raise


def secure_tree(home: Path) -> None:
    """Check the modes in ``home`` (see the module docstring): key files others can read
    are refused; anything else is tightened to 0600/0700 with a warning."""
    for path in (home, *_walk(home)):
        st = path.lstat()
        if stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o077:
            continue
        mode = stat.S_IMODE(st.st_mode)
        if path.name.startswith(_MASTER_KEY_PREFIX) and stat.S_ISREG(st.st_mode):
            raise ConfigError(
                f"the key file {path} can be read by other users (mode {mode:04o})",
                advice=f"Anyone who could read it can open every template. Run:\n  chmod 600 "
                f"{path}\nand, if others may have copied it, rotate the master key "
                "(facegate keys rotate).",
            )
        wanted = HOME_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE
        try:
            os.chmod(path, wanted)
        except OSError as exc:
            raise ConfigError(
                f"{path} can be read by other users (mode {mode:04o}) and cannot be made "
                f"private: {exc.strerror}",
                advice=f"Run as the owner of the home, or:\n  chmod -R go-rwx {home}",
            ) from None
        log.warning("%s was mode %04o; made it %04o (owner only)", path, mode, wanted)


def _walk(home: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(home):  # does not follow symlinked folders
        base = Path(root)
        yield from (base / d for d in dirs)
        yield from (base / f for f in files)


def create_private_file(path: Path) -> None:
    """Create an empty file of mode 0600; an existing one is an error (never replaced)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, FILE_MODE)
    try:
        if hasattr(os, "fchmod"):  # a strange umask cannot widen it, but set it exactly
            os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def write_atomically(path: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``data`` whole or not at all (a temporary file, fsync, rename,
    fsync of the folder): a crash leaves the old file or the new one, never half of one."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), mode)
    try:
        if hasattr(os, "fchmod"):  # an existing temporary file keeps no wider mode
            os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL; None for other backends and in-memory ones."""
    if not url.startswith("sqlite"):
        return None
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def database_initialised(url: str) -> bool:
    """Whether the main database already holds a facegate installation (its migrations
    ran). A file that is not a database is a :class:`ConfigError`, not a traceback."""
    path = sqlite_path(url)
    if url.startswith("sqlite"):
        if path is None or not path.exists() or path.stat().st_size == 0:
            return False
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
                names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            raise damaged_database(str(path), exc) from None
        return "alembic_version" in names
    from facegate.storage.db import make_engine

    engine = make_engine(url)
    try:
        return inspect(engine).has_table("alembic_version")
    except SQLAlchemyError as exc:
        raise unreachable_database(url, exc) from None
    finally:
        engine.dispose()


def damaged_database(where: str, exc: BaseException) -> ConfigError:
    return ConfigError(
        f"the database {where} is damaged or is not a facegate database ({_first_line(exc)})",
        advice="Restore it from your backup. Do not delete it: facegate would not recreate "
        "what it held.",
    )


def unreachable_database(url: str, exc: BaseException) -> ConfigError:
    return ConfigError(
        f"cannot use the database {_shown(url)}: {_first_line(exc)}",
        advice="Check that the database server runs and FACEGATE_DATABASE_URL is right.",
    )


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _shown(url: str) -> str:
    """The URL without a password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
