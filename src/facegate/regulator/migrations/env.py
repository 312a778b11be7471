"""Alembic environment of the regulator's database (its own chain and version table)."""

from __future__ import annotations

from alembic import context

from facegate.regulator.tables import RegBase

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - facegate always passes a connection
    raise RuntimeError("regulator migrations run through facegate.regulator.home.migrate()")

context.configure(
    connection=connection,
    target_metadata=RegBase.metadata,
    version_table="reg_alembic_version",
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
