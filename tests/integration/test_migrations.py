"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from facegate.config import Settings
from facegate.storage.db import make_engine, migrate
from facegate.storage.tables import Base


def test_migrations_match_the_tables(settings: Settings) -> None:
    engine = make_engine(settings.resolved_database_url())
    settings.home.mkdir(parents=True, exist_ok=True)
    migrate(engine)
    migrate(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
