"""Fault test 8: jobs with a created volume and two candidate clusters; the volume is always on
the cluster its workload runs on."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import httpx

from karmada_sim.server import SimulatorServer
from karmada_support import MEMBERS, items

from .support import Scale, bounded, create, eventually, figure


def where(simulator: SimulatorServer, path: str) -> dict[str, set[str]]:
    """For each object name at ``path`` in the members: the clusters holding it."""
    found: dict[str, set[str]] = defaultdict(set)
    for cluster in MEMBERS:
        for obj in items(simulator, path, cluster=cluster):
            found[obj["metadata"]["name"]].add(cluster)
    return found


async def test_volume_lands_on_the_workloads_cluster(
    live_client: httpx.AsyncClient, fault_simulator: SimulatorServer, scale: Scale, backend: str
) -> None:
    count = scale.pick(30, 1000)
    created = await bounded([create(live_client, f"vol{n}") for n in range(count)], at_once=50)
    job_ids = [response.json()["id"] for response, _, _ in created]

    def placed() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        return (
            where(fault_simulator, "/apis/ray.io/v1/rayjobs"),
            where(fault_simulator, "/api/v1/persistentvolumeclaims"),
        )

    async def all_placed() -> bool:
        workloads, claims = await asyncio.to_thread(placed)
        return all(job_id in workloads and f"{job_id}-results" in claims for job_id in job_ids)

    await eventually(all_placed, within=120, every=0.5)
    workloads, claims = placed()
    apart = [
        job_id
        for job_id in job_ids
        if len(workloads[job_id]) != 1 or claims[f"{job_id}-results"] != workloads[job_id]
    ]
    on = {cluster: sum(1 for j in job_ids if workloads[j] == {cluster}) for cluster in MEMBERS}
    figure("8-volume-placement", backend=backend, jobs=count, per_cluster=on, apart=len(apart))
    assert apart == []
    assert all(on.values())  # both candidates were used, so the check means something
