"""Fault test 8: jobs with a created volume and two candidate clusters; the volume is always on
the cluster its workload runs on."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import httpx

from karmada_sim.scheduler import available_replicas
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

    def placed() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
        return (
            where(fault_simulator, "/apis/ray.io/v1/rayjobs"),
            where(fault_simulator, "/api/v1/persistentvolumeclaims"),
        )

    async def create_and_place(first: int, last: int) -> list[str]:
        created = await bounded(
            [create(live_client, f"vol{n}") for n in range(first, last)], at_once=50
        )
        job_ids = [response.json()["id"] for response, _, _ in created]

        async def all_placed() -> bool:
            workloads, claims = await asyncio.to_thread(placed)
            return all(j in workloads and f"{j}-results" in claims for j in job_ids)

        await eventually(all_placed, within=120, every=0.5)
        return job_ids

    # Karmada's scheduler sends a burst to the cluster with the most free pods, so the jobs come
    # in two waves: the second once the first wave's pods count against its cluster. Both
    # candidates then hold workloads, and a claim scheduled apart from its workload would show.
    job_ids = await create_and_place(0, count // 2)
    await eventually(lambda: asyncio.to_thread(free_pods_differ, fault_simulator), within=60)
    job_ids += await create_and_place(count // 2, count)

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


def free_pods_differ(simulator: SimulatorServer) -> bool:
    """Whether Karmada's clusters report different numbers of free pods."""
    clusters = items(simulator, "/apis/cluster.karmada.io/v1alpha1/clusters")
    return len({available_replicas(c) for c in clusters}) > 1
