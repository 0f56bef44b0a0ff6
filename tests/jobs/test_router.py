"""The jobs API over HTTP, on Postgres and SQLite."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

JOBS = "/api/v1/jobs"
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
ID_PATTERN = re.compile(r"^iris-xgb-[0-9a-f]{8}$")


def minimal_request(job_name: str = "job", **overrides: Any) -> dict[str, Any]:
    """The smallest valid request."""
    body: dict[str, Any] = {
        "jobName": job_name,
        "algorithm": {"source": "builtin", "algorithmName": "xgboost"},
        "resources": {"instanceResources": {"cpuCores": 1, "memoryGiB": 1}},
    }
    body.update(overrides)
    return body


async def create(client: httpx.AsyncClient, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    response = await client.post(JOBS, json=body, **kwargs)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "details"}
    assert isinstance(body["error"], str)
    assert body["error"]
    assert "\n" not in body["error"]
    return body


async def test_ui_request_creates_job_with_ui_shape(
    client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    response = await client.post(JOBS, json=ui_request)
    assert response.status_code == 201, response.text
    job = response.json()
    assert ID_PATTERN.match(job["id"])
    assert response.headers["location"] == f"{JOBS}/{job['id']}"
    assert job["jobName"] == "iris-xgb"
    assert job["namespace"] == "default"
    assert job["algorithm"] == "xgboost"
    assert job["priority"] == 100
    assert job["request"] == ui_request
    assert job["status"] == "Pending"
    assert job["message"] == "waiting for Karmada: not configured"
    assert job["targetClusters"] == ["member1"]
    assert job["workloadKind"] == "RayJob"
    for field in ("createdAt", "updatedAt"):
        assert RFC3339_UTC.match(job[field]), job[field]

    fetched = await client.get(f"{JOBS}/{job['id']}")
    assert fetched.status_code == 200
    assert fetched.json() == job

    listed = await client.get(JOBS, params={"namespace": "default"})
    assert listed.status_code == 200
    assert listed.json() == [job]


async def test_create_records_created_event(client: httpx.AsyncClient) -> None:
    job = await create(client, minimal_request())
    response = await client.get(f"{JOBS}/{job['id']}/events")
    assert response.status_code == 200
    events = response.json()
    assert len(events) == 1
    event = events[0]
    assert event["fromStatus"] is None
    assert event["toStatus"] == "Pending"
    assert event["reason"] == "Created"
    assert RFC3339_UTC.match(event["occurredAt"])


async def test_get_unknown_job_is_404(client: httpx.AsyncClient) -> None:
    for path in ("", "/status", "/events"):
        assert_error(await client.get(f"{JOBS}/nope-00000000{path}"), 404)
    assert_error(await client.post(f"{JOBS}/nope-00000000/stop"), 404)
    assert_error(await client.delete(f"{JOBS}/nope-00000000"), 404)


async def test_status_of_pending_job(client: httpx.AsyncClient) -> None:
    job = await create(client, minimal_request())
    response = await client.get(f"{JOBS}/{job['id']}/status")
    assert response.status_code == 200
    status = response.json()
    assert status["phase"] == "Pending"
    assert status["reason"] == "Created"
    assert status["startTime"] is None
    assert status["clusterDistribution"] is None


async def test_stop_pending_job_becomes_stopped_with_event(client: httpx.AsyncClient) -> None:
    job = await create(client, minimal_request())
    response = await client.post(f"{JOBS}/{job['id']}/stop")
    assert response.status_code == 200
    stopped = response.json()
    assert stopped["status"] == "Stopped"
    assert stopped["reason"] == "StoppedByUser"
    assert RFC3339_UTC.match(stopped["completedAt"])

    again = await client.post(f"{JOBS}/{job['id']}/stop")
    assert again.status_code == 200
    assert again.json()["status"] == "Stopped"

    events = (await client.get(f"{JOBS}/{job['id']}/events")).json()
    assert [(e["fromStatus"], e["toStatus"]) for e in events] == [
        (None, "Pending"),
        ("Pending", "Stopped"),
    ]
    status = (await client.get(f"{JOBS}/{job['id']}/status")).json()
    assert status["phase"] == "Stopped"
    assert status["completionTime"] == stopped["completedAt"]


async def test_delete_unsubmitted_job_removes_it_and_its_events(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    job = await create(client, minimal_request())
    await client.post(f"{JOBS}/{job['id']}/stop")
    response = await client.delete(f"{JOBS}/{job['id']}")
    assert response.status_code == 200
    assert response.json() == {"message": f"job {job['id']} deleted"}
    assert_error(await client.get(f"{JOBS}/{job['id']}"), 404)
    assert_error(await client.get(f"{JOBS}/{job['id']}/events"), 404)
    assert_error(await client.delete(f"{JOBS}/{job['id']}"), 404)
    async with app.state.engine.connect() as connection:
        events = await connection.execute(
            text("SELECT count(*) FROM job_event WHERE job_id = :id"), {"id": job["id"]}
        )
        assert events.scalar_one() == 0


async def test_idempotency_key_returns_original_job(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "retry-123"}
    first = await client.post(JOBS, json=minimal_request(), headers=headers)
    second = await client.post(JOBS, json=minimal_request(), headers=headers)
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert len((await client.get(JOBS)).json()) == 1

    other = await client.post(JOBS, json=minimal_request(), headers={"Idempotency-Key": "k2"})
    assert other.json()["id"] != first.json()["id"]
    assert len((await client.get(JOBS)).json()) == 2


async def test_idempotency_key_with_different_request_is_409(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "retry-456"}
    await create(client, minimal_request("first"), headers=headers)
    body = assert_error(
        await client.post(JOBS, json=minimal_request("other"), headers=headers), 409
    )
    assert "Idempotency-Key" in body["error"]


async def test_list_is_newest_first_and_filters(client: httpx.AsyncClient) -> None:
    a = await create(client, minimal_request("alpha", namespace="team-a"))
    b = await create(client, minimal_request("beta", namespace="team-b"))
    c = await create(
        client,
        minimal_request(
            "gamma", algorithm={"source": "builtin", "algorithmName": "pytorch"}, namespace="team-a"
        ),
    )
    await client.post(f"{JOBS}/{b['id']}/stop")

    async def ids(**params: Any) -> list[str]:
        response = await client.get(JOBS, params=params)
        assert response.status_code == 200, response.text
        return [job["id"] for job in response.json()]

    assert await ids() == [c["id"], b["id"], a["id"]]
    assert await ids(namespace="team-a") == [c["id"], a["id"]]
    assert await ids(status="Stopped") == [b["id"]]
    assert await ids(status="Pending", namespace="team-a") == [c["id"], a["id"]]
    assert await ids(algorithm="pytorch") == [c["id"]]
    assert await ids(q="ALP") == [a["id"]]
    assert await ids(q=b["id"][-8:]) == [b["id"]]
    assert await ids(q="%") == []
    assert await ids(q="_") == []
    assert await ids(q="\\") == []  # the LIKE escape character itself
    assert await ids(namespace="nobody") == []
    # A listed job is the very document GET /jobs/{id} returns.
    listed = (await client.get(JOBS, params={"q": a["id"]})).json()
    assert listed == [(await client.get(f"{JOBS}/{a['id']}")).json()]


async def test_pagination_walks_every_page_through_link_header(
    client: httpx.AsyncClient,
) -> None:
    created = [(await create(client, minimal_request(f"job-{i}")))["id"] for i in range(7)]
    expected = list(reversed(created))

    seen: list[str] = []
    url: str | None = f"{JOBS}?limit=3&namespace=default"
    pages = 0
    while url is not None and pages < 10:
        response = await client.get(url)
        assert response.status_code == 200, response.text
        seen.extend(job["id"] for job in response.json())
        pages += 1
        link = response.headers.get("link")
        if link is None:
            url = None
            continue
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert match, link
        url = match.group(1)
        assert "namespace=default" in url
        assert "limit=3" in url
    assert pages == 3
    assert seen == expected


async def test_pagination_with_exact_multiple_has_no_empty_last_page(
    client: httpx.AsyncClient,
) -> None:
    for i in range(4):
        await create(client, minimal_request(f"job-{i}"))
    first = await client.get(JOBS, params={"limit": 2})
    second_url = re.fullmatch(r"<([^>]+)>; rel=\"next\"", first.headers["link"])
    assert second_url
    second = await client.get(second_url.group(1))
    assert len(second.json()) == 2
    assert "link" not in second.headers


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": 0}, 422),
        ({"limit": 1001}, 422),
        ({"limit": "ten"}, 422),
        ({"cursor": "not-a-cursor"}, 422),
        ({"cursor": "W10"}, 422),
        ({"cursor": "WyJ4IiwgMV0"}, 422),
        ({"q": "x" * 64}, 422),
    ],
)
async def test_list_rejects_bad_query(
    client: httpx.AsyncClient, params: dict[str, Any], status: int
) -> None:
    assert_error(await client.get(JOBS, params=params), status)


async def test_list_default_limit_is_100(client: httpx.AsyncClient) -> None:
    for i in range(101):
        await client.post(JOBS, json=minimal_request(f"j{i}"))
    response = await client.get(JOBS)
    assert len(response.json()) == 100
    assert "link" in response.headers


async def test_algorithms_catalogue(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/algorithms")
    assert response.status_code == 200
    document = response.json()
    assert isinstance(document, list)
    ids = {entry["name"] for entry in document}
    assert {"xgboost", "lightgbm", "pytorch", "container"} <= ids


@pytest.mark.parametrize(
    ("algorithm", "kind"),
    [
        ("xgboost", "RayJob"),
        ("lightgbm", "RayJob"),
        ("pytorch", "PyTorchJob"),
        ("deepspeed-zero3", "PyTorchJob"),
        ("tensorflow-cnn", "TFJob"),
        ("tf-distributed", "TFJob"),
        ("horovod-mpi", "MPIJob"),
        ("torch-mpi", "MPIJob"),
        ("jax-pjit", "Job"),
    ],
)
async def test_every_builtin_algorithm_is_accepted(
    client: httpx.AsyncClient, algorithm: str, kind: str
) -> None:
    body = minimal_request(algorithm=({"source": "builtin", "algorithmName": algorithm}))
    job = await create(client, body)
    assert job["algorithm"] == algorithm
    assert job["workloadKind"] == kind


async def test_container_job(client: httpx.AsyncClient) -> None:
    body = minimal_request(
        algorithm={"source": "container", "algorithmName": "my-trainer", "imageUri": "repo/x:1"},
        entrypoint="python train.py",
        pvcName="data-pvc",
        customHyperparameters={"EPOCHS": 3, "lr": 0.1, "DEBUG": True, "NAME": "x"},
    )
    job = await create(client, body)
    assert job["algorithm"] == "container"
    assert job["workloadKind"] == "Job"
    assert job["request"] == body


async def test_created_timestamps_are_ordered(client: httpx.AsyncClient) -> None:
    job = await create(client, minimal_request())
    created = datetime.fromisoformat(job["createdAt"])
    assert created.tzinfo is not None
    assert job["createdAt"] == job["updatedAt"]


async def test_concurrent_retries_with_one_idempotency_key_create_one_job(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "burst-1"}
    responses = await asyncio.gather(
        *(client.post(JOBS, json=minimal_request(), headers=headers) for _ in range(5))
    )
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert len((await client.get(JOBS)).json()) == 1


async def test_concurrent_creates_and_reads_all_succeed(client: httpx.AsyncClient) -> None:
    creates = [client.post(JOBS, json=minimal_request(f"c{i}")) for i in range(15)]
    reads = [client.get(JOBS) for _ in range(5)]
    responses = await asyncio.gather(*creates, *reads)
    assert [r.status_code for r in responses[:15]] == [201] * 15
    assert [r.status_code for r in responses[15:]] == [200] * 5
    assert len((await client.get(JOBS)).json()) == 15
