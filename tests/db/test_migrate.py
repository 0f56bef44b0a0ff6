"""Migrations: replicas migrating at once on Postgres, repeated runs on SQLite."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psycopg
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from ml_platform.config import DatabaseSettings
from ml_platform.db.engine import build_engine
from ml_platform.db.migrate import alembic_config, upgrade_to_head

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _tables_and_revision(engine: AsyncEngine) -> tuple[set[str], str]:
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        revision = (await connection.execute(text("SELECT version_num FROM alembic_version"))).one()
    return tables, revision[0]


async def test_concurrent_replicas_migrate_postgres_once() -> None:
    name = f"ml_platform_migrate_{os.getpid()}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    engines = [build_engine(DatabaseSettings(url=url)) for _ in range(3)]
    try:
        await asyncio.wait_for(asyncio.gather(*(upgrade_to_head(e) for e in engines)), 30)
        tables, revision = await _tables_and_revision(engines[0])
        assert {"training_job", "job_event", "alembic_version"} <= tables
        assert revision == HEAD
    finally:
        for engine in engines:
            await engine.dispose()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]


async def test_sqlite_upgrade_twice_is_a_no_op(tmp_path: Path) -> None:
    engine = build_engine(DatabaseSettings(url=f"sqlite:///{tmp_path / 'x.db'}"))
    try:
        await upgrade_to_head(engine)
        await upgrade_to_head(engine)
        tables, revision = await _tables_and_revision(engine)
        assert {"training_job", "job_event"} <= tables
        assert revision == HEAD
    finally:
        await engine.dispose()


async def test_the_only_trigram_index_is_on_lower_id(postgres_url: str) -> None:
    # The search matches lower(id). A trigram index on the bare id was once picked for the
    # monitor's `id = ANY(...)` lookups over the primary key: five seconds each.
    engine = build_engine(DatabaseSettings(url=postgres_url))
    try:
        async with engine.connect() as connection:
            definitions = (
                await connection.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE tablename = 'training_job'")
                )
            ).scalars()
            assert [d for d in definitions if "gin_trgm_ops" in d] == [
                "CREATE INDEX ix_training_job_lower_id_trgm ON public.training_job "
                "USING gin (lower((id)::text) gin_trgm_ops)"
            ]
    finally:
        await engine.dispose()


def _to(connection: Connection, revision: str, *, down: bool = False) -> None:
    step = command.downgrade if down else command.upgrade
    step(alembic_config(connection), revision)
    connection.commit()


async def _attempt_columns_keep_their_values(url: str) -> None:
    """0005 renames the retry columns; a job's count and due time survive both ways."""
    engine = build_engine(DatabaseSettings(url=url))
    row = (
        "INSERT INTO training_job (id, job_name, namespace, algorithm, priority, status, request,"
        " workload_kind, target_clusters, submit_attempts, next_attempt_at, created_at,"
        " updated_at) VALUES ('j-1', 'j', 'default', 'xgboost', 0, 'Stopping', '{}', 'RayJob',"
        " '[]', 3, '2026-11-30 10:00:00+00:00', '2026-11-30 09:00:00+00:00',"
        " '2026-11-30 09:00:00+00:00')"
    )
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_to, "0004_search_index_on_lower_id")
            await connection.execute(text(row))
            await connection.commit()
            await connection.run_sync(_to, "head")
            renamed = await connection.execute(
                text("SELECT karmada_attempts, next_karmada_attempt_at FROM training_job")
            )
            attempts, due = renamed.one()
            assert attempts == 3
            assert "2026-11-30" in str(due)
            await connection.run_sync(_to, "0004_search_index_on_lower_id", down=True)
            back = await connection.execute(text("SELECT submit_attempts FROM training_job"))
            assert back.scalar_one() == 3
    finally:
        await engine.dispose()


async def test_attempt_columns_keep_their_values_on_sqlite(tmp_path: Path) -> None:
    await _attempt_columns_keep_their_values(f"sqlite:///{tmp_path / 'x.db'}")


async def test_attempt_columns_keep_their_values_on_postgres() -> None:
    name = f"ml_platform_rename_{os.getpid()}"
    with psycopg.connect(ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
        admin.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    try:
        await _attempt_columns_keep_their_values(f"postgresql://postgres@127.0.0.1:5432/{name}")
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # type: ignore[arg-type]
