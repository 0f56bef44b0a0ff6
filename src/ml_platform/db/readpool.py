"""Postgres connections for the hottest reads (``GET /jobs``, ``GET /jobs/{id}``), outside
SQLAlchemy.

A read through an async SQLAlchemy session cost about ten times the CPU of the same query on
a bare psycopg connection (session, greenlet hops, statement building and caching, result
processing), and these reads are one statement each, so they use their own small pool of
autocommit connections (``database.read_pool_size``). SQLite has no such pool: its reads keep
the read session.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

import psycopg
import pydantic_core
from psycopg.types.json import set_json_loads
from psycopg_pool import AsyncConnectionPool
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_platform.config import DatabaseSettings

Params = Sequence[Any] | dict[str, Any]
# How the pool's connections show in pg_stat_activity.
APPLICATION_NAME = "ml-platform-reads"


async def _configure(connection: psycopg.AsyncConnection[Any]) -> None:
    # The engine's JSON decoder (db/engine.py): the same values as json.loads, faster.
    set_json_loads(pydantic_core.from_json, connection)


class ReadPool:
    """Autocommit connections that run one read statement each; timestamps come back in UTC."""

    def __init__(self, conninfo: str, settings: DatabaseSettings) -> None:
        self._pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            conninfo,
            min_size=1,
            max_size=settings.read_pool_size,
            open=False,
            configure=_configure,
            timeout=settings.pool_timeout_seconds,
            max_lifetime=settings.pool_recycle_seconds,
            kwargs={
                "autocommit": True,
                "connect_timeout": settings.connect_timeout_seconds,
                "options": "-c TimeZone=UTC",
                "application_name": APPLICATION_NAME,
            },
        )

    async def open(self) -> None:
        """Start connecting in the background (a database still down is not an error yet)."""
        await self._pool.open(wait=False)

    async def close(self) -> None:
        """Close every connection."""
        await self._pool.close()

    def connection(self) -> AbstractAsyncContextManager[psycopg.AsyncConnection[Any]]:
        """A connection of the pool for the ``async with`` block (waits up to the pool
        timeout, then raises ``psycopg_pool.PoolTimeout``)."""
        return self._pool.connection()

    async def fetch(self, query: str, params: Params) -> list[tuple[Any, ...]]:
        """The rows of one read statement."""
        async with self.connection() as connection:
            try:
                return await _rows(connection, query, params)
            except psycopg.OperationalError:
                if not connection.broken:
                    raise
        # The database dropped this connection (a restart, say), and most likely the idle
        # ones too: check those, then run the read (safe to repeat) once more.
        await self._pool.check()
        async with self.connection() as connection:
            return await _rows(connection, query, params)


async def _rows(
    connection: psycopg.AsyncConnection[Any], query: str, params: Params
) -> list[tuple[Any, ...]]:
    cursor = await connection.execute(query, params)
    return await cursor.fetchall()


def build_read_pool(engine: AsyncEngine, settings: DatabaseSettings) -> ReadPool | None:
    """The read pool for the engine's Postgres database; None for SQLite."""
    if engine.dialect.name != "postgresql":
        return None
    url = engine.url.set(drivername="postgresql")
    return ReadPool(url.render_as_string(hide_password=False), settings)
