"""Alembic environment: run migrations on the connection facegate hands over."""

from __future__ import annotations

from alembic import context

from facegate.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - facegate always passes a connection
    raise RuntimeError("facegate migrations run through facegate.storage.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
