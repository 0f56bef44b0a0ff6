"""The monitor as the app runs it: started in the lifespan, ticking every second, shown in
/health and /metrics; a change in a member cluster reaches the API within two seconds."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from karmada_sim.server import SimulatorServer
from ml_platform.config import Settings
from ml_platform.jobs import repository
from ml_platform.monitor.service import StatusMonitor
from tests_support import AppFactory, app_client

from .conftest import create_job, get_job, members_finished, members_running


async def _wait_for_status(
    client: httpx.AsyncClient, job_id: str, status: str, *, within: float
) -> float:
    """Seconds until the API shows ``status``; fails after ``within`` seconds."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if (await get_job(client, job_id))["status"] == status:
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    raise AssertionError(f"{job_id} not {status} within {within} s")


async def test_the_running_monitor_shows_a_member_change_within_two_seconds(
    karmada_settings: Settings,
    app_factory: AppFactory,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    settings = karmada_settings.model_copy(
        update={"monitor": karmada_settings.monitor.model_copy(update={"enabled": True})}
    )
    async with app_factory(settings) as app:
        monitor = app.state.monitor
        assert isinstance(monitor, StatusMonitor)
        assert monitor.running
        async with app_client(app) as client:
            job_id = await create_job(client, ui_request)
            await _wait_for_status(client, job_id, "Submitted", within=3.0)

            members_running(simulator)
            lag = await _wait_for_status(client, job_id, "Running", within=2.0)
            assert lag < 2.0

            # Finishing hands the job to the driver-log capture wired in the app.
            members_finished(simulator)
            await _wait_for_status(client, job_id, "Succeeded", within=2.0)
            # The capture runs right after the tick commits the new status.
            stored = None
            for _ in range(40):
                async with app.state.sessionmaker() as session:
                    stored = await repository.get_job_log(session=session, job_id=job_id)
                if stored is not None:
                    break
                await asyncio.sleep(0.05)
            assert stored is not None
            assert "succeeded" in stored.content

            health = (await client.get("/health")).json()
            assert health["components"]["monitor"] == {"enabled": True, "leader": True}
            assert {"name": "monitor", "running": True} in health["components"][
                "backgroundServices"
            ]
            metrics = (await client.get("/metrics")).text
            assert "ml_platform_monitor_leader 1.0" in metrics
            assert "ml_platform_monitor_tick_seconds_count" in metrics
            assert "ml_platform_monitor_api_calls_bucket" in metrics
    assert not monitor.running
    assert not monitor.is_leader  # the lock was handed back at shutdown


async def test_no_monitor_without_karmada(settings: Settings, app_factory: AppFactory) -> None:
    async with app_factory(settings) as app:
        assert app.state.monitor is None
        async with app_client(app) as client:
            health = (await client.get("/health")).json()
    assert health["components"]["monitor"] == {"enabled": False, "leader": False}
