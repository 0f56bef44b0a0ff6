"""Builds the async engine and session factory from the settings (called in the lifespan)."""

from __future__ import annotations

from typing import Any

import pydantic_core
from sqlalchemy import event
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from ml_platform.config import DatabaseSettings
from ml_platform.db.url import normalize_database_url


def _enable_sqlite_foreign_keys(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite ignores ON DELETE CASCADE unless foreign keys are switched on per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


# Decodes stored JSON (the job's request above all) several times faster than json.loads, to
# the same values (tests/db/test_engine.py); job reads spent most of their time there.
_JSON_DESERIALIZER = pydantic_core.from_json


def build_engine(settings: DatabaseSettings, *, url: URL | None = None) -> AsyncEngine:
    """An async engine for Postgres (pooled, bounded waits) or SQLite."""
    url = url if url is not None else normalize_database_url(settings.url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, poolclass=NullPool, json_deserializer=_JSON_DESERIALIZER)
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_async_engine(
        url,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_recycle=settings.pool_recycle_seconds,
        pool_pre_ping=True,
        pool_timeout=settings.pool_timeout_seconds,
        connect_args={"connect_timeout": settings.connect_timeout_seconds},
        json_deserializer=_JSON_DESERIALIZER,
    )


def build_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def build_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for reads of one statement, on the same pool in autocommit: one statement sees
    one snapshot anyway, and leaving out BEGIN and COMMIT halves the round trips of a read."""
    return build_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"))
