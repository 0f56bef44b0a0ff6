"""Conformance of the Karmada control plane: dependency propagation per kind and release,
status write-back per release, the PropagationPolicy finalizer, scheduler tie-breaking and
failover.

Each test talks to the simulator over HTTP with the official client and cites the upstream
karmada-io/karmada source (tag v1.18.2 unless said otherwise) it was written from.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from api_helpers import api_client
from kubernetes import client
from sim_helpers import POLICY, WORK, binding_clusters, create, get, items, policy, rayjob

from karmada_sim.server import SimulatorServer
from karmada_sim.simulator import ClusterSpec, Simulator

KUBEFLOW_V1 = ("kubeflow.org", "v1")
KUBEFLOW_V2 = ("kubeflow.org", "v2beta1")
BATCH = ("batch", "v1")
RAY = ("ray.io", "v1")


def pod(claim: str) -> dict[str, Any]:
    """A pod template whose volume names the PVC `claim`."""
    return {
        "spec": {
            "restartPolicy": "Never",
            "containers": [
                {
                    "name": "main",
                    "image": "busybox",
                    "volumeMounts": [{"name": "data", "mountPath": "/data"}],
                }
            ],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
        }
    }


def workload(kind: str, name: str, claim: str) -> tuple[tuple[str, str], str, dict[str, Any]]:
    """(group/version, plural, manifest) of a `kind` whose pods mount the PVC `claim`."""
    meta = {"name": name}
    if kind == "RayJob":
        body = rayjob(name)
        body["spec"]["rayClusterSpec"]["headGroupSpec"]["template"] = pod(claim)
        return RAY, "rayjobs", body
    if kind == "PyTorchJob":
        spec = {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": pod(claim)}}}
        return (
            KUBEFLOW_V1,
            "pytorchjobs",
            {"apiVersion": "kubeflow.org/v1", "kind": kind, "metadata": meta, "spec": spec},
        )
    if kind == "TFJob":
        spec = {"tfReplicaSpecs": {"Worker": {"replicas": 1, "template": pod(claim)}}}
        return (
            KUBEFLOW_V1,
            "tfjobs",
            {"apiVersion": "kubeflow.org/v1", "kind": kind, "metadata": meta, "spec": spec},
        )
    if kind == "MPIJob":
        spec = {
            "slotsPerWorker": 1,
            "mpiReplicaSpecs": {
                "Launcher": {"replicas": 1, "template": pod(claim)},
                "Worker": {"replicas": 1, "template": pod(claim)},
            },
        }
        return (
            KUBEFLOW_V2,
            "mpijobs",
            {"apiVersion": "kubeflow.org/v2beta1", "kind": kind, "metadata": meta, "spec": spec},
        )
    spec = {"template": pod(claim)}
    return BATCH, "jobs", {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": spec}


def claim(name: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }


class Karmada:
    """A simulator of one Karmada release with two member clusters and one namespace."""

    def __init__(self, server: SimulatorServer, api: client.ApiClient, ns: str) -> None:
        self.server, self.api, self.ns = server, api, ns

    def member(self, name: str) -> client.ApiClient:
        return api_client(self.server.url, cluster=name)


@pytest.fixture
def release(request: pytest.FixtureRequest) -> Iterator[Karmada]:
    """`@pytest.mark.parametrize("release", ["1.15"], indirect=True)` picks the release."""
    version = getattr(request, "param", "1.18")
    ns = f"t-{uuid.uuid4().hex[:8]}"
    simulator = Simulator(
        [ClusterSpec.parse("member1@eu-west/a"), ClusterSpec.parse("member2@us-east/b")],
        seed=3,
        namespaces=[ns],
        karmada_version=version,
    )
    with SimulatorServer(simulator) as server, api_client(server.url) as api:
        yield Karmada(server, api, ns)


def pvc_names(api: client.ApiClient, ns: str) -> list[str]:
    return [
        c.metadata.name
        for c in client.CoreV1Api(api).list_namespaced_persistent_volume_claim(ns).items
    ]


# -- dependencies ------------------------------------------------------------------------

DEPENDENCY_CASES = [
    # (kind, release, does the PVC follow the workload?)
    ("Job", "1.12", True),
    ("Job", "1.18", True),
    ("RayJob", "1.15", False),
    ("RayJob", "1.16", True),
    ("PyTorchJob", "1.15", False),
    ("PyTorchJob", "1.18", True),
    ("TFJob", "1.15", False),
    ("TFJob", "1.16", True),
    ("MPIJob", "1.16", False),
    ("MPIJob", "1.18", False),
]


@pytest.mark.parametrize(
    ("kind", "release", "follows"),
    DEPENDENCY_CASES,
    indirect=["release"],
    ids=[f"{k}-{v}" for k, v, _ in DEPENDENCY_CASES],
)
def test_propagate_deps_follows_only_what_the_interpreter_declares(
    kind: str, release: Karmada, follows: bool
) -> None:
    """With `propagateDeps: true` a workload's PVC gets an attached binding whose
    `spec.requiredBy` names the workload's binding, and lands on its cluster — only when the
    kind's interpreter has a dependencyInterpretation: batch/v1 Job natively in every release
    (pkg/resourceinterpreter/default/native/dependencies.go getJobDependencies); RayJob,
    PyTorchJob and TFJob through the third-party customizations first shipped in v1.16.0
    (resourcecustomizations/{ray.io/v1/RayJob,kubeflow.org/v1/PyTorchJob,kubeflow.org/v1/
    TFJob}/customizations.yaml); MPIJob's customization has none
    (kubeflow.org/v2beta1/MPIJob/customizations.yaml: no dependencyInterpretation)."""
    k, ns = release, release.ns
    client.CoreV1Api(k.api).create_namespaced_persistent_volume_claim(ns, claim("data"))
    group_version, plural, body = workload(kind, "train", "data")
    create(k.api, group_version, ns, plural, body)
    pp = policy(
        "train",
        kind=kind,
        api_version=body["apiVersion"],
        target="train",
        placement={"clusterAffinity": {"clusterNames": ["member2"]}},
        propagate_deps=True,
    )
    create(k.api, POLICY, ns, "propagationpolicies", pp)
    k.server.advance(0)
    assert binding_clusters(get(k.api, WORK, ns, "resourcebindings", f"train-{kind.lower()}")) == [
        "member2"
    ]
    bindings = {b["metadata"]["name"]: b for b in items(k.api, WORK, ns, "resourcebindings")}
    with k.member("member2") as member2, k.member("member1") as member1:
        if follows:
            attached = bindings["data-persistentvolumeclaim"]
            assert attached["spec"]["requiredBy"] == [
                {
                    "namespace": ns,
                    "name": f"train-{kind.lower()}",
                    "clusters": [{"name": "member2"}],
                }
            ]
            assert pvc_names(member2, ns) == ["data"]
        else:
            assert "data-persistentvolumeclaim" not in bindings
            assert pvc_names(member2, ns) == []
        assert pvc_names(member1, ns) == []


# -- status write-back -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("release", "written_back"), [("1.15", False), ("1.16", True)], indirect=["release"]
)
def test_rayjob_status_is_written_back_from_karmada_1_16(
    release: Karmada, written_back: bool
) -> None:
    """The RayJob statusAggregation and healthInterpretation ship with the third-party
    customizations of v1.16.0 (resourcecustomizations/ray.io/v1/RayJob/customizations.yaml).
    Before, the kind has no interpreter: the status controller still reflects the member's
    whole status into `aggregatedStatus` (default ReflectStatus) but health is Unknown and
    the template's status is left alone."""
    k, ns = release, release.ns
    create(k.api, RAY, ns, "rayjobs", rayjob("train"))
    create(k.api, POLICY, ns, "propagationpolicies", policy("train", target="train"))
    k.server.advance(0)
    k.server.advance(600)
    binding = get(k.api, WORK, ns, "resourcebindings", "train-rayjob")
    item = binding["status"]["aggregatedStatus"][0]
    assert item["status"]["jobDeploymentStatus"]
    template = get(k.api, RAY, ns, "rayjobs", "train")
    if written_back:
        assert item["health"] in ("Healthy", "Unhealthy")
        assert template["status"]["jobDeploymentStatus"] == item["status"]["jobDeploymentStatus"]
    else:
        assert item["health"] == "Unknown"
        assert not template.get("status")


