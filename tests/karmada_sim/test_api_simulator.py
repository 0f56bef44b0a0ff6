"""The API server wired to the real Simulator, driven only over HTTP (control API included)."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import orjson
import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import POLICY, RAY, WORK, binding_clusters, condition, create, get, policy, rayjob

from karmada_sim.server import SimulatorServer


def bound_rayjob(karmada: client.ApiClient, sim_server: SimulatorServer, ns: str) -> str:
    """Create RayJob "train" with a policy for it, let Karmada bind it; the one cluster chosen."""
    create(karmada, RAY, ns, "rayjobs", rayjob("train"))
    create(karmada, POLICY, ns, "propagationpolicies", policy("train", target="train"))
    httpx.post(f"{sim_server.url}/sim/v1/advance", json={"seconds": 0}).raise_for_status()
    clusters = binding_clusters(get(karmada, WORK, ns, "resourcebindings", "train-rayjob"))
    assert len(clusters) == 1
    return clusters[0]


def test_control_api_drives_a_rayjob_to_completion(
    karmada: client.ApiClient,
    member: Callable[[str], client.ApiClient],
    sim_server: SimulatorServer,
    ns: str,
) -> None:
    cluster = bound_rayjob(karmada, sim_server, ns)
    for _ in range(10):
        response = httpx.post(f"{sim_server.url}/sim/v1/advance", json={"seconds": 30})
        assert response.status_code == 200
        template = get(karmada, RAY, ns, "rayjobs", "train")
        if (template.get("status") or {}).get("jobDeploymentStatus") == "Complete":
            break
    assert template["status"]["jobStatus"] == "SUCCEEDED"
    head = template["status"]["rayClusterStatus"]["head"]["podName"]
    logs = client.CoreV1Api(member(cluster)).read_namespaced_pod_log(head, ns)
    assert logs.strip()


def test_cluster_not_ready_through_the_control_api(
    karmada: client.ApiClient,
    member: Callable[[str], client.ApiClient],
    sim_server: SimulatorServer,
    ns: str,
) -> None:
    name = "member2"
    response = httpx.post(f"{sim_server.url}/sim/v1/clusters/{name}/ready", json={"ready": False})
    assert response.status_code == 200
    httpx.post(f"{sim_server.url}/sim/v1/advance", json={"seconds": 0}).raise_for_status()
    cluster = client.CustomObjectsApi(karmada).get_cluster_custom_object(
        "cluster.karmada.io", "v1alpha1", "clusters", name
    )
    ready = condition(cluster, "Ready")
    assert ready is not None
    assert ready["status"] == "False"
    with pytest.raises(ApiException) as down:
        client.CoreV1Api(member(name)).list_namespaced_pod(ns)
    assert down.value.status == 503


def test_delete_member_object_through_the_control_api(
    karmada: client.ApiClient,
    member: Callable[[str], client.ApiClient],
    sim_server: SimulatorServer,
    ns: str,
) -> None:
    cluster = bound_rayjob(karmada, sim_server, ns)
    crd = client.CustomObjectsApi(member(cluster))
    before = crd.get_namespaced_custom_object(*RAY, ns, "rayjobs", "train")
    response = httpx.request(
        "DELETE",
        f"{sim_server.url}/sim/v1/clusters/{cluster}/objects",
        json={"apiVersion": "ray.io/v1", "kind": "RayJob", "namespace": ns, "name": "train"},
    )
    assert response.status_code == 200, response.text
    # KubeRay's finalizer keeps the deleted RayJob readable while it stops; on a busy machine
    # it may already be gone, and Karmada's execution controller may have created it again
    # (a new uid). What must not happen is the original object living on undeleted.
    alive = [
        item
        for item in crd.list_namespaced_custom_object(*RAY, ns, "rayjobs")["items"]
        if item["metadata"]["uid"] == before["metadata"]["uid"]
    ]
    assert all(item["metadata"].get("deletionTimestamp") for item in alive)


def test_stats_count_a_monitor_style_tick(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    httpx.delete(f"{sim_server.url}/sim/v1/stats").raise_for_status()
    crd = client.CustomObjectsApi(karmada)
    crd.list_cluster_custom_object(*RAY, "rayjobs", label_selector="app=ml", limit=500)
    crd.list_cluster_custom_object(*WORK, "resourcebindings", limit=500)
    stats = orjson.loads(httpx.get(f"{sim_server.url}/sim/v1/stats").content)
    assert stats["byRequest"] == {
        "list rayjobs.ray.io": 1,
        "list resourcebindings.work.karmada.io": 1,
    }
