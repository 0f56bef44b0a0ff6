"""The monitor against the simulator over real HTTP and the real database: a job's life from
Pending to its end, as the API shows it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_support import store_pending_job
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.monitor.service import StatusMonitor

from .conftest import (
    ManualClock,
    create_job,
    events,
    get_job,
    load_job,
    members_finished,
    members_running,
    running_job,
    submit_failing,
)


async def test_a_job_goes_from_pending_to_succeeded(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job_id = await create_job(karmada_client, ui_request)

    await monitor.run_once()
    assert (await get_job(karmada_client, job_id))["status"] == "Submitted"

    members_running(simulator)
    await monitor.run_once()
    running = await get_job(karmada_client, job_id)
    assert running["status"] == "Running"
    status = (await karmada_client.get(f"/api/v1/jobs/{job_id}/status")).json()
    assert status["startTime"] is not None
    assert sum(status["clusterDistribution"].values()) > 0
    assert len(status["clusterDistribution"]) == 1  # runs exactly once, on one cluster
    assert running["clusters"] == list(status["clusterDistribution"])  # what the UI lists

    members_finished(simulator)
    await monitor.run_once()
    done = await get_job(karmada_client, job_id)
    assert done["status"] == "Succeeded"
    stored = await load_job(karmada_app, job_id)
    assert stored.started_at is not None
    assert stored.completed_at is not None
    assert stored.observed_at is not None
    assert done["observedAt"] is not None
    history = [(e["fromStatus"], e["toStatus"]) for e in await events(karmada_client, job_id)]
    assert history == [
        (None, "Pending"),
        ("Pending", "Submitted"),
        ("Submitted", "Running"),
        ("Running", "Succeeded"),
    ]
    last = (await events(karmada_client, job_id))[-1]
    assert last["cluster"] in ("member1", "member2")


async def test_an_unchanged_job_is_not_written_again(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job_id = await running_job(karmada_client, monitor, simulator, ui_request)
    assert monitor.last is not None
    assert monitor.last.sync is not None
    before = (await load_job(karmada_app, job_id)).updated_at

    await monitor.run_once()
    assert monitor.last.sync is not None
    assert monitor.last.sync.observed == 0  # nothing moved in Karmada: observe is skipped
    assert monitor.last.sync.changed == 0
    assert (await load_job(karmada_app, job_id)).updated_at == before


async def test_an_unchanged_running_job_has_its_observed_time_refreshed(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    job_id = await running_job(karmada_client, monitor, simulator, ui_request)
    first = await get_job(karmada_client, job_id)
    assert first["status"] == "Running"

    clock.advance(karmada_app.state.settings.monitor.observed_refresh_seconds + 1)
    await monitor.run_once()
    later = await get_job(karmada_client, job_id)
    assert later["observedAt"] > first["observedAt"]
    assert later["updatedAt"] == first["updatedAt"]  # not a change of the job itself


async def test_a_failing_workload_ends_failed_with_the_members_reason(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job_id = await store_pending_job(karmada_app, ui_request)
    await submit_failing(karmada_app, job_id)
    await monitor.run_once()
    members_running(simulator)
    await monitor.run_once()
    members_finished(simulator)
    await monitor.run_once()

    job = await get_job(karmada_client, job_id)
    assert job["status"] == "Failed"
    stored = await load_job(karmada_app, job_id)
    assert stored.reason == "AppFailed"
    assert stored.completed_at is not None
    assert (await events(karmada_client, job_id))[-1]["toStatus"] == "Failed"


async def test_a_cluster_going_not_ready_is_named_in_the_message(
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job_id = await running_job(karmada_client, monitor, simulator, ui_request)
    status = (await karmada_client.get(f"/api/v1/jobs/{job_id}/status")).json()
    (cluster,) = status["clusterDistribution"]

    simulator.set_cluster_ready(cluster, False)
    await monitor.run_once()
    job = await get_job(karmada_client, job_id)
    assert job["status"] == "Running"
    assert cluster in (job["message"] or "")
    assert "NotReady" in job["message"] or "not ready" in job["message"].lower()

    simulator.set_cluster_ready(cluster, True)
    await monitor.run_once()
    assert cluster not in ((await get_job(karmada_client, job_id))["message"] or "")


async def test_max_runtime_stops_the_job_and_removes_its_workload(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    # The workload carries the limit too; the simulator stays below it (40 of 100 s).
    ui_request["stoppingCondition"] = {"maxRuntimeSeconds": 100}
    job_id = await running_job(karmada_client, monitor, simulator, ui_request)
    assert (await get_job(karmada_client, job_id))["status"] == "Running"
    assert (await load_job(karmada_app, job_id)).started_at is not None

    clock.advance(101)
    await monitor.run_once()  # Running -> Stopping, and the workload and policy are deleted
    # Karmada's finalizer holds the policy until its detector released the claim; the
    # monitor's next attempts see everything gone: Stopping -> Stopped.
    async with asyncio.timeout(10):
        while (stored := await load_job(karmada_app, job_id)).status != "Stopped":
            await asyncio.sleep(0.05)
            clock.advance(60)
            await monitor.run_once()
    assert (stored.status, stored.reason) == ("Stopped", "MaxRuntimeExceeded")
    history = [(e["fromStatus"], e["toStatus"]) for e in await events(karmada_client, job_id)]
    assert history[-2:] == [("Running", "Stopping"), ("Stopping", "Stopped")]
    workload = render_job(stored, karmada_app.state.settings.workloads).workload
    gateway: KarmadaGateway = karmada_app.state.gateway
    assert await gateway.get(ObjectRef.of(workload)) is None
