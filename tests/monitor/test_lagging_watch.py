"""The monitor against a Karmada whose watches trail its writes by two seconds, as a real
apiserver's watch cache may trail etcd (KEP-2340): a workload the caches have not seen yet is
never declared missing, a workload that is gone still fails, and a cache behind a newer read
never writes an older status over a newer one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from ml_platform.jobs.workload import render_job
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef
from ml_platform.monitor.service import StatusMonitor

from .conftest import (
    ManualClock,
    build_monitor,
    cached_job_ids,
    create_job,
    load_job,
    members_running,
    wait_for,
)

LAG_SECONDS = 2.0


pytestmark = pytest.mark.watch_lag(LAG_SECONDS)


EVENT_WINDOW = 0.02  # the default: these tests run with the event path on


async def started_monitor(app: FastAPI, clock: ManualClock) -> StatusMonitor:
    """A monitor past its first tick, its caches following their streams."""
    monitor = build_monitor(
        app,
        clock,
        workload_missing_grace_seconds=1.0,
        event_window_seconds=EVENT_WINDOW,
        wait_for_caches=False,
    )
    await monitor.run_once()
    assert monitor.snapshots is not None
    reflectors = monitor.snapshots.reflectors
    await wait_for(lambda: all(r.connected for r in reflectors), seconds=LAG_SECONDS * 5)
    return monitor


async def test_a_workload_the_caches_have_not_seen_yet_is_not_declared_missing(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    monitor = await started_monitor(karmada_app, clock)
    try:
        job_id = await create_job(karmada_client, ui_request)  # the API creates the workload
        await monitor.run_once()  # absent from the caches: noticed
        clock.advance(5)
        await monitor.run_once()  # past the grace: queued for a consistent read
        await monitor.run_once()  # the GET finds it: not missing
        # All of that happened before the watch delivered the workload.
        assert job_id not in cached_job_ids(monitor)
        stored = await load_job(karmada_app, job_id)
        assert (stored.status, stored.reason) == ("Submitted", "Submitted")

        await wait_for(lambda: job_id in cached_job_ids(monitor), seconds=LAG_SECONDS * 5)
        clock.advance(5)
        await monitor.run_once()
        assert (await load_job(karmada_app, job_id)).status == "Submitted"
    finally:
        await monitor.stop()


async def test_a_workload_that_is_gone_still_fails_with_lagging_caches(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    job_id = await create_job(karmada_client, ui_request)
    monitor = await started_monitor(karmada_app, clock)
    try:
        assert job_id in cached_job_ids(monitor)  # from the caches' LIST
        job = await load_job(karmada_app, job_id)
        workload = render_job(job, karmada_app.state.settings.workloads).workload
        gateway: KarmadaGateway = karmada_app.state.gateway
        assert await gateway.delete(ObjectRef.of(workload))
        await wait_for(lambda: job_id not in cached_job_ids(monitor), seconds=LAG_SECONDS * 5)
        for _ in range(3):  # noticed, queued past the grace, confirmed
            await monitor.run_once()
            clock.advance(2)
        stored = await load_job(karmada_app, job_id)
        assert (stored.status, stored.reason) == ("Failed", "WorkloadMissing")
    finally:
        await monitor.stop()


async def test_a_cache_behind_a_newer_read_never_writes_an_older_status(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    job_id = await create_job(karmada_client, ui_request)
    monitor = await started_monitor(karmada_app, clock)
    try:
        await monitor.run_once()
        before = await load_job(karmada_app, job_id)
        assert before.status == "Submitted"
        members_running(simulator)  # Karmada says Running now; the watches say so later

        # One tick where the caches do not follow their streams: it LISTs instead (newest).
        assert monitor.snapshots is not None
        reflectors = monitor.snapshots.reflectors
        for reflector in reflectors:
            reflector.connected = False
        await monitor.run_once()
        for reflector in reflectors:
            reflector.connected = True
        newer = await load_job(karmada_app, job_id)
        assert newer.status == "Running"
        assert newer.cluster_status is not None

        # The next tick reads the caches again: they still show the workload initializing.
        await monitor.run_once()
        # The caches are still behind what was written.
        lagging = {t.job_id: t for r in reflectors[:-1] for t in r.items()}[job_id]
        assert int(lagging.resource_version) < int(monitor.state.seen[job_id][0])
        after = await load_job(karmada_app, job_id)
        assert (after.status, after.reason, after.message, after.cluster_status) == (
            newer.status,
            newer.reason,
            newer.message,
            newer.cluster_status,
        )
        assert after.version == newer.version

        # Once the events arrive, the caches catch up and nothing goes back either.
        written = int(monitor.state.seen[job_id][0])
        await wait_for(lambda: _cached_version(monitor, job_id) >= written)
        await monitor.run_once()
        assert (await load_job(karmada_app, job_id)).cluster_status == newer.cluster_status
    finally:
        await monitor.stop()


def _cached_version(monitor: StatusMonitor, job_id: str) -> int:
    assert monitor.snapshots is not None
    for reflector in monitor.snapshots.reflectors[:-1]:
        for template in reflector.items():
            if template.job_id == job_id:
                return int(template.resource_version)
    return 0
