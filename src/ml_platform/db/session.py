"""Request-scoped database sessions: one that commits on success and rolls back on error, and
one for single-statement reads; and the connection of the job document reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ml_platform.db.engine import WRITE_OPTION
from ml_platform.db.readpool import ReadPool


async def begin_write(session: AsyncSession) -> None:
    """Start ``session``'s transaction as one that will change rows it reads.

    Call it before the first statement. On SQLite this takes the database's write lock at
    once (``BEGIN IMMEDIATE``), so what the transaction reads cannot change under it; on
    Postgres it changes nothing (row locks and the version compare-and-set do that job).
    """
    await session.connection(execution_options={WRITE_OPTION: True})


@asynccontextmanager
async def _request_session(request: Request, *, write: bool) -> AsyncIterator[AsyncSession]:
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            if write:
                await begin_write(session)
            yield session
        except BaseException:
            await session.rollback()
            raise
        else:
            await session.commit()


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Yield a session for one request; services never commit, this does."""
    async with _request_session(request, write=False) as session:
        yield session


async def get_write_session(request: Request) -> AsyncIterator[AsyncSession]:
    """Like ``get_session``, for a request that changes a job's state (``begin_write``)."""
    async with _request_session(request, write=True) as session:
        yield session


def read_session(request: Request) -> AsyncSession:
    """An autocommit session for reads of one statement each (``async with``)."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.read_sessionmaker
    return sessionmaker()


async def get_document_reader(request: Request) -> AsyncIterator[ReadPool | AsyncSession]:
    """The read pool (Postgres), else a read session (SQLite)."""
    pool: ReadPool | None = request.app.state.read_pool
    if pool is not None:
        yield pool
        return
    async with read_session(request) as session:
        yield session
