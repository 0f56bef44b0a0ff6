"""The monitor's watch caches against the simulator over real HTTP: deletions arrive through
the watch, a compacted history makes the cache re-LIST, and stopping ends every task and every
gateway thread that read a watch."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Mapping
from typing import Any

import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from karmada_sim.server import SimulatorServer
from ml_platform.karmada.gateway import JOB_ID_LABEL, KarmadaGateway, ObjectRef
from ml_platform.monitor import reflector as reflector_module
from ml_platform.monitor.reflector import Reflector
from ml_platform.monitor.watched import WatchedSnapshots
from ml_platform.workloads.common import MANAGED_BY_LABEL, MANAGED_BY_VALUE
from ml_platform.workloads.kinds import WORKLOAD_APIS, WorkloadKind

from .conftest import ManualClock, build_monitor, wait_for

RAYJOBS = WORKLOAD_APIS[WorkloadKind.RAY_JOB]
JOBS = WORKLOAD_APIS[WorkloadKind.JOB]


def rayjob(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "ray.io/v1",
        "kind": "RayJob",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"entrypoint": "python train.py"},
    }


def batch_job(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "busybox"}]}}},
    }


def names(reflector: Reflector) -> set[str]:
    return {item["metadata"]["name"] for item in reflector.items()}


def watch_threads() -> list[threading.Thread]:
    """The gateway's threads reading a WATCH (the reflectors themselves start none)."""
    return [t for t in threading.enumerate() if t.name.startswith("karmada-watch-")]


async def test_the_watch_brings_additions_and_deletions_without_a_new_list(
    gateway: KarmadaGateway,
) -> None:
    reflector = Reflector(gateway, RAYJOBS)
    reflector.start()
    try:
        await wait_for(lambda: reflector.connected)
        await gateway.create(rayjob("keep"))
        await gateway.create(rayjob("drop"))
        await wait_for(lambda: names(reflector) == {"keep", "drop"})
        assert await gateway.delete(ObjectRef.of(rayjob("drop")))
        await wait_for(lambda: names(reflector) == {"keep"})
        assert reflector.lists == 1
    finally:
        await reflector.stop()
    assert not reflector.alive


