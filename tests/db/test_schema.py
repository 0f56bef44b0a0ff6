"""The migrations produce exactly the schema the ORM models describe."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from ml_platform.config import DatabaseSettings
from ml_platform.db.base import Base
from ml_platform.db.engine import build_engine
from ml_platform.jobs import models  # noqa: F401  (registers the tables)

# Postgres-only search index, created by a migration on purpose and not modelled.
MIGRATION_ONLY_INDEXES = {"ix_training_job_lower_id_trgm"}


def _include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": _include}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_models(database_url: str) -> None:
    engine = build_engine(DatabaseSettings(url=database_url))
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert differences == []
