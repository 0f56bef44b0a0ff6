"""The read pool that serves GET /jobs and GET /jobs/{id} on Postgres: reads come back right
after the database dropped every one of its connections (a restart does that), and a pool with
no connection to give answers 503 within its timeout, as the engine's pool does."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from ml_platform.config import Settings
from ml_platform.db.readpool import APPLICATION_NAME
from tests_support import AppFactory, app_client

JOBS = "/api/v1/jobs"


def _pool_settings(postgres_url: str, **database: Any) -> Settings:
    return Settings(
        allow_unauthenticated=True,
        policy={"namespaces": ["*"], "existing_claims": ["*"]},
        database={"url": postgres_url, **database},
    )


def _drop_read_connections(postgres_url: str) -> int:
    """Terminate the pool's server processes, as a database restart would; how many there were."""
    dsn = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = %s AND datname = current_database()",
            (APPLICATION_NAME,),
        ).fetchall()
    return len(rows)


async def test_reads_come_back_after_the_database_dropped_the_connections(
    postgres_url: str, app_factory: AppFactory, ui_request: dict[str, Any]
) -> None:
    settings = _pool_settings(postgres_url, read_pool_size=3)
    async with app_factory(settings) as app, app_client(app) as client:
        created = (await client.post(JOBS, json=ui_request)).json()
        # Open every connection of the pool: each request below must find them all dead.
        async with app.state.read_pool.connection(), app.state.read_pool.connection():
            pass
        assert (await client.get(JOBS)).status_code == 200
        assert _drop_read_connections(postgres_url) >= 2

        listed = await client.get(JOBS)
        assert listed.status_code == 200, listed.text
        assert [job["id"] for job in listed.json()] == [created["id"]]
        one = await client.get(f"{JOBS}/{created['id']}")
        assert one.status_code == 200, one.text
        assert one.json()["id"] == created["id"]


async def test_a_read_pool_with_no_connection_to_give_answers_503(
    postgres_url: str, app_factory: AppFactory
) -> None:
    settings = _pool_settings(postgres_url, read_pool_size=1, pool_timeout_seconds=0.5)
    async with app_factory(settings) as app, app_client(app) as client:
        async with app.state.read_pool.connection():
            started = time.perf_counter()
            response = await client.get(JOBS)
            elapsed = time.perf_counter() - started
        assert response.status_code == 503
        assert response.json()["error"] == "database unavailable"
        assert response.headers["retry-after"] == "1"
        assert 0.4 < elapsed < 1.5
        # Given back, the connection serves the next read.
        assert (await client.get(JOBS)).status_code == 200
