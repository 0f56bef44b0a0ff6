"""The monitor after Karmada's state went back in time (an etcd restore, played by the
simulator's restore control): its watches end with 410, its caches list again, and every job
still reaches an honest end."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from ml_platform.monitor.service import StatusMonitor

from .conftest import (
    ManualClock,
    create_job,
    load_job,
    members_finished,
    running_job,
)


async def _tick_until_relisted(monitor: StatusMonitor, lists_before: int) -> None:
    """Tick until every watch cache listed again after the restore (bounded)."""
    for _ in range(200):
        await monitor.run_once()
        snapshots = monitor.snapshots
        assert snapshots is not None
        if sum(r.lists for r in snapshots.reflectors) > lists_before and all(
            r.connected for r in snapshots.reflectors
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the watch caches did not list again after the restore")


async def test_after_a_restore_jobs_are_neither_lost_nor_stuck(
    karmada_app: FastAPI,
    karmada_client: httpx.AsyncClient,
    monitor: StatusMonitor,
    simulator: SimulatorServer,
    clock: ManualClock,
    ui_request: dict[str, Any],
) -> None:
    kept = await running_job(karmada_client, monitor, simulator, ui_request)
    async with httpx.AsyncClient(base_url=simulator.url) as control:
        snapshot = (await control.post("/sim/v1/snapshots")).json()
        lost = await create_job(karmada_client, {**ui_request, "jobName": "after-snapshot"})
        await monitor.run_once()
        assert (await load_job(karmada_app, lost)).status == "Submitted"
        snapshots = monitor.snapshots
        assert snapshots is not None
        lists_before = sum(r.lists for r in snapshots.reflectors)
        # Karmada's etcd goes back to the snapshot: the second job's objects are gone.
        response = await control.post("/sim/v1/restore", json={"snapshot": snapshot["id"]})
        assert response.status_code == 200

    await _tick_until_relisted(monitor, lists_before)
    assert (await load_job(karmada_app, kept)).status == "Running"
    assert (await load_job(karmada_app, lost)).status == "Submitted"  # within the grace

    members_finished(simulator)
    clock.advance(31)
    for _ in range(3):
        await monitor.run_once()
    finished = await load_job(karmada_app, kept)
    assert finished.status == "Succeeded"
    vanished = await load_job(karmada_app, lost)
    assert (vanished.status, vanished.reason) == ("Failed", "WorkloadMissing")
