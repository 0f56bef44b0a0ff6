"""Driver logs through the API: live from the member cluster, followed as server-sent events,
and the stored tail once the pods are gone."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_support import advance, locked_job, run_step_until_done
from ml_platform.jobs import repository, submission
from ml_platform.jobs.logs import (
    STORED_LOG_BYTES,
    StreamSlots,
    capture_driver_log,
    driver_log_events,
    find_driver,
    follow_driver_log,
    log_tail,
)
from ml_platform.jobs.models import JobLog
from ml_platform.karmada import stream as stream_module
from ml_platform.karmada.gateway import KarmadaGateway

JOBS = "/api/v1/jobs"


async def _finished_job(client: httpx.AsyncClient, simulator: SimulatorServer, body: Any) -> str:
    job = (await client.post(JOBS, json=body)).json()
    for _ in range(3):
        advance(simulator, 60)
    status = (await client.get(f"{JOBS}/{job['id']}/status")).json()
    assert status["phase"] == "Succeeded"
    job_id: str = job["id"]
    return job_id


async def _capture(app: FastAPI, job_id: str) -> None:
    async with locked_job(app, job_id) as (session, job):
        await capture_driver_log(
            session=session, gateway=app.state.gateway, job=job, settings=app.state.settings
        )


async def _stored_log(app: FastAPI, job_id: str) -> JobLog | None:
    async with app.state.sessionmaker() as session:
        return await repository.get_job_log(session=session, job_id=job_id)


async def test_logs_of_a_finished_job_are_served_after_its_pods_are_gone(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job_id = await _finished_job(karmada_client, simulator, ui_request)
    live = (await karmada_client.get(f"{JOBS}/{job_id}/logs", params={"tailLines": 10000})).json()
    assert live["source"] == "live"
    assert live["container"] == "ray-job-submitter"
    assert len(live["logs"]) > 10

    await _capture(karmada_app, job_id)  # what the monitor does when the job ends
    simulator.delete_member_object(live["cluster"], "v1", "Pod", "default", live["pod"])

    stored = (await karmada_client.get(f"{JOBS}/{job_id}/logs", params={"tailLines": 5})).json()
    assert stored["source"] == "stored"
    assert (stored["cluster"], stored["pod"]) == (live["cluster"], live["pod"])
    assert stored["logs"] == live["logs"][-5:]
    assert "stored log captured at" in stored["message"]
    assert stored["message"].endswith("\n".join(live["logs"][-5:]))

    stream = await karmada_client.get(f"{JOBS}/{job_id}/logs/stream", params={"tailLines": 2})
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert _data_lines(stream.text)[1:-1] == live["logs"][-2:]


async def test_stop_stores_the_driver_log_before_removing_the_workload(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 60)
    before = (await karmada_client.get(f"{JOBS}/{job['id']}/logs")).json()
    assert before["source"] == "live"
    assert (await karmada_client.post(f"{JOBS}/{job['id']}/stop")).status_code == 200
    # Karmada's finalizer holds the policy a moment; the monitor finishes the stop.
    await run_step_until_done(karmada_app, job["id"], submission.finish_stop)
    assert (await karmada_client.get(f"{JOBS}/{job['id']}")).json()["status"] == "Stopped"
    # Karmada removes the member objects asynchronously, as a real control plane does.
    advance(simulator, 0)
    after = (await karmada_client.get(f"{JOBS}/{job['id']}/logs")).json()
    assert after["source"] == "stored"
    assert after["logs"] == before["logs"]
    stored = await _stored_log(karmada_app, job["id"])
    assert stored is not None
    assert len(stored.content.encode()) <= STORED_LOG_BYTES


async def test_no_driver_pod_yet_is_a_friendly_200(
    karmada_client: httpx.AsyncClient, ui_request: dict[str, Any]
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    response = await karmada_client.get(f"{JOBS}/{job['id']}/logs")
    assert response.status_code == 200
    assert response.json()["message"] == "no driver pod yet"
    assert response.json()["logs"] == []
    stream = await karmada_client.get(f"{JOBS}/{job['id']}/logs/stream")
    assert _data_lines(stream.text) == ["no driver pod yet", "end of log"]


async def test_tail_lines_container_and_cluster_parameters(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    job_id = await _finished_job(karmada_client, simulator, ui_request)
    url = f"{JOBS}/{job_id}/logs"
    three = (await karmada_client.get(url, params={"tailLines": 3})).json()
    assert len(three["logs"]) == 3
    # member2 never ran it: no pod there.
    elsewhere = (await karmada_client.get(url, params={"cluster": "member2"})).json()
    assert (elsewhere["message"], elsewhere["cluster"]) == ("no driver pod yet", "member2")
    unknown = await karmada_client.get(url, params={"cluster": "mars"})
    assert unknown.status_code == 422
    assert unknown.json()["details"]["known"] == ["member1", "member2"]
    wrong_container = await karmada_client.get(url, params={"container": "nope"})
    assert wrong_container.status_code == 422
    assert "nope" in wrong_container.json()["error"]


@pytest.mark.parametrize("tail", ["0", "10001", "x"])
async def test_tail_lines_out_of_range_is_422(
    karmada_client: httpx.AsyncClient, ui_request: dict[str, Any], tail: str
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    response = await karmada_client.get(f"{JOBS}/{job['id']}/logs", params={"tailLines": tail})
    assert response.status_code == 422


async def test_stream_follows_a_running_driver_until_its_log_ends(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 60)
    simulator.reset_stats()
    url = f"{JOBS}/{job['id']}/logs/stream"

    async def finish_the_job_meanwhile() -> None:
        for _ in range(1000):  # until the follow request has reached the simulator
            if simulator.stats()["byVerb"].get("log"):
                break
            await asyncio.sleep(0.02)
        advance(simulator, 200)

    async with asyncio.timeout(30), asyncio.TaskGroup() as group:
        group.create_task(finish_the_job_meanwhile())
        response = await karmada_client.get(url, params={"tailLines": 0})
    assert response.status_code == 200
    received = _data_lines(response.text)
    assert received[0].startswith("following member1/")
    assert received[-1] == "end of log"
    # Only lines printed after the stream opened (tailLines=0), through to the very end.
    full = await karmada_client.get(f"{JOBS}/{job['id']}/logs", params={"tailLines": 10000})
    everything = full.json()["logs"]
    followed = received[1:-1]
    assert 0 < len(followed) < len(everything)
    assert everything[-len(followed) :] == followed
    assert any("succeeded" in line for line in followed)


async def test_a_stream_left_by_its_client_ends_its_reader_and_frees_its_slot(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 60)  # the driver runs; simulated time then stands still: it is silent
    slots = StreamSlots(limit=5)
    async with karmada_app.state.sessionmaker() as session:
        stored = await repository.get_job(session=session, job_id=job["id"])
        assert stored is not None
        events = await driver_log_events(
            session=session,
            gateway=karmada_app.state.gateway,
            job=stored,
            settings=karmada_app.state.settings,
            cluster=None,
            container=None,
            tail_lines=0,
            slots=slots,
        )
    assert (await anext(events)).startswith("event: open")
    await asyncio.sleep(0.2)
    assert slots.open == 1  # open, and silent: nothing ends the reader but us
    await events.aclose()  # what the server does when the client disconnects
    for _ in range(200):  # the reader does not wait for a line the driver never prints
        if slots.open == 0 and not _follower_threads():
            break
        await asyncio.sleep(0.01)
    assert slots.open == 0
    assert _follower_threads() == []


async def test_a_stream_past_the_limit_is_503(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 60)
    karmada_app.state.log_streams = slots = StreamSlots(limit=1)
    slots.take()  # another client follows a log
    response = await karmada_client.get(f"{JOBS}/{job['id']}/logs/stream")
    assert response.status_code == 503
    assert response.json()["error"] == "too many log streams are open (1); try again later"
    slots.give_back()
    # A job with no driver left gets its stored log or a notice: no slot is needed.
    assert (await karmada_client.get(f"{JOBS}/no-such-job/logs/stream")).status_code == 404


async def test_a_followed_logs_slot_is_held_until_its_thread_has_ended(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Leaving a stream waits briefly for its thread; this one's thread outlasts the wait.
    monkeypatch.setattr(stream_module, "CLOSE_WAIT_SECONDS", 0.1)
    job = (await karmada_client.post(JOBS, json=ui_request)).json()
    advance(simulator, 60)
    async with karmada_app.state.sessionmaker() as session:
        stored = await repository.get_job(session=session, job_id=job["id"])
        assert stored is not None
        driver = await find_driver(
            gateway=karmada_app.state.gateway, job=stored, settings=karmada_app.state.settings
        )
    assert driver is not None
    kubeconfig = simulator.write_kubeconfig(tmp_path / "short.kubeconfig")
    gateway = KarmadaGateway.from_kubeconfig(str(kubeconfig), timeout_seconds=1.5)
    slots = StreamSlots(limit=1)

    def follow() -> AsyncIterator[str]:
        return follow_driver_log(
            gateway=gateway, driver=driver, namespace="default", tail_lines=3, slots=slots
        )

    # A member slow to answer (a hung one never does): the request waits for its headers.
    simulator.set_faults(
        latency_seconds=4.0, paths=("/apis/cluster.karmada.io/v1alpha1/clusters/",)
    )
    try:
        first = follow()
        assert (await anext(first)).startswith("event: open")
        await first.aclose()  # the client leaves before the member answered
        # Its thread still waits for the member: the slot is still taken, a second is refused.
        assert slots.open == 1
        assert len(_follower_threads()) == 1
        second = follow()
        assert (await anext(second)).startswith("event: error")
        # The request times out, the thread ends, and only then is the slot free.
        for _ in range(300):
            if slots.open == 0:
                break
            await asyncio.sleep(0.01)
        assert slots.open == 0
        assert _follower_threads() == []
    finally:
        simulator.set_faults()
        await gateway.close()
    third = follow()
    assert (await anext(third)).startswith("event: open")
    assert (await anext(third)).startswith("data: ")  # the member answers again
    await third.aclose()
    for _ in range(300):
        if slots.open == 0:
            break
        await asyncio.sleep(0.01)
    assert slots.open == 0


def _follower_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("karmada-log-")]


def _data_lines(text: str) -> list[str]:
    return [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]


def test_log_tail_keeps_the_end_from_a_line_start_within_the_budget() -> None:
    lines = [f"line {index} ü" for index in range(200_000)]
    content = "\n".join(lines) + "\n"
    tail = log_tail(content, STORED_LOG_BYTES)
    assert len(tail.encode()) <= STORED_LOG_BYTES
    assert len(tail.encode()) > STORED_LOG_BYTES - 100
    assert content.endswith(tail)
    assert tail.splitlines()[0] in lines
    assert log_tail("short\n", STORED_LOG_BYTES) == "short\n"


async def test_capture_while_karmada_is_down_keeps_the_earlier_capture(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    job_id = await _finished_job(karmada_client, simulator, ui_request)
    await _capture(karmada_app, job_id)
    first = await _stored_log(karmada_app, job_id)
    assert first is not None
    simulator.set_faults(error_rate=1.0, error_codes=(503,))
    await _capture(karmada_app, job_id)  # must not raise
    again = await _stored_log(karmada_app, job_id)
    assert again is not None
    assert (again.content, again.captured_at) == (first.content, first.captured_at)
    served = (await karmada_client.get(f"{JOBS}/{job_id}/logs")).json()
    assert served["source"] == "stored"
    assert "live log unavailable" in served["message"]


async def test_a_starting_driver_container_is_a_200_with_no_log_yet(
    karmada_client: httpx.AsyncClient, simulator: SimulatorServer, ui_request: dict[str, Any]
) -> None:
    # A PyTorchJob's master pod exists from the start; its containers start 30 s later.
    body = {**ui_request, "hyperparameters": {}}
    body["algorithm"] = {"source": "builtin", "algorithmName": "pytorch"}
    job = (await karmada_client.post(JOBS, json=body)).json()
    advance(simulator, 1)
    response = await karmada_client.get(f"{JOBS}/{job['id']}/logs")
    assert response.status_code == 200, response.text
    logs = response.json()
    assert logs["message"] == "the driver container is starting; no log yet (ContainerCreating)"
    assert (logs["logs"], logs["source"], logs["container"]) == ([], "live", "pytorch")
    assert logs["pod"] == f"{job['id']}-master-0"
