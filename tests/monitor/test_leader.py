"""Two app instances on one Postgres database: only the leader's monitor writes, and the other
takes over when the leader stops or loses its connection."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from ml_platform.config import Settings
from ml_platform.jobs.models import TrainingJob
from ml_platform.monitor.leader import MONITOR_LOCK_KEY
from tests_support import AppFactory

from .conftest import ManualClock, build_monitor, create_job, store_pending_job


async def _status(app: FastAPI, job_id: str) -> str:
    async with app.state.sessionmaker() as session:
        job = await session.get(TrainingJob, job_id)
        assert job is not None
        return job.status


async def test_only_the_leader_writes_and_the_other_takes_over_when_it_stops(
    postgres_karmada_app: FastAPI,
    postgres_karmada_client: httpx.AsyncClient,
    postgres_karmada_settings: Settings,
    app_factory: AppFactory,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    async with app_factory(postgres_karmada_settings, clear_tables=False) as second_app:
        first = build_monitor(postgres_karmada_app, clock)
        second = build_monitor(second_app, clock)
        try:
            await first.run_once()
            assert first.is_leader
            job_id = await store_pending_job(postgres_karmada_app, ui_request)

            for _ in range(3):
                await second.run_once()
                assert second.last is not None
                assert not second.last.led
            assert await _status(postgres_karmada_app, job_id) == "Pending"
            health = (await postgres_karmada_client.get("/health")).json()
            assert health["components"]["monitor"]["enabled"] is False  # not wired in this app

            await first.stop()  # releases the lock
            assert not first.is_leader
            await second.run_once()
            assert second.is_leader
            assert await _status(second_app, job_id) == "Submitted"
        finally:
            await first.stop()
            await second.stop()


async def test_a_leader_that_loses_its_connection_is_replaced(
    postgres_karmada_app: FastAPI,
    postgres_karmada_client: httpx.AsyncClient,
    postgres_karmada_settings: Settings,
    app_factory: AppFactory,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    async with app_factory(postgres_karmada_settings, clear_tables=False) as second_app:
        first = build_monitor(postgres_karmada_app, clock)
        second = build_monitor(second_app, clock)
        try:
            await first.run_once()
            assert first.is_leader
            # The leader's database session dies (a crash or a network cut looks the same).
            async with postgres_karmada_app.state.engine.begin() as connection:
                killed = await connection.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                        "WHERE locktype = 'advisory' AND database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database()) AND "
                        "((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": MONITOR_LOCK_KEY},
                )
            assert killed == 1
            job_id = await create_job(postgres_karmada_client, ui_request)

            await second.run_once()
            assert second.is_leader
            assert await _status(second_app, job_id) == "Submitted"
            await first.run_once()
            assert not first.is_leader  # noticed, and the lock is taken
        finally:
            await first.stop()
            await second.stop()