# -- the PropagationPolicy finalizer -----------------------------------------------------


def test_deleted_policy_is_held_by_its_finalizer_until_claims_are_released(
    release: Karmada,
) -> None:
    """Karmada's PropagationPolicy mutating webhook adds the permanent-id label and the
    finalizer `karmada.io/propagation-policy-controller` on create
    (pkg/webhook/propagationpolicy/mutating.go; pkg/util/constants.go). A delete only sets
    deletionTimestamp; the detector's ReconcilePropagationPolicy -> handlePolicyDeletion
    removes the claim (permanent-id label, name/namespace annotations) from the templates
    and bindings it claimed, keeps the bindings and their workloads, then drops the
    finalizer (pkg/detector/detector.go)."""
    k, ns = release, release.ns
    crd = client.CustomObjectsApi(k.api)
    create(k.api, RAY, ns, "rayjobs", rayjob("train"))
    created = create(k.api, POLICY, ns, "propagationpolicies", policy("train", target="train"))
    assert created["metadata"]["finalizers"] == ["karmada.io/propagation-policy-controller"]
    policy_id = created["metadata"]["labels"]["propagationpolicy.karmada.io/permanent-id"]
    k.server.advance(0)
    template = get(k.api, RAY, ns, "rayjobs", "train")
    assert template["metadata"]["labels"]["propagationpolicy.karmada.io/permanent-id"] == (
        policy_id
    )

    deleting = crd.delete_namespaced_custom_object(*POLICY, ns, "propagationpolicies", "train")
    assert deleting["metadata"]["deletionTimestamp"]
    assert deleting["metadata"]["finalizers"] == ["karmada.io/propagation-policy-controller"]
    k.server.advance(0)
    assert [p["metadata"]["name"] for p in items(k.api, POLICY, ns, "propagationpolicies")] == []
    template = get(k.api, RAY, ns, "rayjobs", "train")
    assert "propagationpolicy.karmada.io/permanent-id" not in template["metadata"]["labels"]
    assert "propagationpolicy.karmada.io/name" not in (
        template["metadata"].get("annotations") or {}
    )
    binding = get(k.api, WORK, ns, "resourcebindings", "train-rayjob")
    assert "propagationpolicy.karmada.io/permanent-id" not in binding["metadata"]["labels"]
    with k.member(binding_clusters(binding)[0]) as member:
        assert get(member, RAY, ns, "rayjobs", "train")["metadata"]["name"] == "train"


