"""Alembic environment: runs on a connection handed in by ml_platform.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from ml_platform.db.base import Base
from ml_platform.jobs import models  # noqa: F401  (registers the tables on Base.metadata)

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `ml-platform migrate`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
