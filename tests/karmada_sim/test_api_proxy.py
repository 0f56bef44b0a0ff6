"""The Karmada cluster proxy and pod logs, through the official kubernetes client."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
from api_backend import BareBackend
from api_helpers import api_client
from kubernetes import client
from kubernetes.client.rest import ApiException

from karmada_sim.resources import POD
from karmada_sim.server import SimulatorServer


@pytest.fixture
def member(server: SimulatorServer) -> Iterator[client.CoreV1Api]:
    with api_client(server.url, cluster="member1") as api:
        yield client.CoreV1Api(api)


def make_pod(core: client.CoreV1Api, ns: str, name: str, containers: list[str]) -> None:
    spec = client.V1PodSpec(containers=[client.V1Container(name=c, image="x") for c in containers])
    core.create_namespaced_pod(ns, client.V1Pod(metadata=client.V1ObjectMeta(name=name), spec=spec))


def test_proxy_reaches_the_member_store_only(
    server: SimulatorServer, member: client.CoreV1Api, ns: str
) -> None:
    make_pod(member, ns, "head", ["ray-head"])
    assert [p.metadata.name for p in member.list_namespaced_pod(ns).items] == ["head"]
    with api_client(server.url) as karmada_api:
        assert client.CoreV1Api(karmada_api).list_namespaced_pod(ns).items == []
    with api_client(server.url, cluster="member2") as other:
        assert client.CoreV1Api(other).list_namespaced_pod(ns).items == []


def test_unknown_and_not_ready_clusters(server: SimulatorServer, ns: str) -> None:
    with api_client(server.url, cluster="nowhere") as api, pytest.raises(ApiException) as unknown:
        client.CoreV1Api(api).list_namespaced_pod(ns)
    assert unknown.value.status == 404
    assert orjson.loads(unknown.value.body)["message"] == (
        'clusters.cluster.karmada.io "nowhere" not found'
    )
    response = httpx.post(f"{server.url}/sim/v1/clusters/member2/ready", json={"ready": False})
    assert response.status_code == 200
    try:
        with api_client(server.url, cluster="member2") as api:
            with pytest.raises(ApiException) as down:
                client.CoreV1Api(api).list_namespaced_pod(ns)
            assert down.value.status == 503
            assert orjson.loads(down.value.body)["reason"] == "ServiceUnavailable"
    finally:
        server.set_cluster_ready("member2", True)


def test_pod_log_options(
    server: SimulatorServer, bare_backend: BareBackend, member: client.CoreV1Api, ns: str
) -> None:
    make_pod(member, ns, "head", ["ray-head"])
    server.call(lambda: bare_backend.add_log("member1", ns, "head", "ray-head", "starting"))
    server.advance(120)
    for line in ("epoch 1", "epoch 2"):
        server.call(lambda line=line: bare_backend.add_log("member1", ns, "head", "ray-head", line))
    assert member.read_namespaced_pod_log("head", ns) == "starting\nepoch 1\nepoch 2\n"
    assert member.read_namespaced_pod_log("head", ns, tail_lines=1) == "epoch 2\n"
    assert member.read_namespaced_pod_log("head", ns, since_seconds=60) == "epoch 1\nepoch 2\n"
    assert member.read_namespaced_pod_log("head", ns, limit_bytes=5) == "start"
    stamped = member.read_namespaced_pod_log("head", ns, timestamps=True, tail_lines=1)
    stamp, text = stamped.rstrip("\n").split(" ", 1)
    assert text == "epoch 2"
    assert stamp.endswith("Z")
    assert len(stamp) == len("2026-11-26T05:00:00.000000000Z")
    with pytest.raises(ApiException) as missing:
        member.read_namespaced_pod_log("nope", ns)
    assert missing.value.status == 404


def test_multi_container_pod_needs_a_container(
    server: SimulatorServer, bare_backend: BareBackend, member: client.CoreV1Api, ns: str
) -> None:
    make_pod(member, ns, "train-master-0", ["pytorch", "sidecar"])
    server.call(
        lambda: bare_backend.add_log("member1", ns, "train-master-0", "pytorch", "loss 0.1")
    )
    with pytest.raises(ApiException) as ambiguous:
        member.read_namespaced_pod_log("train-master-0", ns)
    assert ambiguous.value.status == 400
    assert orjson.loads(ambiguous.value.body)["message"] == (
        "a container name must be specified for pod train-master-0, choose one of: "
        "[pytorch sidecar]"
    )
    assert member.read_namespaced_pod_log("train-master-0", ns, container="pytorch") == (
        "loss 0.1\n"
    )


def test_follow_streams_until_the_pod_finishes(
    server: SimulatorServer, bare_backend: BareBackend, member: client.CoreV1Api, ns: str
) -> None:
    make_pod(member, ns, "worker", ["main"])
    server.call(lambda: bare_backend.add_log("member1", ns, "worker", "main", "line 0"))
    chunks: list[bytes] = []

    def follow() -> None:
        response = member.read_namespaced_pod_log("worker", ns, follow=True, _preload_content=False)
        for chunk in response.stream(64):
            chunks.append(chunk)

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    deadline = time.monotonic() + 5
    while not chunks and time.monotonic() < deadline:
        time.sleep(0.02)
    for i in (1, 2):
        server.call(lambda i=i: bare_backend.add_log("member1", ns, "worker", "main", f"line {i}"))
    time.sleep(0.3)
    store = bare_backend.store_for("member1")
    server.call(lambda: store.update_status(POD, ns, "worker", {"phase": "Succeeded"}))
    reader.join(5)
    assert not reader.is_alive()
    assert b"".join(chunks) == b"line 0\nline 1\nline 2\n"
