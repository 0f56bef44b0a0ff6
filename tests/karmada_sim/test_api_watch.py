"""Watch streams through `kubernetes.watch.Watch` and raw chunked reads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from api_helpers import api_client
from kubernetes import client, watch

from karmada_sim.server import SimulatorServer

RAY = ("ray.io", "v1")


@pytest.fixture
def crd(server: SimulatorServer) -> Iterator[client.CustomObjectsApi]:
    with api_client(server.url) as api:
        yield client.CustomObjectsApi(api)


def rayjob(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"entrypoint": "x"}}


def collect(
    crd: client.CustomObjectsApi, ns: str, count: int, **kwargs: Any
) -> tuple[threading.Thread, list[tuple[str, str]], threading.Event]:
    """Watch in a thread until `count` events arrived (or the server-side timeout)."""
    events: list[tuple[str, str]] = []
    started = threading.Event()

    def run() -> None:
        stream = watch.Watch()
        started.set()
        for event in stream.stream(
            crd.list_namespaced_custom_object, *RAY, ns, "rayjobs", timeout_seconds=5, **kwargs
        ):
            events.append((event["type"], event["object"]["metadata"]["name"]))
            if len(events) >= count:
                stream.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    return thread, events, started


def test_watch_sends_existing_then_changes(crd: client.CustomObjectsApi, ns: str) -> None:
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("first"))
    thread, events, _ = collect(crd, ns, 4)
    # The synthetic ADDED for "first" proves the stream is open before the writes.
    for _ in range(100):
        if events:
            break
        threading.Event().wait(0.02)
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("second"))
    crd.patch_namespaced_custom_object(*RAY, ns, "rayjobs", "second", {"spec": {"suspend": True}})
    crd.delete_namespaced_custom_object(*RAY, ns, "rayjobs", "first")
    thread.join(10)
    assert events == [
        ("ADDED", "first"),
        ("ADDED", "second"),
        ("MODIFIED", "second"),
        ("DELETED", "first"),
    ]


def test_watch_with_label_selector_sees_objects_enter_and_leave(
    crd: client.CustomObjectsApi, ns: str
) -> None:
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("marker", {"w": "yes"}))
    thread, events, _ = collect(crd, ns, 3, label_selector="w=yes")
    for _ in range(100):
        if events:
            break
        threading.Event().wait(0.02)
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("other", {"w": "no"}))
    crd.patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "other", {"metadata": {"labels": {"w": "yes"}}}
    )
    crd.patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "marker", {"metadata": {"labels": {"w": "no"}}}
    )
    thread.join(10)
    assert events == [("ADDED", "marker"), ("ADDED", "other"), ("DELETED", "marker")]


def test_watch_resumes_from_a_resource_version(crd: client.CustomObjectsApi, ns: str) -> None:
    created = crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    crd.patch_namespaced_custom_object(*RAY, ns, "rayjobs", "train", {"spec": {"suspend": True}})
    stream = watch.Watch().stream(
        crd.list_namespaced_custom_object,
        *RAY,
        ns,
        "rayjobs",
        resource_version=created["metadata"]["resourceVersion"],
        timeout_seconds=2,
    )
    first = next(stream)
    assert first["type"] == "MODIFIED"
    assert first["object"]["spec"]["suspend"] is True


def test_watch_from_a_compacted_version_gets_410(
    server: SimulatorServer, crd: client.CustomObjectsApi, ns: str
) -> None:
    created = crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    crd.patch_namespaced_custom_object(*RAY, ns, "rayjobs", "train", {"spec": {"suspend": True}})
    # History up to the patch is forgotten; resuming after the create needs the patch event.
    server.call(server.simulator.karmada.compact)
    response = crd.list_namespaced_custom_object(
        *RAY,
        ns,
        "rayjobs",
        watch=True,
        resource_version=created["metadata"]["resourceVersion"],
        timeout_seconds=2,
        _preload_content=False,
    )
    lines = [line for line in response.data.split(b"\n") if line]
    assert len(lines) == 1
    event = orjson.loads(lines[0])
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410
    assert event["object"]["reason"] == "Expired"


def test_watch_times_out_when_asked(crd: client.CustomObjectsApi, ns: str) -> None:
    response = crd.list_namespaced_custom_object(
        *RAY, ns, "rayjobs", watch=True, timeout_seconds=1, _preload_content=False
    )
    assert response.data == b""


def test_bookmarks_when_allowed(
    server: SimulatorServer, crd: client.CustomObjectsApi, ns: str
) -> None:
    crd.create_namespaced_custom_object(*RAY, ns, "rayjobs", rayjob("train"))
    server.api.bookmark_interval = 0.2
    try:
        response = crd.list_namespaced_custom_object(
            *RAY,
            ns,
            "rayjobs",
            watch=True,
            allow_watch_bookmarks=True,
            # Bookmarks stop 2 s before the deadline: a 1 s watch would get none.
            timeout_seconds=3,
            _preload_content=False,
        )
        events = [orjson.loads(line) for line in response.data.split(b"\n") if line]
        plain = crd.list_namespaced_custom_object(
            *RAY, ns, "rayjobs", watch=True, timeout_seconds=1, _preload_content=False
        )
    finally:
        server.api.bookmark_interval = 60.0
    assert events[0]["type"] == "ADDED"
    bookmarks = [e for e in events if e["type"] == "BOOKMARK"]
    assert len(bookmarks) >= 2
    assert set(bookmarks[0]["object"]) == {"kind", "apiVersion", "metadata"}
    assert int(bookmarks[-1]["object"]["metadata"]["resourceVersion"]) >= int(
        events[0]["object"]["metadata"]["resourceVersion"]
    )
    assert b"BOOKMARK" not in plain.data
