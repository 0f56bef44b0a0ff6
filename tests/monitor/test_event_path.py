"""The monitor's event path: between ticks, a change in a member cluster reaches the API through
the watch events alone; absence and time-driven work stay with the tick."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef

from .conftest import (
    ManualClock,
    build_monitor,
    cached_job_ids,
    get_job,
    load_job,
    members_finished,
    running_job,
    wait_for,
)

EVENT_WINDOW = 0.02  # the default: these tests run with the event path on


async def api_status(client: httpx.AsyncClient, job_id: str) -> str:
    status: str = (await get_job(client, job_id))["status"]
    return status


async def api_shows(client: httpx.AsyncClient, job_id: str, status: str) -> None:
    """Poll the API until the job has ``status``; fail after two seconds."""
    for _ in range(200):  # bounded: 200 x 10 ms
        if await api_status(client, job_id) == status:
            return
        await asyncio.sleep(0.01)
    assert await api_status(client, job_id) == status


async def test_a_finished_workload_reaches_the_api_without_a_tick(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    monitor = build_monitor(karmada_app, clock, event_window_seconds=EVENT_WINDOW)
    try:
        job_id = await running_job(karmada_client, monitor, simulator, ui_request)
        # The tick and the event path may both have written: the later one wins within a batch.
        await api_shows(karmada_client, job_id, "Running")
        ticks = monitor.runs
        members_finished(simulator)
        await api_shows(karmada_client, job_id, "Succeeded")
        assert monitor.runs == ticks  # no tick ran meanwhile
        assert monitor.event_batches > 0
        history = [
            (e["fromStatus"], e["toStatus"])
            for e in (await karmada_client.get(f"/api/v1/jobs/{job_id}/events")).json()
        ]
        assert history[-1] == ("Running", "Succeeded")
    finally:
        await monitor.stop()


async def test_the_event_path_leaves_a_vanished_workload_to_the_tick(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    monitor = build_monitor(
        karmada_app, clock, workload_missing_grace_seconds=1.0, event_window_seconds=EVENT_WINDOW
    )
    try:
        job_id = await running_job(karmada_client, monitor, simulator, ui_request)
        job = await load_job(karmada_app, job_id)
        workload = render_job(job, karmada_app.state.settings.workloads).workload
        gateway: KarmadaGateway = karmada_app.state.gateway
        clock.advance(10)  # any grace is long over, by the monitor's clock
        assert await gateway.delete(ObjectRef.of(workload))
        await wait_for(lambda: job_id not in cached_job_ids(monitor))
        await asyncio.sleep(0.2)  # several event windows
        assert await api_status(karmada_client, job_id) == "Running"
    finally:
        await monitor.stop()


async def test_with_no_event_window_only_ticks_write(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    monitor = build_monitor(karmada_app, clock, event_window_seconds=0.0)
    try:
        job_id = await running_job(karmada_client, monitor, simulator, ui_request)
        members_finished(simulator)
        await asyncio.sleep(0.3)
        assert await api_status(karmada_client, job_id) == "Running"
        await monitor.run_once()
        assert await api_status(karmada_client, job_id) == "Succeeded"
        assert monitor.event_batches == 0
    finally:
        await monitor.stop()
