"""Karmada behaviour through the official client: bindings, scheduling, propagation,
aggregated status and write-back, spec changes and deletion."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException
from sim_helpers import (
    CLUSTERS,
    ONE_CLUSTER,
    POLICY,
    RAY,
    WORK,
    binding_clusters,
    condition,
    create,
    get,
    items,
    policy,
    rayjob,
)

from karmada_sim.resources import CLUSTER, RAYJOB
from karmada_sim.server import SimulatorServer

Member = Callable[[str], client.ApiClient]


def submit(
    karmada: client.ApiClient,
    sim: SimulatorServer,
    ns: str,
    name: str,
    *,
    placement: dict[str, Any] | None = None,
    **template: Any,
) -> None:
    """Create a RayJob template and a policy for it, then let the controllers run."""
    create(karmada, RAY, ns, "rayjobs", rayjob(name, **template))
    pp = policy(name, target=name, placement=placement)
    create(karmada, POLICY, ns, "propagationpolicies", pp)
    sim.advance(0)


def test_matching_policy_creates_binding_like_karmada(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(karmada, sim_server, ns, "train", labels={"team": "vision"})

    template = get(karmada, RAY, ns, "rayjobs", "train")
    binding = get(karmada, WORK, ns, "resourcebindings", "train-rayjob")
    pp = get(karmada, POLICY, ns, "propagationpolicies", "train")
    meta = binding["metadata"]
    assert meta["ownerReferences"] == [
        {
            "apiVersion": "ray.io/v1",
            "kind": "RayJob",
            "name": "train",
            "uid": template["metadata"]["uid"],
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]
    assert meta["finalizers"] == ["karmada.io/binding-controller"]
    policy_id = pp["metadata"]["labels"]["propagationpolicy.karmada.io/permanent-id"]
    assert meta["labels"]["propagationpolicy.karmada.io/permanent-id"] == policy_id
    assert len(meta["labels"]["resourcebinding.karmada.io/permanent-id"]) == 36
    assert "team" not in meta["labels"]  # template labels are not copied
    assert meta["annotations"]["propagationpolicy.karmada.io/name"] == "train"
    assert meta["annotations"]["propagationpolicy.karmada.io/namespace"] == ns
    resource = binding["spec"]["resource"]
    assert resource["uid"] == template["metadata"]["uid"]
    assert (resource["apiVersion"], resource["kind"], resource["namespace"], resource["name"]) == (
        "ray.io/v1",
        "RayJob",
        ns,
        "train",
    )
    assert binding["spec"]["placement"] == {"spreadConstraints": ONE_CLUSTER}
    # maxGroups 1: exactly one cluster, no replicas for a RayJob
    assert len(binding["spec"]["clusters"]) == 1
    assert "replicas" not in binding["spec"]["clusters"][0]
    scheduled = condition(binding, "Scheduled")
    assert scheduled is not None
    assert (scheduled["status"], scheduled["reason"]) == ("True", "Success")
    applied = condition(binding, "FullyApplied")
    assert applied is not None
    assert (applied["status"], applied["reason"]) == ("True", "FullyAppliedSuccess")
    # the template is claimed by the policy
    assert template["metadata"]["annotations"]["propagationpolicy.karmada.io/name"] == "train"

    chosen = binding_clusters(binding)[0]
    other = next(c for c in ("member1", "member2") if c != chosen)
    copy = get(member(chosen), RAY, ns, "rayjobs", "train")
    assert copy["metadata"]["labels"]["team"] == "vision"
    assert copy["metadata"]["labels"]["karmada.io/managed"] == "true"
    assert copy["metadata"]["annotations"]["resourcebinding.karmada.io/name"] == "train-rayjob"
    assert copy["spec"] == template["spec"]
    assert items(member(other), RAY, ns, "rayjobs") == []


def test_without_spread_constraint_rayjob_runs_on_every_selected_cluster(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(karmada, sim_server, ns, "twice", placement={})
    binding = get(karmada, WORK, ns, "resourcebindings", "twice-rayjob")
    assert binding["spec"]["clusters"] == [{"name": "member1"}, {"name": "member2"}]
    for name in ("member1", "member2"):
        assert get(member(name), RAY, ns, "rayjobs", "twice")["metadata"]["name"] == "twice"

    sim_server.advance(31)  # both RayClusters ready
    binding = get(karmada, WORK, ns, "resourcebindings", "twice-rayjob")
    aggregated = binding["status"]["aggregatedStatus"]
    assert [a["clusterName"] for a in aggregated] == ["member1", "member2"]
    for entry in aggregated:
        assert entry["applied"] is True
        assert entry["health"] == "Healthy"
        assert entry["status"]["jobDeploymentStatus"] == "Running"
        assert entry["status"]["rayClusterStatus"]["head"]["podName"].startswith("twice-")
    # several clusters: only the ranked fields are written back
    status = get(karmada, RAY, ns, "rayjobs", "twice")["status"]
    assert status["jobDeploymentStatus"] == "Running"
    assert status["jobStatus"] == "PENDING"


def test_single_cluster_status_is_copied_to_the_template(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(
        karmada,
        sim_server,
        ns,
        "copy",
        annotations={"sim.ml-platform.io/duration-seconds": "10"},
    )
    for _ in range(3):
        sim_server.advance(20)
    template = get(karmada, RAY, ns, "rayjobs", "copy")
    cluster = binding_clusters(get(karmada, WORK, ns, "resourcebindings", "copy-rayjob"))[0]
    assert template["status"] == get(member(cluster), RAY, ns, "rayjobs", "copy")["status"]
    assert template["status"]["jobDeploymentStatus"] == "Complete"
    assert template["status"]["jobStatus"] == "SUCCEEDED"


def test_no_matching_policy_means_no_binding_and_nothing_runs(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    create(karmada, RAY, ns, "rayjobs", rayjob("orphan"))
    create(karmada, POLICY, ns, "propagationpolicies", policy("other", target="someone-else"))
    sim_server.advance(100)
    assert items(karmada, WORK, ns, "resourcebindings") == []
    for name in ("member1", "member2"):
        assert items(member(name), RAY, ns, "rayjobs") == []
    assert "status" not in get(karmada, RAY, ns, "rayjobs", "orphan")


def test_policy_created_after_the_template_still_claims_it(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(karmada, RAY, ns, "rayjobs", rayjob("late"))
    sim_server.advance(0)
    create(karmada, POLICY, ns, "propagationpolicies", policy("all-rayjobs"))  # kind-wide
    sim_server.advance(0)
    binding = get(karmada, WORK, ns, "resourcebindings", "late-rayjob")
    assert binding["metadata"]["annotations"]["propagationpolicy.karmada.io/name"] == "all-rayjobs"


def test_highest_priority_policy_wins_then_name(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    create(karmada, POLICY, ns, "propagationpolicies", policy("b-low", target="prio"))
    create(karmada, POLICY, ns, "propagationpolicies", policy("c-high", target="prio", priority=5))
    create(karmada, POLICY, ns, "propagationpolicies", policy("a-high", target="prio", priority=5))
    create(karmada, RAY, ns, "rayjobs", rayjob("prio"))
    sim_server.advance(0)
    binding = get(karmada, WORK, ns, "resourcebindings", "prio-rayjob")
    assert binding["metadata"]["annotations"]["propagationpolicy.karmada.io/name"] == "a-high"


def test_no_cluster_fit_reports_why_like_the_karmada_scheduler(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    placement = {"clusterAffinity": {"clusterNames": ["nowhere"]}, "spreadConstraints": ONE_CLUSTER}
    submit(karmada, sim_server, ns, "stuck", placement=placement)
    binding = get(karmada, WORK, ns, "resourcebindings", "stuck-rayjob")
    scheduled = condition(binding, "Scheduled")
    assert scheduled is not None
    assert (scheduled["status"], scheduled["reason"]) == ("False", "NoClusterFit")
    assert scheduled["message"] == (
        "0/2 clusters are available: "
        "2 cluster(s) did not match the placement cluster affinity constraint."
    )
    assert binding["spec"].get("clusters") is None


@pytest.mark.parametrize(
    ("affinity", "expected"),
    [
        ({"clusterNames": ["member2"]}, ["member2"]),
        ({"exclude": ["member1"]}, ["member2"]),
        (
            {"fieldSelector": {"matchExpressions": [
                {"key": "region", "operator": "In", "values": ["eu-west"]}]}},
            ["member1"],
        ),
        (
            {"fieldSelector": {"matchExpressions": [
                {"key": "zone", "operator": "NotIn", "values": ["a"]}]}},
            ["member2"],
        ),
    ],
)  # fmt: skip
def test_cluster_affinity_filters(
    karmada: client.ApiClient,
    sim_server: SimulatorServer,
    ns: str,
    affinity: dict[str, object],
    expected: list[str],
) -> None:
    submit(karmada, sim_server, ns, "aff", placement={"clusterAffinity": affinity})
    assert binding_clusters(get(karmada, WORK, ns, "resourcebindings", "aff-rayjob")) == expected


def test_cluster_label_selector_affinity(
    karmada: client.ApiClient, sim_server: SimulatorServer, ns: str
) -> None:
    listed = client.CustomObjectsApi(karmada).list_cluster_custom_object(*CLUSTERS, "clusters")
    assert [c["metadata"]["name"] for c in listed["items"]] == ["member1", "member2"]
    sim_server.call(
        lambda: sim_server.simulator.karmada.patch(
            CLUSTER,
            None,
            "member2",
            {"metadata": {"labels": {"gpu": "a100"}}},
            patch_type="merge",
        )
    )
    placement = {"clusterAffinity": {"labelSelector": {"matchLabels": {"gpu": "a100"}}}}
    submit(karmada, sim_server, ns, "gpu", placement=placement)
    assert binding_clusters(get(karmada, WORK, ns, "resourcebindings", "gpu-rayjob")) == ["member2"]


def test_not_ready_cluster_is_avoided_and_stops_reporting(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    sim_server.set_cluster_ready("member1", False)
    cluster = client.CustomObjectsApi(karmada).get_cluster_custom_object(
        *CLUSTERS, "clusters", "member1"
    )
    ready = condition(cluster, "Ready")
    assert ready is not None
    assert (ready["status"], ready["reason"]) == ("False", "ClusterNotReady")
    assert {"key": "cluster.karmada.io/not-ready", "effect": "NoSchedule"}.items() <= (
        cluster["spec"]["taints"][0].items()
    )
    submit(karmada, sim_server, ns, "avoid")
    assert binding_clusters(get(karmada, WORK, ns, "resourcebindings", "avoid-rayjob")) == [
        "member2"
    ]

    # only the NotReady cluster is allowed: unschedulable with the taint as the reason
    placement = {"clusterAffinity": {"clusterNames": ["member1"]}}
    submit(karmada, sim_server, ns, "blocked", placement=placement)
    scheduled = condition(get(karmada, WORK, ns, "resourcebindings", "blocked-rayjob"), "Scheduled")
    assert scheduled is not None
    assert scheduled["message"] == (
        "0/2 clusters are available: 1 cluster(s) did not match the placement cluster affinity "
        "constraint, 1 cluster(s) had untolerated taint "
        "{cluster.karmada.io/not-ready:NoSchedule}."
    )
    # back to Ready: the pending binding gets scheduled
    sim_server.set_cluster_ready("member1", True)
    binding = get(karmada, WORK, ns, "resourcebindings", "blocked-rayjob")
    assert binding_clusters(binding) == ["member1"]
    assert get(member("member1"), RAY, ns, "rayjobs", "blocked")["metadata"]["name"] == "blocked"


def test_status_of_a_not_ready_cluster_is_frozen(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(karmada, sim_server, ns, "frozen")
    cluster = binding_clusters(get(karmada, WORK, ns, "resourcebindings", "frozen-rayjob"))[0]
    sim_server.set_cluster_ready(cluster, False)
    sim_server.advance(31)
    # the member moved on (its proxy answers 503 now), Karmada shows the last collected state
    with pytest.raises(ApiException) as unreachable:
        get(member(cluster), RAY, ns, "rayjobs", "frozen")
    assert unreachable.value.status == 503
    copy = sim_server.call(
        lambda: sim_server.simulator.store_for(cluster).get(RAYJOB, ns, "frozen")
    )
    assert copy["status"]["jobDeploymentStatus"] == "Running"
    binding = get(karmada, WORK, ns, "resourcebindings", "frozen-rayjob")
    assert binding["status"]["aggregatedStatus"][0]["status"]["jobDeploymentStatus"] == (
        "Initializing"
    )
    sim_server.set_cluster_ready(cluster, True)
    binding = get(karmada, WORK, ns, "resourcebindings", "frozen-rayjob")
    assert binding["status"]["aggregatedStatus"][0]["status"]["jobDeploymentStatus"] == "Running"


def test_spec_changes_reach_members(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(karmada, sim_server, ns, "pause", placement={}, shutdownAfterJobFinishes=True)
    sim_server.advance(31)
    client.CustomObjectsApi(karmada).patch_namespaced_custom_object(
        *RAY, ns, "rayjobs", "pause", {"spec": {"suspend": True}}
    )
    sim_server.advance(1)
    for name in ("member1", "member2"):
        copy = get(member(name), RAY, ns, "rayjobs", "pause")
        assert copy["spec"]["suspend"] is True
        assert copy["status"]["jobDeploymentStatus"] == "Suspended"
    status = get(karmada, RAY, ns, "rayjobs", "pause")["status"]
    assert status["jobDeploymentStatus"] == "Suspended"


def test_deleting_the_template_removes_binding_and_member_objects(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(karmada, sim_server, ns, "gone", placement={})
    sim_server.advance(31)
    assert client.CoreV1Api(member("member1")).list_namespaced_pod(ns).items
    client.CustomObjectsApi(karmada).delete_namespaced_custom_object(*RAY, ns, "rayjobs", "gone")
    sim_server.advance(0)
    with pytest.raises(ApiException) as missing:
        get(karmada, WORK, ns, "resourcebindings", "gone-rayjob")
    assert missing.value.status == 404
    for name in ("member1", "member2"):
        assert items(member(name), RAY, ns, "rayjobs") == []
        assert client.CoreV1Api(member(name)).list_namespaced_pod(ns).items == []


def test_member_object_deleted_behind_karmadas_back_is_reapplied(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(karmada, sim_server, ns, "again")
    cluster = binding_clusters(get(karmada, WORK, ns, "resourcebindings", "again-rayjob"))[0]
    before = get(member(cluster), RAY, ns, "rayjobs", "again")["metadata"]["uid"]
    sim_server.delete_member_object(cluster, "ray.io/v1", "RayJob", ns, "again")
    sim_server.advance(0)
    after = get(member(cluster), RAY, ns, "rayjobs", "again")
    assert after["metadata"]["uid"] != before
    assert after["status"]["jobDeploymentStatus"] == "Initializing"


def test_selected_pvc_propagates_and_is_bound(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    core = client.CoreV1Api(karmada)
    core.create_namespaced_persistent_volume_claim(
        ns,
        {
            "metadata": {"name": "data"},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "5Gi"}},
            },
        },
    )
    pp = policy(
        "data",
        kind="PersistentVolumeClaim",
        api_version="v1",
        target="data",
        placement={"clusterAffinity": {"clusterNames": ["member2"]}},
    )
    create(karmada, POLICY, ns, "propagationpolicies", pp)
    sim_server.advance(0)
    claim = client.CoreV1Api(member("member2")).read_namespaced_persistent_volume_claim("data", ns)
    assert claim.status.phase == "Bound"
    binding = get(karmada, WORK, ns, "resourcebindings", "data-persistentvolumeclaim")
    assert binding["status"]["aggregatedStatus"][0]["health"] == "Healthy"
    assert core.read_namespaced_persistent_volume_claim("data", ns).status.phase == "Bound"


def test_propagate_deps_sends_referenced_secrets_along(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    core = client.CoreV1Api(karmada)
    core.create_namespaced_secret(ns, {"metadata": {"name": "creds"}, "stringData": {"k": "v"}})
    body = rayjob("deps")
    head = body["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    head["envFrom"] = [{"secretRef": {"name": "creds"}}]
    create(karmada, RAY, ns, "rayjobs", body)
    pp = policy("deps", target="deps", propagate_deps=True)
    create(karmada, POLICY, ns, "propagationpolicies", pp)
    sim_server.advance(0)
    cluster = binding_clusters(get(karmada, WORK, ns, "resourcebindings", "deps-rayjob"))[0]
    attached = get(karmada, WORK, ns, "resourcebindings", "creds-secret")
    assert attached["spec"]["requiredBy"] == [
        {"namespace": ns, "name": "deps-rayjob", "clusters": [{"name": cluster}]}
    ]
    copy = client.CoreV1Api(member(cluster)).read_namespaced_secret("creds", ns)
    assert copy.metadata.labels["karmada.io/managed"] == "true"
    other = next(c for c in ("member1", "member2") if c != cluster)
    assert client.CoreV1Api(member(other)).list_namespaced_secret(ns).items == []

    client.CustomObjectsApi(karmada).delete_namespaced_custom_object(*RAY, ns, "rayjobs", "deps")
    sim_server.advance(0)
    assert items(karmada, WORK, ns, "resourcebindings") == []
    assert client.CoreV1Api(member(cluster)).list_namespaced_secret(ns).items == []
    assert core.read_namespaced_secret("creds", ns).metadata.name == "creds"


def test_deleting_the_policy_drops_the_claim_but_keeps_the_workload(
    karmada: client.ApiClient, sim_server: SimulatorServer, member: Member, ns: str
) -> None:
    submit(karmada, sim_server, ns, "kept")
    client.CustomObjectsApi(karmada).delete_namespaced_custom_object(
        *POLICY, ns, "propagationpolicies", "kept"
    )
    sim_server.advance(0)
    template = get(karmada, RAY, ns, "rayjobs", "kept")
    assert "propagationpolicy.karmada.io/name" not in (
        template["metadata"].get("annotations") or {}
    )
    assert "propagationpolicy.karmada.io/permanent-id" not in template["metadata"]["labels"]
    binding = get(karmada, WORK, ns, "resourcebindings", "kept-rayjob")
    assert "propagationpolicy.karmada.io/name" not in binding["metadata"]["annotations"]
    cluster = binding_clusters(binding)[0]
    assert get(member(cluster), RAY, ns, "rayjobs", "kept")["metadata"]["name"] == "kept"
    # status keeps flowing back without a policy
    sim_server.advance(31)
    assert get(karmada, RAY, ns, "rayjobs", "kept")["status"]["jobDeploymentStatus"] == "Running"
