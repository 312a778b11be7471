"""The Alembic migrations build exactly the schema the code declares, on both backends."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from facegate.config import Settings
from facegate.ledger.index_hasher import event_keys
from facegate.ledger.index_store import IndexState, IndexStore, read_state
from facegate.ledger.index_tree import IndexBuilder
from facegate.storage.db import MIGRATIONS, Database, make_engine, migrate
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


def _upgrade(engine: Engine, revision: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def test_an_index_from_before_snapshots_is_carried_over(settings: Settings) -> None:
    """Migration 0015 moves the index state into ``ledger_state``; the bucket table, which
    every append used to rewrite, then stands at that state, and the next append extends it
    to the root the reference builder gives."""
    engine = make_engine(settings.resolved_database_url())
    settings.home.mkdir(parents=True, exist_ok=True)
    _upgrade(engine, "0014")
    builder = IndexBuilder()
    for i in range(40):
        builder.add(i, bytes([i]) * 32, event_keys(f"{i % 9:032x}", f"dep{i % 2}"))
    tree = builder.tree()
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO ledger_index_state (id, size, root) VALUES (1, 40, :root)"),
            {"root": tree.root},
        )
        for bucket, records in builder.buckets().items():
            conn.execute(
                text(
                    "INSERT INTO ledger_index_buckets (bucket, records, hash) VALUES (:b, :r, :h)"
                ),
                {"b": bucket, "r": records, "h": tree.bucket_hash(bucket)},
            )
    migrate(engine)
    db = Database(engine)
    with db.transaction() as s:
        state = read_state(s)
        assert state == IndexState(40, tree.root)
        assert s.scalar(text("SELECT count(*) FROM ledger_index_state WHERE id = 1")) == 0
        keys = event_keys(f"{3:032x}", "dep1")
        after = IndexStore().update(s, 40, [(40, bytes(32), keys)], state)
    builder.add(40, bytes(32), keys)
    assert after == IndexState(41, builder.root())
    engine.dispose()
