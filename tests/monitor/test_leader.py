"""Two app instances on one Postgres database: only the leader's monitor writes, and the other
takes over when the leader stops or loses its connection."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from karmada_sim.server import SimulatorServer
from karmada_support import store_pending_job
from ml_platform.config import Settings
from ml_platform.monitor.leader import MONITOR_LOCK_KEY
from ml_platform.monitor.service import StatusMonitor
from tests_support import AppFactory

from .conftest import (
    ManualClock,
    build_monitor,
    create_job,
    load_job,
    members_finished,
    running_job,
    wait_for,
)


@asynccontextmanager
async def two_replicas(
    app: FastAPI, settings: Settings, app_factory: AppFactory, clock: ManualClock
) -> AsyncIterator[tuple[FastAPI, StatusMonitor, StatusMonitor]]:
    """A second app instance on the same database and a monitor for each app: the second app,
    the first app's monitor (which has taken the lead) and the second app's."""
    async with app_factory(settings, clear_tables=False) as second_app:
        first = build_monitor(app, clock)
        second = build_monitor(second_app, clock)
        try:
            await first.run_once()
            assert first.is_leader
            yield second_app, first, second
        finally:
            await first.stop()
            await second.stop()


async def _status(app: FastAPI, job_id: str) -> str:
    return (await load_job(app, job_id)).status


async def test_only_the_leader_writes_and_the_other_takes_over_when_it_stops(
    postgres_karmada_app: FastAPI,
    postgres_karmada_client: httpx.AsyncClient,
    postgres_karmada_settings: Settings,
    app_factory: AppFactory,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    async with two_replicas(
        postgres_karmada_app, postgres_karmada_settings, app_factory, clock
    ) as (second_app, first, second):
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


async def test_a_leader_that_loses_its_connection_is_replaced(
    postgres_karmada_app: FastAPI,
    postgres_karmada_client: httpx.AsyncClient,
    postgres_karmada_settings: Settings,
    app_factory: AppFactory,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    async with two_replicas(
        postgres_karmada_app, postgres_karmada_settings, app_factory, clock
    ) as (second_app, first, second):
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


async def test_a_new_leader_starts_from_the_stored_keys_and_observes_only_what_moved(
    postgres_karmada_app: FastAPI,
    postgres_karmada_client: httpx.AsyncClient,
    postgres_karmada_settings: Settings,
    app_factory: AppFactory,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    async with two_replicas(
        postgres_karmada_app, postgres_karmada_settings, app_factory, clock
    ) as (second_app, first, second):
        steady = await running_job(postgres_karmada_client, first, simulator, ui_request)
        stored = await load_job(postgres_karmada_app, steady)
        assert stored.status == "Running"
        assert stored.observed_key is not None
        await second.run_once()  # standing by: its caches follow Karmada meanwhile
        assert second.snapshots is not None
        reflectors = second.snapshots.reflectors
        await wait_for(lambda: all(r.connected for r in reflectors))

        # The standby's caches lag what the leader read: they show the workload as it was.
        rayjobs = reflectors[0]
        key = (stored.namespace, stored.workload_name or "")
        current = rayjobs._items[key]
        rayjobs._items[key] = dataclasses.replace(
            current, resource_version="1", status_json=b"null"
        )

        await first.stop()
        await second.run_once()
        assert second.is_leader
        assert second.last is not None
        assert second.last.sync is not None
        assert second.last.sync.observed == 0  # unchanged since stored, or older: not observed
        assert second.last.sync.changed == 0
        assert (await load_job(second_app, steady)).version == stored.version

        rayjobs._items[key] = current
        members_finished(simulator)
        await wait_for(lambda: _cached_phase_moved(second, key, current.resource_version))
        await second.run_once()
        assert await _status(second_app, steady) == "Succeeded"


def _cached_phase_moved(monitor: StatusMonitor, key: tuple[str, str], version: str) -> bool:
    assert monitor.snapshots is not None
    template = monitor.snapshots.reflectors[0].get(key)
    return template is not None and int(template.resource_version) > int(version)
