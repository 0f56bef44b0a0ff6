"""Runs the Alembic migrations shipped in the package, safely across concurrent replicas."""

from __future__ import annotations

from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

log = structlog.get_logger()

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Arbitrary but fixed key: every replica serialises its migration run on it.
MIGRATION_LOCK_KEY = 7_412_093_001


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config pointing at the packaged migrations."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    is_postgres = connection.dialect.name == "postgresql"
    if is_postgres:
        # Replicas starting together wait here; the later ones find the schema at head.
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
        connection.commit()
    try:
        command.upgrade(alembic_config(connection), "head")
        connection.commit()
    finally:
        if is_postgres:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
            connection.commit()


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision."""
    async with engine.connect() as connection:
        await connection.run_sync(_upgrade)
    log.info("db.migrated", backend=engine.dialect.name)
