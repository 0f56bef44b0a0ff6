"""The gateway's streams against the simulator over real HTTP: WATCH events and followed logs
come as async iterators, and every thread the gateway starts for them ends when its consumer
stops (cancelled, closed, or the gateway closed), even while the server is silent."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from karmada_sim.server import SimulatorServer
from karmada_support import advance
from ml_platform.jobs import repository
from ml_platform.jobs.logs import DriverPod, find_driver
from ml_platform.karmada import stream as stream_module
from ml_platform.karmada.errors import KarmadaRejected, KarmadaUnavailable
from ml_platform.karmada.gateway import KarmadaGateway, ObjectRef, WatchEvent
from ml_platform.karmada.resources import CLUSTER, ApiResource
from ml_platform.karmada.stream import split_lines
from ml_platform.workloads.kinds import PROPAGATION_POLICY_API

POLICIES = PROPAGATION_POLICY_API


def stream_threads() -> list[threading.Thread]:
    """The gateway's threads that read a stream (its request pool is not among them)."""
    prefixes = ("karmada-watch-", "karmada-log-")
    return [t for t in threading.enumerate() if t.name.startswith(prefixes)]


def policy(name: str) -> dict[str, Any]:
    return {
        "apiVersion": POLICIES.api_version,
        "kind": "PropagationPolicy",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"resourceSelectors": [{"apiVersion": "v1", "kind": "ConfigMap", "name": name}]},
    }


