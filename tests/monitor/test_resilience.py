"""The monitor when things go wrong: workloads vanishing, Karmada down, injected API errors;
and its API calls per tick, which must not grow with the number of jobs."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from karmada_sim.server import SimulatorServer
from karmada_support import store_pending_job
from ml_platform.jobs.models import TrainingJob
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.monitor.service import StatusMonitor
from ml_platform.workloads.common import JOB_ID_LABEL
from ml_platform.workloads.kinds import WORKLOAD_APIS, WorkloadKind

from .conftest import (
    ManualClock,
    build_monitor,
    cached_job_ids,
    create_job,
    get_job,
    load_job,
    running_job,
    submit_failing,
    wait_for,
)


async def test_a_vanished_workload_fails_after_the_grace_period(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    job_id = await running_job(karmada_client, monitor, simulator, ui_request)
    job = await load_job(karmada_app, job_id)
    workload = render_job(job, karmada_app.state.settings.workloads).workload
    gateway: KarmadaGateway = karmada_app.state.gateway
    assert await gateway.delete(ObjectRef.of(workload))

    await monitor.run_once()
    assert (await get_job(karmada_client, job_id))["status"] == "Running"  # within the grace
    assert monitor.snapshots is not None
    await wait_for(lambda: job_id not in cached_job_ids(monitor))
    await monitor.run_once()  # the absence is noticed here at the latest

    clock.advance(31)
    await monitor.run_once()  # past the grace: queued for a consistent read
    assert (await get_job(karmada_client, job_id))["status"] == "Running"
    await monitor.run_once()  # the GET finds nothing: now it fails
    stored = await load_job(karmada_app, job_id)
    assert (stored.status, stored.reason) == ("Failed", "WorkloadMissing")
    assert stored.completed_at is not None


async def test_submission_is_retried_after_karmada_was_down(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    job_id = await store_pending_job(karmada_app, ui_request)
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    await monitor.run_once()
    stored = await load_job(karmada_app, job_id)
    assert stored.status == "Pending"
    assert stored.karmada_attempts == 1
    assert stored.last_error
    assert monitor.last is not None
    assert monitor.last.snapshot_error is not None  # no status sync on a partial picture

    simulator.clear_faults()
    await monitor.run_once()  # the backoff has not elapsed yet
    assert (await load_job(karmada_app, job_id)).status == "Pending"

    clock.advance(2)
    await monitor.run_once()
    stored = await load_job(karmada_app, job_id)
    assert stored.status == "Submitted"
    assert stored.last_error is None
    metrics = (await karmada_client.get("/metrics")).text
    assert "ml_platform_karmada_retries_total 1.0" in metrics
    assert "ml_platform_monitor_leader 1.0" in metrics


async def test_submission_gives_up_after_the_configured_attempts(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    app_settings = karmada_app.state.settings
    settings = app_settings.model_copy(
        update={"retries": app_settings.retries.model_copy(update={"max_attempts": 2})}
    )
    monitor = build_monitor(karmada_app, clock, settings=settings)
    try:
        job_id = await store_pending_job(karmada_app, ui_request)
        simulator.set_faults(error_rate=1.0, error_codes=(503,))
        await monitor.run_once()
        clock.advance(5)
        await monitor.run_once()
    finally:
        await monitor.stop()
    stored = await load_job(karmada_app, job_id)
    assert (stored.status, stored.reason) == ("Failed", "SubmissionFailed")
    # The injected 503, as the last error and in the message.
    assert stored.last_error is not None
    assert stored.last_error.endswith("the server is currently unable to handle the request")
    assert stored.message == f"gave up after 2 attempts: {stored.last_error}"
    metrics = (await karmada_client.get("/metrics")).text
    assert "ml_platform_submission_failures_total 1.0" in metrics


async def test_api_calls_per_tick_do_not_grow_with_the_number_of_jobs(
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    async def steady_tick_calls() -> int:
        await monitor.run_once()  # submits what is new
        simulator.reset_stats()
        await monitor.run_once()
        assert monitor.last is not None
        served = simulator.stats()["total"]
        assert served == monitor.last.api_calls  # the gateway counts what the server saw
        return monitor.last.api_calls

    for index in range(2):
        await create_job(karmada_client, {**ui_request, "jobName": f"few-{index}"})
    few = await steady_tick_calls()
    for index in range(40):
        await create_job(karmada_client, {**ui_request, "jobName": f"many-{index}"})
    many = await steady_tick_calls()
    # The watch caches answer the snapshot; the tick only asks for the current resourceVersion.
    assert few == many == 1


# Postgres only: a few hundred jobs through the simulator take most of a minute per backend.
async def test_five_percent_api_errors_still_bring_every_job_to_its_end(
    postgres_karmada_app: FastAPI,
    postgres_karmada_client: httpx.AsyncClient,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    jobs = 200
    request = {**ui_request, "resources": {**ui_request["resources"], "volumeSizeGB": 0}}
    ids = [
        await store_pending_job(postgres_karmada_app, {**request, "jobName": f"chaos-{index}"})
        for index in range(jobs)
    ]
    failing = ids[::2]
    for job_id in failing:
        await submit_failing(postgres_karmada_app, job_id)
    monitor = build_monitor(postgres_karmada_app, clock)
    simulator.set_faults(error_rate=0.05, error_codes=(500, 503, 429), seed=7)
    try:
        for _ in range(60):  # bounded: normally done in about ten ticks
            clock.advance(3)
            simulator.advance(25)
            await monitor.run_once()
            async with postgres_karmada_app.state.sessionmaker() as session:
                open_jobs = await session.scalar(
                    select(func.count())
                    .select_from(TrainingJob)
                    .where(TrainingJob.status.not_in(("Succeeded", "Failed")))
                )
            if open_jobs == 0:
                break
    finally:
        simulator.clear_faults()
        await monitor.stop()

    async with postgres_karmada_app.state.sessionmaker() as session:
        rows = (await session.execute(select(TrainingJob.id, TrainingJob.status))).all()
    statuses = dict(rows)
    assert {job_id: statuses[job_id] for job_id in failing} == dict.fromkeys(failing, "Failed")
    succeeding = [job_id for job_id in ids if job_id not in set(failing)]
    assert {job_id: statuses[job_id] for job_id in succeeding} == dict.fromkeys(
        succeeding, "Succeeded"
    )
    gateway: KarmadaGateway = postgres_karmada_app.state.gateway
    templates = await gateway.list_objects(WORKLOAD_APIS[WorkloadKind.RAY_JOB])
    per_job = Counter(item["metadata"]["labels"][JOB_ID_LABEL] for item in templates)
    assert set(per_job) == set(ids)
    assert max(per_job.values()) == 1  # no duplicate objects
