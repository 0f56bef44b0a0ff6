"""The ui-contract job end to end through the API and the simulator: placed on exactly one of
its target clusters, live status and logs, stop and delete leaving nothing behind."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_support import advance, items, leftovers, names, run_step_until_done
from ml_platform.jobs import submission

JOBS = "/api/v1/jobs"
RAYJOBS = "/apis/ray.io/v1/rayjobs"


async def create(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(JOBS, json=body)
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


async def live(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    response = await client.get(f"{JOBS}/{job_id}/status")
    assert response.status_code == 200, response.text
    status: dict[str, Any] = response.json()
    return status


async def test_ui_request_runs_on_exactly_one_target_cluster_then_delete_leaves_nothing(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    ui_request["targetClusters"] = ["member1", "member2"]
    job = await create(karmada_client, ui_request)
    assert job["status"] == "Submitted"
    assert job["message"] == f"submitted to Karmada as RayJob {job['id']}"
    assert names(simulator, RAYJOBS) == [job["id"]]

    advance(simulator, 40)
    placed = {c: names(simulator, RAYJOBS, cluster=c) for c in ("member1", "member2")}
    assert sorted(placed.values()) == [[], [job["id"]]], placed
    (cluster,) = [c for c, found in placed.items() if found]
    running = await live(karmada_client, job["id"])
    assert running["phase"] == "Running"
    assert running["clusterDistribution"] == {cluster: 2}  # head + one worker

    advance(simulator, 120)
    done = await live(karmada_client, job["id"])
    assert done["phase"] == "Succeeded"
    assert done["succeeded"] == 1
    assert done["completionTime"] is not None
    assert list(done["clusterDistribution"]) == [cluster]
    logs = (await karmada_client.get(f"{JOBS}/{job['id']}/logs")).json()
    assert logs["source"] == "live"
    assert logs["cluster"] == cluster
    assert any("succeeded" in line for line in logs["logs"])
    assert logs["message"].rstrip("\n") == "\n".join(logs["logs"])

    deleted = await karmada_client.delete(f"{JOBS}/{job['id']}")
    assert deleted.status_code == 200, deleted.text
    # Karmada's finalizer holds the policy a moment; the monitor finishes the delete.
    assert deleted.json()["message"].startswith(f"job {job['id']} ")
    await run_step_until_done(karmada_app, job["id"], submission.finish_delete)
    assert (await karmada_client.get(f"{JOBS}/{job['id']}")).status_code == 404
    advance(simulator, 1)
    assert leftovers(simulator) == []


async def test_stop_removes_the_workload_and_keeps_record_and_results_volume(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job = await create(karmada_client, ui_request)
    advance(simulator, 40)
    stopped = await karmada_client.post(f"{JOBS}/{job['id']}/stop")
    assert stopped.status_code == 200, stopped.text
    # Karmada's finalizer holds the policy a moment; the monitor finishes the stop.
    await run_step_until_done(karmada_app, job["id"], submission.finish_stop)
    body = (await karmada_client.get(f"{JOBS}/{job['id']}")).json()
    assert (body["status"], body["reason"]) == ("Stopped", "StoppedByUser")
    advance(simulator, 1)
    assert leftovers(simulator, keep_volumes=True) == []
    # The results volume outlives the stop; the record is still there.
    assert names(simulator, "/api/v1/persistentvolumeclaims") == [f"{job['id']}-results"]
    status = await live(karmada_client, job["id"])
    assert status["phase"] == "Stopped"
    events = (await karmada_client.get(f"{JOBS}/{job['id']}/events")).json()
    assert [e["toStatus"] for e in events] == [
        "Pending",
        "Submitted",
        "Stopping",
        "Stopped",
    ]
    # Stopping again changes nothing; deleting removes the volume too.
    again = await karmada_client.post(f"{JOBS}/{job['id']}/stop")
    assert again.json()["status"] == "Stopped"
    assert (await karmada_client.delete(f"{JOBS}/{job['id']}")).status_code == 200
    await run_step_until_done(karmada_app, job["id"], submission.finish_delete)
    advance(simulator, 1)
    assert leftovers(simulator) == []


async def test_without_karmada_answering_status_falls_back_to_the_stored_row(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    job = await create(karmada_client, ui_request)
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    status = await live(karmada_client, job["id"])
    assert status["phase"] == "Submitted"
    assert "live status unavailable" in status["message"]
    assert "showing the stored status" in status["message"]


async def test_status_is_read_live_and_never_written(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job = await create(karmada_client, ui_request)
    advance(simulator, 40)
    assert (await live(karmada_client, job["id"]))["phase"] == "Running"
    stored = (await karmada_client.get(f"{JOBS}/{job['id']}")).json()
    assert stored["status"] == "Submitted"  # the monitor, not this route, writes the row
    bindings = items(simulator, "/apis/work.karmada.io/v1alpha2/resourcebindings")
    assert f"{job['id']}-rayjob" in {b["metadata"]["name"] for b in bindings}