async def test_a_compacted_history_makes_the_cache_list_again(
    gateway: KarmadaGateway, simulator: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Watches end after one second, so the cache soon resumes from its (then too old) version.
    monkeypatch.setattr(reflector_module, "WATCH_TIMEOUT_RANGE", (1, 1))
    await gateway.create(rayjob("before"))
    reflector = Reflector(gateway, RAYJOBS)
    reflector.start()
    try:
        await wait_for(lambda: reflector.connected and names(reflector) == {"before"})
        # A write of another kind moves the server's version past the cache's, then the
        # history before it is forgotten: resuming the rayjob watch must answer 410.
        await gateway.create(batch_job("elsewhere"))
        simulator.call(simulator.simulator.karmada.compact)
        stale = reflector.resource_version
        await wait_for(lambda: reflector.lists == 2, seconds=10.0)
        assert reflector.resource_version > stale
        await wait_for(lambda: reflector.connected)
        await gateway.create(rayjob("after"))
        await wait_for(lambda: names(reflector) == {"before", "after"})
    finally:
        await reflector.stop()


async def test_a_server_behind_what_the_cache_saw_makes_it_list_again(
    gateway: KarmadaGateway,
) -> None:
    # A Karmada whose etcd was restored answers with versions older than the cache's: the
    # watch would stay silent, so the snapshot compares, uses a LIST, and the cache re-lists.
    ours = rayjob("restored")
    ours["metadata"]["labels"] = {MANAGED_BY_LABEL: MANAGED_BY_VALUE, JOB_ID_LABEL: "restored"}
    await gateway.create(ours)
    caches = WatchedSnapshots(gateway)
    caches.start()
    try:
        await wait_for(lambda: all(r.connected for r in caches.reflectors))
        rayjobs = caches.reflectors[0]
        assert rayjobs.resource == RAYJOBS
        # What it saw from the server before the restore:
        kept = rayjobs._items[("default", "restored")]
        rayjobs._items[("default", "gone")] = dataclasses.replace(kept, job_id="gone")
        rayjobs.resource_version += 1000
        snapshot = await caches.take()
        assert set(snapshot.templates) == {"restored"}
        await wait_for(lambda: rayjobs.lists == 2 and rayjobs.connected)
        assert {t.job_id for t in rayjobs.items()} == {"restored"}
    finally:
        await caches.stop()


async def test_an_unexpected_error_is_logged_and_the_cache_lists_again(
    gateway: KarmadaGateway,
) -> None:
    poisoned = {"poison"}  # the entry maker fails on this object once (a defect met in prod)

    def picky(item: Mapping[str, Any]) -> Any:
        name = item["metadata"]["name"]
        if name in poisoned:
            poisoned.discard(name)
            raise TypeError("an entry maker met an object it did not expect")
        return item

    reflector = Reflector(gateway, RAYJOBS, entry=picky)
    with capture_logs() as logs:
        reflector.start()
        try:
            await wait_for(lambda: reflector.connected)
            await gateway.create(rayjob("poison"))
            await wait_for(lambda: reflector.lists == 2 and reflector.connected)
            await gateway.create(rayjob("later"))
            await wait_for(lambda: names(reflector) == {"poison", "later"})
            assert reflector.alive
        finally:
            await reflector.stop()
    (crash,) = [e for e in logs if e["event"] == "monitor.reflector.crashed"]
    assert crash["log_level"] == "error"
    assert crash["resource"] == RAYJOBS.plural
    assert crash["exc_info"] is True  # the traceback goes with it


async def test_a_relist_requested_while_the_watch_opens_is_not_lost(
    gateway: KarmadaGateway, simulator: SimulatorServer
) -> None:
    reflector = Reflector(gateway, RAYJOBS)
    reflector.start()
    try:
        await wait_for(lambda: reflector.connected)
        simulator.set_faults(latency_seconds=1.0, paths=(RAYJOBS.path(None),))
        reflector.request_relist("first")
        await wait_for(lambda: reflector.lists == 2)  # listed; the watch is opening (slowly)
        assert reflector._stream is None
        reflector.request_relist("second, while the watch opens")
        await wait_for(lambda: reflector.lists == 3, seconds=10.0)
        simulator.set_faults()
        await wait_for(lambda: reflector.connected)
    finally:
        simulator.set_faults()
        await reflector.stop()


async def test_stopping_the_caches_ends_every_thread_promptly(gateway: KarmadaGateway) -> None:
    before = threading.active_count()
    caches = WatchedSnapshots(gateway)
    caches.start()
    await wait_for(lambda: all(r.connected for r in caches.reflectors))
    assert len(watch_threads()) == len(caches.reflectors)
    started = time.monotonic()
    await caches.stop()
    assert time.monotonic() - started < 2.0
    assert not caches.alive
    assert watch_threads() == []
    # Only the gateway's pool of request threads may have grown (the LISTs ran in it).
    pool = [t for t in threading.enumerate() if t.name.startswith("karmada_")]
    assert threading.active_count() <= before + len(pool)


async def test_a_snapshot_reflects_a_change_made_just_before_it(
    gateway: KarmadaGateway, simulator: SimulatorServer
) -> None:
    caches = WatchedSnapshots(gateway)
    caches.start()
    try:
        await wait_for(lambda: all(r.connected for r in caches.reflectors))
        simulator.set_cluster_ready("member2", False)
        snapshot = await caches.take()
        assert snapshot.not_ready == {"member2"}
        simulator.set_cluster_ready("member2", True)
        snapshot = await caches.take()
        assert snapshot.not_ready == frozenset()
    finally:
        await caches.stop()


async def test_a_snapshot_waits_for_a_cache_still_listing_instead_of_listing_again(
    gateway: KarmadaGateway, simulator: SimulatorServer
) -> None:
    # The bindings' LIST takes longer than the wait for a cache that is merely behind.
    simulator.set_faults(latency_seconds=0.5, paths=("/apis/work.karmada.io/",))
    simulator.reset_stats()
    caches = WatchedSnapshots(gateway)
    caches.start()
    try:
        await caches.take()
        assert simulator.stats()["byRequest"]["list resourcebindings.work.karmada.io"] == 1
        assert [r.lists for r in caches.reflectors] == [1] * len(caches.reflectors)
    finally:
        simulator.set_faults()
        await caches.stop()


async def test_the_monitor_keeps_caches_while_leading_and_ends_them_on_stop(
    karmada_app: FastAPI, clock: ManualClock
) -> None:
    monitor = build_monitor(karmada_app, clock)
    try:
        await monitor.run_once()
        assert monitor.last is not None
        assert monitor.last.led
        assert monitor.snapshots is not None
        assert len(watch_threads()) == len(monitor.snapshots.reflectors)
    finally:
        await monitor.stop()
    assert monitor.snapshots is None
    assert watch_threads() == []