# -- scheduler ---------------------------------------------------------------------------


def allocated_pods(api: client.ApiClient, cluster: str) -> int:
    obj = client.CustomObjectsApi(api).get_cluster_custom_object(
        "cluster.karmada.io", "v1alpha1", "clusters", cluster
    )
    return int(obj["status"]["resourceSummary"]["allocated"]["pods"])


def run_and_summarise(k: Karmada) -> None:
    """Let pods start, then let the cluster status controller refresh resourceSummary."""
    k.server.advance(40)
    time.sleep(1.1)  # resource summaries are refreshed at most once a wall second
    k.server.advance(0)


def test_scheduler_ties_break_by_available_replicas_then_name(release: Karmada) -> None:
    """Karmada orders feasible clusters by score (ClusterLocality: 100 for a cluster the
    binding is already on; ClusterAffinity: 0), then by available replicas, then by name
    (pkg/scheduler/core/spreadconstraint/util.go sortClusters, group_clusters.go
    generateClustersInfo); `spreadByField: cluster, maxGroups: 1` takes the first
    (select_clusters_by_cluster.go). Available replicas without replica requirements are the
    pods the Cluster's resourceSummary still allows (pkg/estimator/client/general.go
    maxAvailableReplicas). The count of bindings already on a cluster plays no part."""
    k, ns = release, release.ns

    def place(name: str, workers: int) -> str:
        create(k.api, RAY, ns, "rayjobs", rayjob(name, workers=workers))
        create(k.api, POLICY, ns, "propagationpolicies", policy(name, target=name))
        k.server.advance(0)
        [cluster] = binding_clusters(get(k.api, WORK, ns, "resourcebindings", f"{name}-rayjob"))
        return cluster

    assert place("big", workers=3) == "member1"  # equal room: by name
    run_and_summarise(k)
    assert place("small", workers=1) == "member2"  # more room left
    run_and_summarise(k)
    assert allocated_pods(k.api, "member1") > allocated_pods(k.api, "member2") > 0
    # One binding on each cluster: still the one with more room, not "fewest bindings".
    assert place("third", workers=1) == "member2"


