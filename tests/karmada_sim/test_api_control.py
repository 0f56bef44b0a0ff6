"""The control API (/sim/v1), injected faults and request counters."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
import urllib3
from api_backend import BareBackend
from api_helpers import api_client
from kubernetes import client
from kubernetes.client.rest import ApiException

from karmada_sim.resources import CONFIGMAP
from karmada_sim.server import SimulatorServer


@pytest.fixture
def core(server: SimulatorServer) -> Iterator[client.CoreV1Api]:
    with api_client(server.url) as api:
        yield client.CoreV1Api(api)
    server.clear_faults()


def test_advance_moves_simulated_time(server: SimulatorServer, bare_backend: BareBackend) -> None:
    before = bare_backend.clock.offset_seconds
    response = httpx.post(f"{server.url}/sim/v1/advance", json={"seconds": 30})
    assert response.status_code == 200
    assert response.json()["offsetSeconds"] == before + 30
    assert bare_backend.advanced[-1] == 30
    bad = httpx.post(f"{server.url}/sim/v1/advance", json={"seconds": -1})
    assert bad.status_code == 400
    assert bad.json()["kind"] == "Status"


def test_cluster_readiness_and_listing(server: SimulatorServer, bare_backend: BareBackend) -> None:
    response = httpx.post(f"{server.url}/sim/v1/clusters/member1/ready", json={"ready": False})
    assert response.json() == {"name": "member1", "ready": False}
    listed = httpx.get(f"{server.url}/sim/v1/clusters").json()["clusters"]
    assert listed == [{"name": "member1", "ready": False}, {"name": "member2", "ready": True}]
    server.set_cluster_ready("member1", True)
    assert bare_backend.members["member1"].ready
    unknown = httpx.post(f"{server.url}/sim/v1/clusters/zzz/ready", json={"ready": True})
    assert unknown.status_code == 404


def test_delete_member_object_behind_karmadas_back(
    server: SimulatorServer, bare_backend: BareBackend, ns: str
) -> None:
    store = bare_backend.store_for("member2")
    server.call(lambda: store.create(CONFIGMAP, {"metadata": {"name": "cfg"}}, namespace=ns))
    response = httpx.request(
        "DELETE",
        f"{server.url}/sim/v1/clusters/member2/objects",
        json={"apiVersion": "v1", "kind": "ConfigMap", "namespace": ns, "name": "cfg"},
    )
    assert response.status_code == 200
    assert server.call(lambda: store.find(CONFIGMAP, ns, "cfg")) is None


def test_injected_error_codes(server: SimulatorServer, core: client.CoreV1Api, ns: str) -> None:
    put = httpx.put(f"{server.url}/sim/v1/faults", json={"errorRate": 1.0, "errorCodes": [429]})
    assert put.json()["errorRate"] == 1.0
    with pytest.raises(ApiException) as throttled:
        core.list_namespaced_config_map(ns)
    assert throttled.value.status == 429
    assert throttled.value.headers["Retry-After"] == "1"
    assert orjson.loads(throttled.value.body)["reason"] == "TooManyRequests"
    # The control API itself is never faulted.
    assert httpx.get(f"{server.url}/sim/v1/stats").status_code == 200
    server.set_faults(error_rate=1.0, error_codes=(503,))
    with pytest.raises(ApiException) as unavailable:
        core.list_namespaced_config_map(ns)
    assert unavailable.value.status == 503
    server.set_faults(error_rate=1.0, error_codes=(500,), paths=("/apis/ray.io",))
    assert core.list_namespaced_config_map(ns).items == []
    httpx.delete(f"{server.url}/sim/v1/faults")
    assert core.list_namespaced_config_map(ns).items == []


def test_error_rate_is_a_rate(server: SimulatorServer, core: client.CoreV1Api, ns: str) -> None:
    server.set_faults(error_rate=0.5, error_codes=(500,), seed=7)
    codes: list[int] = []
    for _ in range(40):
        try:
            core.list_namespaced_config_map(ns)
            codes.append(200)
        except ApiException as exc:
            codes.append(exc.status)
    assert set(codes) == {200, 500}
    assert 8 <= codes.count(500) <= 32


def test_dropped_connections_and_latency(
    server: SimulatorServer, core: client.CoreV1Api, ns: str
) -> None:
    server.set_faults(drop_rate=1.0)
    with pytest.raises(urllib3.exceptions.HTTPError):
        core.list_namespaced_config_map(ns)
    server.set_faults(latency_seconds=0.3)
    started = time.monotonic()
    core.list_namespaced_config_map(ns)
    assert time.monotonic() - started >= 0.3
    assert server.stats()["droppedConnections"] >= 1


def test_bad_fault_documents_are_rejected(server: SimulatorServer) -> None:
    for bad in ({"errorRate": 2}, {"errorCodes": [404]}, {"latencySeconds": "soon"}):
        response = httpx.put(f"{server.url}/sim/v1/faults", json=bad)
        assert response.status_code == 400


def test_stats_count_requests_by_verb_and_resource(
    server: SimulatorServer, core: client.CoreV1Api, ns: str
) -> None:
    httpx.delete(f"{server.url}/sim/v1/stats")
    for _ in range(3):
        core.list_namespaced_config_map(ns)
    with api_client(server.url, cluster="member1") as api:
        client.CoreV1Api(api).list_namespaced_pod(ns)
    stats = httpx.get(f"{server.url}/sim/v1/stats").json()
    assert stats["byRequest"] == {"list configmaps": 3, "list member1/pods": 1}
    assert stats["total"] == 4
    assert stats["byVerb"] == {"list": 4}
