"""A real Gate on a temporary home, on SQLite and on the PostgreSQL server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from facegate.config import Settings
from facegate.core import engine_for
from facegate.gate import Gate
from facegate.recognition import FaceEngine

PG_ADMIN = os.environ.get("FACEGATE_TEST_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
def face_engine(tmp_path_factory: pytest.TempPathFactory) -> FaceEngine:
    """The default engine (ONNX backend), shared by the tests to load models once."""
    return engine_for(Settings(home=tmp_path_factory.mktemp("engine")))


@pytest.fixture(scope="session")
def token(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh SoftHSM2 token for this test session (softhsm_support.py)."""
    from softhsm_support import make_token

    return make_token(tmp_path_factory.mktemp("softhsm"))


@pytest.fixture(scope="session")
def pg_server() -> str:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN} ({exc}); run scripts/ensure-services.sh"
        )
    return PG_ADMIN


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty database for one test, dropped afterwards."""
    name = f"facegate_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_server.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    url = None
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
    return Settings(home=tmp_path / "home", database_url=url)


@pytest.fixture
def gate(settings: Settings, face_engine: FaceEngine) -> Iterator[Gate]:
    with Gate.open(settings=settings, engine=face_engine, create=True) as g:
        yield g


@pytest.fixture
def sqlite_gate(tmp_path: Path, face_engine: FaceEngine) -> Iterator[Gate]:
    with Gate.open(settings=Settings(home=tmp_path / "home"), engine=face_engine, create=True) as g:
        yield g


@pytest.fixture(scope="session")
def photo(faces_dir: Path):  # type: ignore[no-untyped-def]
    def read(rel: str) -> bytes:
        return (faces_dir / rel).read_bytes()

    return read


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The ``postgres`` marker on every test that uses the PostgreSQL server (the postgres
    half of the parametrised fixtures, or ``pg_url`` itself), so that ``-m "not postgres"``
    runs the rest where no server is at hand."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        params = callspec.params if callspec is not None else {}
        if "pg_url" in getattr(item, "fixturenames", ()) or params.get("settings") == "postgres":
            item.add_marker(pytest.mark.postgres)
