"""Migrations: replicas migrating at once on Postgres, repeated runs on SQLite."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
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
