"""Fault tests 1, 2 and 7: stops racing creates, 5 % injected Karmada faults, and a burst of
concurrent creates and deletes, with the monitor running (Postgres and SQLite)."""

from __future__ import annotations

import asyncio
import time

import httpx

from karmada_sim.faults import Faults
from karmada_sim.server import SimulatorServer
from karmada_support import leftovers

from .support import (
    JOBS,
    Scale,
    bounded,
    create,
    delete,
    events,
    eventually,
    figure,
    job_request,
    percentile,
    retrying,
    statuses,
    stop,
)

# Clients of the 1,000-job runs: many jobs, but not all of them in one instant.
CLIENTS = 50
# After a stop nothing but Stopped (or a later delete) may follow.
AFTER_STOP = {"Stopped", "Deleting"}


def undone_stops(history: list[tuple[str | None, str]]) -> bool:
    """Whether a job's events show it leaving Stopping/Stopped for anything but Stopped."""
    return any(old in ("Stopping", "Stopped") and new not in AFTER_STOP for old, new in history)


async def test_stop_racing_create_is_never_undone(
    live_client: httpx.AsyncClient, fault_simulator: SimulatorServer, scale: Scale, backend: str
) -> None:
    pairs = scale.pick(10, 200)

    async def create_then_stop(number: int) -> tuple[str, int]:
        body = job_request(f"race{number}")
        created, _, _ = await retrying(lambda: live_client.post(JOBS, json=body))
        assert created.status_code == 201, created.text
        job_id = created.json()["id"]
        stopped, _, _ = await retrying(lambda: live_client.post(f"{JOBS}/{job_id}/stop"))
        assert stopped.json()["status"] in ("Stopping", "Stopped"), stopped.text
        return job_id, stopped.status_code

    results = await asyncio.gather(*(create_then_stop(n) for n in range(pairs)))
    job_ids = [job_id for job_id, _ in results]
    assert {code for _, code in results} == {200}

    async def all_stopped() -> bool:
        return set((await statuses(live_client, job_ids)).values()) == {"Stopped"}

    await eventually(all_stopped, within=60)
    await asyncio.sleep(1.0)  # a few more monitor ticks: a stale writer would strike now
    final = await statuses(live_client, job_ids)
    undone = [job_id for job_id in job_ids if final.get(job_id) != "Stopped"]
    undone += [job_id for job_id in job_ids if undone_stops(await events(live_client, job_id))]
    figure("1-stop-races", backend=backend, pairs=pairs, stops_undone=len(undone))
    assert undone == []
    assert leftovers(fault_simulator, keep_volumes=True) == []


async def test_injected_karmada_faults_submit_every_job_exactly_once(
    live_client: httpx.AsyncClient, fault_simulator: SimulatorServer, scale: Scale, backend: str
) -> None:
    count = scale.pick(10, 1000)
    api = fault_simulator.api
    api.stats.reset()
    api.faults = Faults(error_rate=0.05, drop_rate=0.05, seed=11)
    started = time.monotonic()
    created = await bounded(
        [create(live_client, f"faulty{n}") for n in range(count)], at_once=CLIENTS
    )
    assert {response.status_code for response, _, _ in created} == {201}
    job_ids = [response.json()["id"] for response, _, _ in created]

    async def all_submitted() -> bool:
        found = await statuses(live_client, job_ids)
        return set(found.values()) <= {"Submitted", "Running"}

    await eventually(all_submitted, within=120, every=0.5)
    twice = [
        job_id
        for job_id in job_ids
        if (await events(live_client, job_id)).count(("Pending", "Submitted")) != 1
    ]
    # Stop half of them, then delete every one, faults still on.
    stops = await bounded([stop(live_client, job_id) for job_id in job_ids[::2]], at_once=CLIENTS)
    assert {response.status_code for response, _, _ in stops} == {200}
    deletes = await bounded([delete(live_client, job_id) for job_id in job_ids], at_once=CLIENTS)
    assert {response.status_code for response, _, _ in deletes} == {200}

    async def all_gone() -> bool:
        return not await statuses(live_client, job_ids)

    await eventually(all_gone, within=120, every=0.5)
    api.faults = Faults()
    workload_creates = api.stats.by_request.get("create rayjobs.ray.io", 0)
    orphans = leftovers(fault_simulator)
    figure(
        "2-karmada-faults",
        backend=backend,
        jobs=count,
        injected_errors=api.stats.injected_errors,
        dropped_connections=api.stats.dropped_connections,
        submitted_twice=len(twice),
        workload_creates=workload_creates,
        orphans=len(orphans),
        seconds=round(time.monotonic() - started, 1),
    )
    assert twice == []
    assert workload_creates == count
    assert orphans == []


async def test_concurrent_creates_and_deletes_all_succeed(
    live_client: httpx.AsyncClient, fault_simulator: SimulatorServer, scale: Scale, backend: str
) -> None:
    count = scale.pick(20, 200)

    created = await asyncio.gather(
        *(retrying(create(live_client, f"burst{n}", key=f"burst-{n}")) for n in range(count))
    )
    assert {response.status_code for response, _, _ in created} == {201}
    job_ids = [response.json()["id"] for response, _, _ in created]

    deleted = await asyncio.gather(*(retrying(delete(live_client, job_id)) for job_id in job_ids))
    assert {response.status_code for response, _, _ in deleted} == {200}
    create_seconds = [seconds for _, seconds, _ in created]
    delete_seconds = [seconds for _, seconds, _ in deleted]
    figure(
        "7-concurrent-burst",
        backend=backend,
        creates=count,
        deletes=count,
        failures=0,
        retried_503=sum(r for _, _, r in created) + sum(r for _, _, r in deleted),
        create_p50_ms=round(percentile(create_seconds, 0.5) * 1000),
        create_p99_ms=round(percentile(create_seconds, 0.99) * 1000),
        delete_p50_ms=round(percentile(delete_seconds, 0.5) * 1000),
        delete_p99_ms=round(percentile(delete_seconds, 0.99) * 1000),
    )

    async def all_gone() -> bool:
        return not await statuses(live_client, job_ids)

    await eventually(all_gone, within=60)
    assert leftovers(fault_simulator) == []
