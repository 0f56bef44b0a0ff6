"""Builds the async engine and session factory from the settings (called in the lifespan)."""

from __future__ import annotations

from typing import Any

import pydantic_core
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from ml_platform.config import DatabaseSettings
from ml_platform.db.url import normalize_database_url

# Execution option of a connection whose transaction will write (see ``begin_write``).
WRITE_OPTION = "ml_platform_write"


def _configure_sqlite_connection(dbapi_connection: Any, connection_record: Any) -> None:
    # SQLite ignores ON DELETE CASCADE unless foreign keys are switched on per connection.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
    # The driver's own BEGIN comes only before the first write, so the reads of a
    # read-then-write transaction would not be isolated; ``_begin_sqlite`` emits it instead.
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection: Connection) -> None:
    # A writing transaction takes the write lock up front (IMMEDIATE): SQLite has no row
    # locks, so this is what makes its reads-then-writes serialized, like FOR UPDATE.
    options = connection.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return  # the read sessions' single statements run outside a transaction
    immediate = options.get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


# Decodes stored JSON (the job's request above all) several times faster than json.loads, to
# the same values (tests/db/test_engine.py); job reads spent most of their time there.
_JSON_DESERIALIZER = pydantic_core.from_json


def build_engine(settings: DatabaseSettings, *, url: URL | None = None) -> AsyncEngine:
    """An async engine for Postgres (pooled, bounded waits) or SQLite."""
    url = url if url is not None else normalize_database_url(settings.url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, poolclass=NullPool, json_deserializer=_JSON_DESERIALIZER)
        event.listen(engine.sync_engine, "connect", _configure_sqlite_connection)
        event.listen(engine.sync_engine, "begin", _begin_sqlite)
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
