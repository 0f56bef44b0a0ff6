"""The clusters API against the simulator: the cluster list, and allow-listed resource views of
one member, never secrets."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_support import advance

CLUSTERS = "/api/v1/proxy/clusters"
JOBS = "/api/v1/jobs"


async def test_cluster_list_has_location_readiness_and_capacity(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer
) -> None:
    simulator.set_cluster_ready("member2", False)
    response = await karmada_client.get(CLUSTERS)
    assert response.status_code == 200, response.text
    clusters = {c["name"]: c for c in response.json()["clusters"]}
    assert list(clusters) == ["member1", "member2"]
    member1 = clusters["member1"]
    assert (member1["ready"], member1["region"], member1["zone"]) == (True, "eu-west", "eu-west-1a")
    assert clusters["member2"]["ready"] is False
    assert set(member1["capacity"]) == {"cpu", "memory", "gpu", "pods"}
    assert member1["capacity"]["cpu"] is not None


async def test_resources_of_a_member_are_summarised(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 40)
    response = await karmada_client.get(
        f"{CLUSTERS}/member1/resources", params={"namespace": "default", "type": "rayjobs"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["cluster"], body["namespace"], body["type"], body["count"]) == (
        "member1",
        "default",
        "rayjobs",
        1,
    )
    (rayjob,) = body["resources"]
    assert set(rayjob) == {"name", "namespace", "kind", "status", "labels", "creationTimestamp"}
    assert (rayjob["name"], rayjob["kind"], rayjob["status"]) == (job["id"], "RayJob", "Running")
    assert rayjob["labels"]["ml-platform.io/job-id"] == job["id"]

    pods = (await karmada_client.get(f"{CLUSTERS}/member1/resources")).json()
    assert pods["type"] == "pods"
    assert pods["count"] == 3  # Ray head, worker and the submitter
    assert {p["status"] for p in pods["resources"]} == {"Running"}
    empty = (await karmada_client.get(f"{CLUSTERS}/member2/resources")).json()
    assert (empty["count"], empty["resources"]) == (0, [])


@pytest.mark.parametrize("type_", ["secrets", "nodes", "../secrets", "Pods"])
async def test_types_outside_the_allow_list_are_422(
    karmada_client: httpx.AsyncClient, type_: str
) -> None:
    response = await karmada_client.get(f"{CLUSTERS}/member1/resources", params={"type": type_})
    assert response.status_code == 422
    allowed = response.json()["details"]["allowed"]
    assert "pods" in allowed
    assert "secrets" not in allowed


async def test_unknown_cluster_is_404_and_karmada_down_is_503(
    karmada_client: httpx.AsyncClient, karmada_app: FastAPI, simulator: SimulatorServer
) -> None:
    missing = await karmada_client.get(f"{CLUSTERS}/mars/resources")
    assert missing.status_code == 404
    assert missing.json()["details"] == {"cluster": "mars", "known": ["member1", "member2"]}
    karmada_app.state.cluster_directory.forget()  # the list is cached for a few seconds
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    assert (await karmada_client.get(CLUSTERS)).status_code == 503
    down = await karmada_client.get(f"{CLUSTERS}/member1/resources")
    assert down.status_code == 503
    assert set(down.json()) == {"error", "details"}
