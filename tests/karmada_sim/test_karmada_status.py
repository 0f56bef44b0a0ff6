"""Status as a client of Karmada sees it: aggregated and written back for each kind, watched
with the official client's Watch, and Cluster objects that report capacity."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from api_helpers import api_client
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
from sim_helpers import (
    CLUSTERS,
    KUBEFLOW,
    POLICY,
    RAY,
    WORK,
    condition,
    create,
    get,
    policy,
    pytorchjob,
    rayjob,
)

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator, Timings

Member = Callable[[str], client.ApiClient]
EVERYWHERE: dict[str, Any] = {}


def test_pytorchjob_on_two_clusters_is_aggregated_and_written_back(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(karmada, KUBEFLOW, ns, "pytorchjobs", pytorchjob("ddp", workers=1))
    pp = policy(
        "ddp", kind="PyTorchJob", api_version="kubeflow.org/v1", target="ddp", placement=EVERYWHERE
    )
    create(karmada, POLICY, ns, "propagationpolicies", pp)
    sim_server.advance(0)
    sim_server.advance(30)
    running = get(karmada, KUBEFLOW, ns, "pytorchjobs", "ddp")["status"]
    assert running["replicaStatuses"] == {"Master": {"active": 2}, "Worker": {"active": 2}}
    assert [(c["type"], c["status"]) for c in running["conditions"]] == [
        ("Created", "True"),
        ("Running", "True"),
    ]
    binding = get(karmada, WORK, ns, "resourcebindings", "ddp-pytorchjob")
    assert [a["health"] for a in binding["status"]["aggregatedStatus"]] == ["Healthy", "Healthy"]
    sim_server.advance(60)
    done = get(karmada, KUBEFLOW, ns, "pytorchjobs", "ddp")["status"]
    succeeded = condition({"status": done}, "Succeeded")
    assert succeeded is not None
    assert succeeded["status"] == "True"
    assert done["replicaStatuses"] == {"Master": {"succeeded": 2}, "Worker": {"succeeded": 2}}
    assert "completionTime" in done


def test_batch_job_template_gets_the_summed_status(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    batch = client.BatchV1Api(karmada)
    batch.create_namespaced_job(
        ns,
        {
            "metadata": {"name": "sweep"},
            "spec": {
                "completions": 2,
                "parallelism": 2,
                "completionMode": "Indexed",
                "template": {
                    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "i"}]}
                },
            },
        },
    )
    pp = policy("sweep", kind="Job", api_version="batch/v1", target="sweep", placement=EVERYWHERE)
    create(karmada, POLICY, ns, "propagationpolicies", pp)
    sim_server.advance(0)
    binding = get(karmada, WORK, ns, "resourcebindings", "sweep-job")
    assert binding["spec"]["clusters"] == [
        {"name": "member1", "replicas": 2},
        {"name": "member2", "replicas": 2},
    ]
    assert batch.read_namespaced_job("sweep", ns).status.active == 4
    sim_server.advance(90)
    status = batch.read_namespaced_job("sweep", ns).status
    assert status.succeeded == 4
    assert [c.type for c in status.conditions] == ["Complete", "SuccessCriteriaMet"]
    assert status.completion_time is not None


def test_watch_sees_the_written_back_status_change(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(karmada, RAY, ns, "rayjobs", rayjob("watched"))
    create(karmada, POLICY, ns, "propagationpolicies", policy("watched", target="watched"))
    sim_server.advance(0)
    seen: list[str] = []
    started = threading.Event()
    done = threading.Event()

    def follow() -> None:
        stream = watch.Watch().stream(
            client.CustomObjectsApi(karmada).list_namespaced_custom_object,
            *RAY,
            ns,
            "rayjobs",
            timeout_seconds=10,
        )
        for event in stream:
            state = (event["object"].get("status") or {}).get("jobDeploymentStatus", "")
            seen.append(f"{event['type']}:{state}")
            started.set()
            if state == "Complete":
                break
        done.set()

    reader = threading.Thread(target=follow, daemon=True)
    reader.start()
    assert started.wait(10)
    sim_server.advance(100)
    assert done.wait(10)
    reader.join(5)
    assert seen[0] == "ADDED:Initializing"
    assert "MODIFIED:Running" in seen
    assert seen[-1] == "MODIFIED:Complete"


def test_clusters_report_readiness_and_allocated_resources(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    custom = client.CustomObjectsApi(karmada)
    before = custom.get_cluster_custom_object(*CLUSTERS, "clusters", "member1")
    assert before["spec"]["syncMode"] == "Push"
    assert (before["spec"]["region"], before["spec"]["zones"]) == ("eu-west", ["a"])
    ready = condition(before, "Ready")
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("True", "ClusterReady")
    assert before["status"]["kubernetesVersion"].startswith("v1.")
    assert before["status"]["resourceSummary"]["allocated"]["pods"] == "0"
    body = rayjob("load")
    head = body["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["resources"] = {"requests": {"cpu": "2", "memory": "4Gi"}}
    create(member("member1"), RAY, ns, "rayjobs", body)
    sim_server.advance(0)
    sim_server.call(lambda: sim_server.simulator._refresh_summaries(force=True))
    after = custom.get_cluster_custom_object(*CLUSTERS, "clusters", "member1")
    allocated = after["status"]["resourceSummary"]["allocated"]
    assert allocated["pods"] == "2"
    assert allocated["cpu"] == "2"
    assert allocated["memory"] == "4096Mi"


def test_deleting_while_a_cluster_is_not_ready_waits_for_it(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    create(karmada, RAY, ns, "rayjobs", rayjob("wait"))
    pp = policy("wait", target="wait", placement={"clusterAffinity": {"clusterNames": ["member1"]}})
    create(karmada, POLICY, ns, "propagationpolicies", pp)
    sim_server.advance(0)
    sim_server.set_cluster_ready("member1", False)
    client.CustomObjectsApi(karmada).delete_namespaced_custom_object(*RAY, ns, "rayjobs", "wait")
    sim_server.advance(0)
    pending = get(karmada, WORK, ns, "resourcebindings", "wait-rayjob")
    assert pending["metadata"]["deletionTimestamp"]
    assert pending["metadata"]["finalizers"] == ["karmada.io/binding-controller"]
    sim_server.set_cluster_ready("member1", True)
    with pytest.raises(ApiException) as gone:
        get(karmada, WORK, ns, "resourcebindings", "wait-rayjob")
    assert gone.value.status == 404
    with pytest.raises(ApiException) as member_gone:
        get(member("member1"), RAY, ns, "rayjobs", "wait")
    assert member_gone.value.status == 404


def test_without_advancing_time_jobs_progress_on_the_wall_clock(ns: str) -> None:
    fast = Timings(initializing_seconds=0.2, pending_seconds=0.1, running_seconds=0.3)
    simulator = Simulator([ClusterSpec.parse("member1")], timings=fast, seed=11)
    with SimulatorServer(simulator) as server, api_client(server.url) as karmada:
        server.create_namespace(ns)
        create(karmada, RAY, ns, "rayjobs", rayjob("wall"))
        create(karmada, POLICY, ns, "propagationpolicies", policy("wall", target="wall"))
        deadline = time.monotonic() + 10
        state = None
        while time.monotonic() < deadline:
            state = (get(karmada, RAY, ns, "rayjobs", "wall").get("status") or {}).get(
                "jobDeploymentStatus"
            )
            if state == "Complete":
                break
            time.sleep(0.05)
        assert state == "Complete"
