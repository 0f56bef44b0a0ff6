"""Karmada failing while the API works: jobs wait instead of failing, nothing is created twice,
deletes finish once Karmada is back, and a permanent refusal fails the job with its reason."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_support import (
    KARMADA_PATHS,
    advance,
    create_object,
    items,
    leftovers,
    locked_job,
    names,
    names_once_settled,
    run_step,
    run_step_until_done,
)
from ml_platform.jobs import repository, submission

JOBS = "/api/v1/jobs"
RAYJOBS = "/apis/ray.io/v1/rayjobs"
POLICIES = "/apis/policy.karmada.io/v1alpha1/namespaces/default/propagationpolicies"


def _karmada_objects(simulator: SimulatorServer) -> list[str]:
    return [name for path in KARMADA_PATHS for name in names(simulator, path)]


async def test_karmada_down_during_create_keeps_the_job_pending_then_submit_works(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    response = await karmada_client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    job = response.json()
    assert job["status"] == "Pending"
    assert job["message"].startswith("waiting to submit (attempt 1): create PropagationPolicy")
    simulator.clear_faults()
    assert _karmada_objects(simulator) == []

    await run_step(karmada_app, job["id"], submission.submit)
    stored = (await karmada_client.get(f"{JOBS}/{job['id']}")).json()
    assert stored["status"] == "Submitted"
    assert names(simulator, RAYJOBS) == [job["id"]]


async def test_duplicate_submit_creates_nothing_twice(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    headers = {"Idempotency-Key": "dup-1"}
    first = await karmada_client.post(JOBS, json=ui_request, headers=headers)
    again = await karmada_client.post(JOBS, json=ui_request, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    job_id = first.json()["id"]
    before = _karmada_objects(simulator)
    uids = {o["metadata"]["uid"] for o in _all(simulator)}

    # A retry of the whole submission (as after a crash before the row said Submitted).
    async with locked_job(karmada_app, job_id) as (_, row):
        row.status = "Pending"
    await run_step(karmada_app, job_id, submission.submit)
    assert (await karmada_client.get(f"{JOBS}/{job_id}")).json()["status"] == "Submitted"
    assert _karmada_objects(simulator) == before
    assert {o["metadata"]["uid"] for o in _all(simulator)} == uids
    assert simulator.stats()["byRequest"].get("create rayjobs.ray.io") == 2  # 1 + 1 replayed


def _all(simulator: SimulatorServer) -> list[dict[str, Any]]:
    return [o for path in KARMADA_PATHS for o in items(simulator, path)]


async def test_delete_while_karmada_is_down_then_back_leaves_nothing(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 40)
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    response = await karmada_client.delete(f"{JOBS}/{job['id']}")
    assert response.status_code == 200, response.text
    assert response.json()["message"].startswith(f"job {job['id']} is being deleted")
    stored = (await karmada_client.get(f"{JOBS}/{job['id']}")).json()
    assert stored["status"] == "Deleting"
    assert "retried in the background" in response.json()["message"]

    simulator.clear_faults()
    assert names(simulator, RAYJOBS) == [job["id"]]  # nothing was lost, nothing removed yet
    await run_step_until_done(karmada_app, job["id"], submission.finish_delete)
    assert (await karmada_client.get(f"{JOBS}/{job['id']}")).status_code == 404
    advance(simulator, 1)
    assert leftovers(simulator) == []


async def test_a_permanent_refusal_fails_the_job_with_the_reason(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    simulator.clear_faults()
    # Someone else's policy already holds the name this job's policy needs.
    foreign_name = f"{job['id']}-propagation"
    foreign = {
        "apiVersion": "policy.karmada.io/v1alpha1",
        "kind": "PropagationPolicy",
        "metadata": {"name": foreign_name, "namespace": "default"},
        "spec": {"resourceSelectors": [{"apiVersion": "v1", "kind": "ConfigMap"}]},
    }
    create_object(simulator, POLICIES, foreign)

    await run_step(karmada_app, job["id"], submission.submit)
    stored = (await karmada_client.get(f"{JOBS}/{job['id']}")).json()
    assert stored["status"] == "Failed"
    assert stored["reason"] == "SubmissionRejected"
    assert "the name is taken by an object ml-platform does not own" in stored["message"]
    assert names(simulator, RAYJOBS) == []

    # Deleting the job removes what is its own, never the other owner's policy.
    assert (await karmada_client.delete(f"{JOBS}/{job['id']}")).status_code == 200
    assert (await karmada_client.get(f"{JOBS}/{job['id']}")).status_code == 404
    [policy] = items(simulator, POLICIES)
    # Untouched: what it selects is as its owner wrote it (the apiserver added only defaults).
    assert (policy["metadata"]["name"], policy["spec"]["resourceSelectors"]) == (
        foreign_name,
        foreign["spec"]["resourceSelectors"],
    )


async def test_a_refused_workload_leaves_none_of_the_jobs_objects_behind(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    simulator.clear_faults()
    # Someone else's RayJob holds the workload's name: the policy is created, then the refusal.
    foreign = {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": job["id"], "namespace": "default"},
        "spec": {"entrypoint": "python other.py"},
    }
    create_object(simulator, "/apis/ray.io/v1/namespaces/default/rayjobs", foreign)

    await run_step(karmada_app, job["id"], submission.submit)
    stored = (await karmada_client.get(f"{JOBS}/{job['id']}")).json()
    assert (stored["status"], stored["reason"]) == ("Failed", "SubmissionRejected")
    # the policy it had created is gone again (once Karmada's finalizer lets it go)
    assert await names_once_settled(simulator, POLICIES, []) == []
    assert names(simulator, RAYJOBS) == [job["id"]]  # the other owner's RayJob stays
    assert items(simulator, RAYJOBS)[0]["spec"]["entrypoint"] == "python other.py"


async def test_without_karmada_jobs_wait_and_reads_are_503(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    job = (await client.post(JOBS, json=ui_request)).json()
    assert (job["status"], job["message"]) == ("Pending", "waiting for Karmada: not configured")
    logs = await client.get(f"{JOBS}/{job['id']}/logs")
    assert logs.status_code == 503
    assert logs.json()["error"] == "Karmada is not configured"
    assert (await client.get("/api/v1/proxy/clusters")).status_code == 503
    stopped = await client.post(f"{JOBS}/{job['id']}/stop")
    assert stopped.json()["status"] == "Stopped"
    assert (await client.delete(f"{JOBS}/{job['id']}")).json() == {
        "message": f"job {job['id']} deleted"
    }


async def test_the_pending_row_is_durable_before_anything_reaches_karmada(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    # Every Karmada call is slow, so the request is still submitting while we look.
    await karmada_client.get("/api/v1/proxy/clusters")  # warm the cluster cache
    simulator.set_faults(latency_seconds=0.5)
    request = asyncio.create_task(karmada_client.post(JOBS, json=ui_request))
    seen: list[tuple[str, int]] = []
    async with asyncio.timeout(10):
        while not seen:
            await asyncio.sleep(0.05)
            async with karmada_app.state.sessionmaker() as session:
                page = await repository.list_jobs(
                    reader=session, filters=repository.JobFilters(), after=None, limit=5
                )
            created = simulator.stats()["byVerb"].get("create", 0)
            status = repository.DOCUMENT_FIELDS.index("status")
            seen = [(job[status], created) for job in page]
    assert not request.done()
    assert seen == [("Pending", 0)]  # committed, and nothing created in Karmada yet
    response = await request
    assert response.json()["status"] == "Submitted"


async def test_a_missing_namespace_fails_the_job_and_says_so(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    # As on a real Karmada, objects cannot be created in a namespace that does not exist.
    ui_request["namespace"] = "nowhere"
    response = await karmada_client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    stored = (await karmada_client.get(f"{JOBS}/{response.json()['id']}")).json()
    assert (stored["status"], stored["reason"]) == ("Failed", "SubmissionRejected")
    assert 'namespaces "nowhere" not found' in stored["message"], stored["message"]
    assert _karmada_objects(simulator) == []
