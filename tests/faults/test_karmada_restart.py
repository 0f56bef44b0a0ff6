"""Fault test 6: Karmada restarts empty (its etcd lost) while jobs run; every job reaches
Failed/WorkloadMissing within the grace period plus 5 s."""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator
from ml_platform.config import Settings
from ml_platform.db.base import utcnow
from tests_support import AppFactory, app_client

from .conftest import FAULT_TIMINGS
from .support import (
    FAULT_CLUSTERS,
    Scale,
    create,
    eventually,
    fault_settings,
    figure,
    retrying,
    statuses,
)


def _simulator(port: int = 0) -> SimulatorServer:
    sim = Simulator([ClusterSpec.parse(c) for c in FAULT_CLUSTERS], timings=FAULT_TIMINGS)
    return SimulatorServer(sim, port=port).start()


async def test_jobs_fail_as_missing_after_karmada_restarts_empty(
    settings: Settings, app_factory: AppFactory, tmp_path: Path, scale: Scale, backend: str
) -> None:
    count = scale.pick(10, 50)
    grace = scale.pick(3, 10)
    first = _simulator()
    port = first.port
    kubeconfig = first.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    live = fault_settings(settings, kubeconfig, workload_missing_grace_seconds=grace)
    second: SimulatorServer | None = None
    try:
        async with app_factory(live) as app, app_client(app) as client:
            created = await asyncio.gather(
                *(retrying(create(client, f"gone{n}")) for n in range(count))
            )
            job_ids = [response.json()["id"] for response, _, _ in created]

            async def all_running() -> bool:
                return set((await statuses(client, job_ids)).values()) == {"Running"}

            await eventually(all_running, within=60)
            await asyncio.to_thread(first.stop)
            second = await asyncio.to_thread(_simulator, port)  # same address, nothing stored
            restarted = utcnow()

            async def all_missing() -> bool:
                listed = await client.get("/api/v1/jobs", params={"limit": 1000})
                jobs = {job["id"]: job for job in listed.json()}
                missing = ("Failed", "WorkloadMissing")
                return all((jobs[j]["status"], jobs[j]["reason"]) == missing for j in job_ids)

            await eventually(all_missing, within=grace + 30, every=0.5)
            listed = (await client.get("/api/v1/jobs", params={"limit": 1000})).json()
            # When each job was marked Failed, by the service's own clock.
            failed_at = max(
                datetime.fromisoformat(job["completedAt"]) for job in listed if job["id"] in job_ids
            )
            seconds = (failed_at - restarted).total_seconds()
            figure(
                "6-karmada-restarted-empty",
                backend=backend,
                jobs=count,
                grace_s=grace,
                last_failed_after_s=round(seconds, 2),
                bound_s=grace + 5,
            )
            assert seconds <= grace + 5
    finally:
        first.stop()
        if second is not None:
            second.stop()