# -- failover ----------------------------------------------------------------------------


@pytest.fixture
def failover() -> Iterator[Karmada]:
    """Karmada with the Failover feature gate on."""
    ns = f"t-{uuid.uuid4().hex[:8]}"
    simulator = Simulator(
        [ClusterSpec.parse("member1@eu-west/a"), ClusterSpec.parse("member2@us-east/b")],
        seed=3,
        namespaces=[ns],
        failover=True,
    )
    with SimulatorServer(simulator) as server, api_client(server.url) as api:
        yield Karmada(server, api, ns)


def test_without_failover_a_not_ready_cluster_keeps_its_workloads(release: Karmada) -> None:
    """The Failover feature gate is off by default (pkg/features/features.go: `Failover:
    {Default: false}`) and the cluster controller only adds the NoSchedule not-ready taint
    (pkg/controllers/cluster/cluster_controller.go NotReadyTaintTemplateForSched): a
    workload stays scheduled to a NotReady cluster."""
    k, ns = release, release.ns
    create(k.api, RAY, ns, "rayjobs", rayjob("train"))
    create(k.api, POLICY, ns, "propagationpolicies", policy("train", target="train"))
    k.server.advance(0)
    k.server.set_cluster_ready("member1", False)
    k.server.advance(700)
    binding = get(k.api, WORK, ns, "resourcebindings", "train-rayjob")
    assert binding_clusters(binding) == ["member1"]
    assert "gracefulEvictionTasks" not in binding["spec"]


def test_failover_evicts_gracefully_to_another_cluster(failover: Karmada) -> None:
    """With Failover on and a NoExecute taint on the NotReady cluster (as a ClusterTaintPolicy
    adds it), the taint manager removes the cluster from `spec.clusters` and records a
    graceful eviction task {fromCluster, reason: TaintUntolerated, producer: TaintManager}
    (pkg/controllers/cluster/taint_manager.go; work/v1alpha2 well_known_constants.go); the
    ClusterEviction filter keeps the scheduler off that cluster; the graceful eviction
    controller drops the task once the new clusters report Healthy
    (pkg/controllers/gracefuleviction/evictiontask.go), after which the old copy is removed
    when the cluster can be reached again."""
    k, ns = failover, failover.ns
    create(k.api, RAY, ns, "rayjobs", rayjob("train"))
    create(k.api, POLICY, ns, "propagationpolicies", policy("train", target="train"))
    k.server.advance(0)
    assert binding_clusters(get(k.api, WORK, ns, "resourcebindings", "train-rayjob")) == ["member1"]
    k.server.set_cluster_ready("member1", False)
    k.server.advance(0)
    binding = get(k.api, WORK, ns, "resourcebindings", "train-rayjob")
    assert binding_clusters(binding) == ["member2"]
    [task] = binding["spec"]["gracefulEvictionTasks"]
    assert (task["fromCluster"], task["reason"], task["producer"]) == (
        "member1",
        "TaintUntolerated",
        "TaintManager",
    )
    with k.member("member2") as member2:
        assert get(member2, RAY, ns, "rayjobs", "train")["metadata"]["name"] == "train"
    k.server.advance(60)  # the new copy runs: Healthy
    binding = get(k.api, WORK, ns, "resourcebindings", "train-rayjob")
    assert binding["status"]["aggregatedStatus"][0]["health"] == "Healthy"
    assert "gracefulEvictionTasks" not in binding["spec"]
    k.server.set_cluster_ready("member1", True)
    k.server.advance(0)
    with k.member("member1") as member1:
        assert items(member1, RAY, ns, "rayjobs") == []