async def wait_until(condition: Any, *, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def test_split_lines_keeps_lines_whole_across_chunks() -> None:
    chunks = [b"one\ntw", b"o\n", b"", b"thr", b"ee\nunfinished"]
    assert list(split_lines(iter(chunks), keep_rest=False)) == [[b"one"], [b"two"], [b"three"]]
    assert list(split_lines(iter(chunks), keep_rest=True))[-1] == [b"unfinished"]
    assert list(split_lines(iter([b"a\n\nb\n"]), keep_rest=True)) == [[b"a", b"", b"b"]]


async def test_a_watch_yields_typed_events_after_its_resource_version(
    gateway: KarmadaGateway,
) -> None:
    await gateway.create(policy("before"))
    _, version = await gateway.list_with_version(POLICIES)
    async with gateway.watch(POLICIES, resource_version=version, timeout_seconds=30) as events:
        await events.open()
        await gateway.create(policy("added"))
        # Karmada's finalizer holds the deleted policy until its detector releases it.
        await gateway.delete(ObjectRef.of(policy("added")))
        seen: list[WatchEvent] = []
        async with asyncio.timeout(5):
            async for event in events:
                seen.append(event)
                if event.type == "DELETED":
                    break
    assert [(e.type, e.object["metadata"]["name"]) for e in seen] == [
        ("ADDED", "added"),
        ("MODIFIED", "added"),  # deletionTimestamp set
        ("DELETED", "added"),
    ]
    assert seen[1].object["metadata"]["deletionTimestamp"]
    assert int(seen[2].object["metadata"]["resourceVersion"]) > int(version)
    await wait_until(lambda: stream_threads() == [])


async def test_a_watch_from_a_forgotten_version_yields_an_error_event(
    gateway: KarmadaGateway, simulator: SimulatorServer
) -> None:
    _, version = await gateway.list_with_version(POLICIES)
    await gateway.create(policy("later"))
    simulator.call(simulator.simulator.karmada.compact)
    async with gateway.watch(POLICIES, resource_version=version) as events:
        async with asyncio.timeout(5):
            first = await anext(events)
    assert first.type == "ERROR"
    assert first.object["code"] == 410


async def test_a_consumer_that_falls_behind_holds_the_reader_back_and_loses_nothing(
    gateway: KarmadaGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_module, "READ_AHEAD_BATCHES", 1)
    _, version = await gateway.list_with_version(POLICIES)
    async with gateway.watch(POLICIES, resource_version=version) as events:
        await events.open()
        for index in range(5):  # one write, one chunk, one batch each
            await gateway.create(policy(f"p{index}"))
        await asyncio.sleep(0.3)
        # The reader posted one batch beyond the "opened" mark, then waits for the consumer.
        assert events._queue.qsize() <= 2
        names = []
        async with asyncio.timeout(5):
            async for event in events:
                names.append(event.object["metadata"]["name"])
                if len(names) == 5:
                    break
    assert names == [f"p{index}" for index in range(5)]


async def test_cancelling_the_consumer_of_a_silent_watch_ends_its_thread(
    gateway: KarmadaGateway,
) -> None:
    _, version = await gateway.list_with_version(CLUSTER)
    opened = asyncio.Event()

    async def consume() -> None:
        async with gateway.watch(CLUSTER, resource_version=version, timeout_seconds=60) as events:
            await events.open()
            opened.set()
            async for _ in events:  # nothing changes: the read blocks in the thread
                pass

    task = asyncio.create_task(consume())
    await asyncio.wait_for(opened.wait(), 5)
    assert [t.name for t in stream_threads()] == ["karmada-watch-clusters"]
    started = time.monotonic()
    task.cancel()
    await asyncio.wait([task])
    assert task.cancelled()
    assert time.monotonic() - started < 1.0
    assert stream_threads() == []  # leaving the block waited for the thread to end


async def test_closing_the_gateway_ends_every_open_stream(
    simulator: SimulatorServer, tmp_path: Any
) -> None:
    kubeconfig = simulator.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    gateway = KarmadaGateway.from_kubeconfig(str(kubeconfig), timeout_seconds=5.0)
    before = threading.active_count()
    _, version = await gateway.list_with_version(CLUSTER)
    pool = [t for t in threading.enumerate() if t.name.startswith("karmada_")]
    streams = [gateway.watch(CLUSTER, resource_version=version) for _ in range(5)]
    for stream in streams:
        await stream.open()
    assert len(stream_threads()) == 5
    await gateway.close()
    assert stream_threads() == []
    assert threading.active_count() <= before + len(pool)
    for stream in streams:  # a consumer still holding one sees its end
        assert [event async for event in stream] == []


async def test_a_refused_request_raises_when_the_stream_opens(gateway: KarmadaGateway) -> None:
    unknown = ApiResource("example.com", "v1", "widgets", "Widget")
    async with gateway.watch(unknown, resource_version="0") as events:
        with pytest.raises(KarmadaRejected) as refused:
            await events.open()
    assert refused.value.details["status"] == 404
    missing = gateway.follow_pod_log("member1", namespace="default", pod="no-such-pod")
    async with missing as lines:
        with pytest.raises(KarmadaRejected):
            await anext(lines)
    assert stream_threads() == []


async def _running_drivers(
    app: FastAPI, client: httpx.AsyncClient, simulator: SimulatorServer, body: Any, count: int
) -> list[DriverPod]:
    ids = []
    for index in range(count):
        created = await client.post("/api/v1/jobs", json={**body, "jobName": f"follow-{index}"})
        ids.append(created.json()["id"])
    advance(simulator, 60)  # every driver runs; simulated time then stands still: they are silent
    drivers = []
    async with app.state.sessionmaker() as session:
        for job_id in ids:
            job = await repository.get_job(session=session, job_id=job_id)
            assert job is not None
            driver = await find_driver(
                gateway=app.state.gateway, job=job, settings=app.state.settings
            )
            assert driver is not None
            drivers.append(driver)
    return drivers


async def test_followed_logs_hold_one_thread_each_until_their_consumers_stop(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
) -> None:
    gateway: KarmadaGateway = karmada_app.state.gateway
    drivers = await _running_drivers(karmada_app, karmada_client, simulator, ui_request, 4)
    printed = await gateway.pod_log(
        drivers[0].cluster,
        namespace="default",
        pod=drivers[0].name,
        container=drivers[0].container,
        tail_lines=3,
    )
    first_lines: dict[str, list[str]] = {}
    ready = asyncio.Event()

    async def follow(driver: DriverPod) -> None:
        async with gateway.follow_pod_log(
            driver.cluster,
            namespace="default",
            pod=driver.name,
            container=driver.container,
            tail_lines=3,
        ) as lines:
            async for line in lines:
                first_lines.setdefault(driver.name, []).append(line)
                if len(first_lines) == len(drivers) and all(
                    len(got) == 3 for got in first_lines.values()
                ):
                    ready.set()

    tasks = [asyncio.create_task(follow(driver)) for driver in drivers]
    await asyncio.wait_for(ready.wait(), 10)
    assert first_lines[drivers[0].name] == printed.splitlines()
    assert len(stream_threads()) == len(drivers)
    for task in tasks:  # what the server does when each client disconnects
        task.cancel()
    await asyncio.wait(tasks)
    assert stream_threads() == []


MEMBER_PROXY = ("/apis/cluster.karmada.io/v1alpha1/clusters/",)


async def test_a_followed_log_waits_for_a_members_answer_no_longer_than_the_timeout(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
    tmp_path: Any,
) -> None:
    (driver,) = await _running_drivers(karmada_app, karmada_client, simulator, ui_request, 1)
    kubeconfig = simulator.write_kubeconfig(tmp_path / "short.kubeconfig")
    gateway = KarmadaGateway.from_kubeconfig(str(kubeconfig), timeout_seconds=1.0)
    simulator.set_faults(latency_seconds=4.0, paths=MEMBER_PROXY)  # a member slow to answer
    try:
        started = time.monotonic()
        async with gateway.follow_pod_log(
            driver.cluster, namespace="default", pod=driver.name, container=driver.container
        ) as lines:
            with pytest.raises(KarmadaUnavailable):
                await lines.open()
        # The thread waited for the response's headers only as long as the request timeout.
        assert time.monotonic() - started < 3.0
        await wait_until(lambda: stream_threads() == [])
    finally:
        simulator.set_faults()
        await gateway.close()


async def test_a_followed_log_may_stay_silent_longer_than_the_timeout(
    karmada_client: httpx.AsyncClient,
    karmada_app: FastAPI,
    simulator: SimulatorServer,
    ui_request: dict[str, Any],
    tmp_path: Any,
) -> None:
    (driver,) = await _running_drivers(karmada_app, karmada_client, simulator, ui_request, 1)
    kubeconfig = simulator.write_kubeconfig(tmp_path / "short.kubeconfig")
    gateway = KarmadaGateway.from_kubeconfig(str(kubeconfig), timeout_seconds=1.0)
    try:
        async with gateway.follow_pod_log(
            driver.cluster,
            namespace="default",
            pod=driver.name,
            container=driver.container,
            tail_lines=0,
        ) as lines:
            await lines.open()
            # The driver prints nothing: the read waits past the request timeout, and no
            # line (nor an error, nor the end) comes.
            waiting = asyncio.ensure_future(anext(lines))
            done, _ = await asyncio.wait([waiting], timeout=2.5)
            assert not done
            assert [t.name for t in stream_threads()] == [f"karmada-log-{driver.name}"]
            waiting.cancel()
    finally:
        await gateway.close()
    assert stream_threads() == []


def test_a_reader_whose_event_loop_closed_stops_reading(
    simulator: SimulatorServer, tmp_path: Any
) -> None:
    kubeconfig = simulator.write_kubeconfig(tmp_path / "karmada.kubeconfig")
    gateway = KarmadaGateway.from_kubeconfig(str(kubeconfig), timeout_seconds=5.0)

    async def open_watch() -> None:
        _, version = await gateway.list_with_version(POLICIES)
        await gateway.watch(POLICIES, resource_version=version, timeout_seconds=60).open()

    loop = asyncio.new_event_loop()
    loop.run_until_complete(open_watch())
    loop.close()  # the process is ending: the stream is left open, nobody listens any more
    assert len(stream_threads()) == 1
    # An event comes: the reader cannot hand it over, and must not block for the next one.
    asyncio.run(gateway.create(policy("after-the-loop")))
    deadline = time.monotonic() + 5.0
    while stream_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream_threads() == []
    asyncio.run(gateway.close())
