"""Karmada's status interpreters (health, aggregation ranks) and the scheduler's filters, as
pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from karmada_sim import interpreters
from karmada_sim.resources import JOB, PVC, PYTORCHJOB, RAYJOB, SECRET
from karmada_sim.scheduler import label_selector_matches, schedule

NOW = "2026-11-26T05:00:00Z"


def item(cluster: str, status: dict[str, Any]) -> dict[str, Any]:
    return {"clusterName": cluster, "status": status, "applied": True}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"jobDeploymentStatus": "Running", "jobStatus": "RUNNING"}, "Healthy"),
        ({"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED"}, "Healthy"),
        ({"jobDeploymentStatus": "Complete", "jobStatus": "STOPPED"}, "Unhealthy"),
        ({"jobDeploymentStatus": "Initializing"}, "Unhealthy"),
        ({"jobDeploymentStatus": "Failed", "jobStatus": "FAILED"}, "Unhealthy"),
        (None, "Unhealthy"),
    ],
)
def test_rayjob_health(status: dict[str, Any] | None, expected: str) -> None:
    assert interpreters.health(RAYJOB, status) == expected


def test_other_health_rules() -> None:
    failed = {"conditions": [{"type": "Failed", "status": "True"}]}
    running = {"conditions": [{"type": "Running", "status": "True"}]}
    assert interpreters.health(PYTORCHJOB, failed) == "Unhealthy"
    assert interpreters.health(PYTORCHJOB, running) == "Healthy"
    assert interpreters.health(PYTORCHJOB, {}) == "Unhealthy"
    assert interpreters.health(PVC, {"phase": "Bound"}) == "Healthy"
    assert interpreters.health(PVC, {"phase": "Pending"}) == "Unhealthy"
    assert interpreters.health(JOB, {"active": 1}) == "Unknown"  # Karmada has no Job rule


def test_rayjob_single_cluster_status_is_copied() -> None:
    member = {"jobDeploymentStatus": "Running", "jobStatus": "RUNNING", "jobId": "x-abcde"}
    template = {"status": {"jobDeploymentStatus": "Initializing", "old": 1}}
    assert interpreters.aggregate(RAYJOB, template, [item("m1", member)], now=NOW) == member


def test_rayjob_several_clusters_highest_rank_wins() -> None:
    items = [
        item(
            "m1", {"jobDeploymentStatus": "Complete", "jobStatus": "SUCCEEDED", "message": "done"}
        ),
        item("m2", {"jobDeploymentStatus": "Running", "jobStatus": "RUNNING", "jobId": "y"}),
    ]
    result = interpreters.aggregate(RAYJOB, {"status": {"startTime": "t"}}, items, now=NOW)
    assert result == {
        "startTime": "t",
        "jobDeploymentStatus": "Complete",
        "jobStatus": "SUCCEEDED",
        "message": "done",
    }
    items.append(
        item("m3", {"jobDeploymentStatus": "Failed", "jobStatus": "FAILED", "reason": "AppFailed"})
    )
    result = interpreters.aggregate(RAYJOB, {}, items, now=NOW)
    assert result is not None
    assert (result["jobDeploymentStatus"], result["jobStatus"], result["reason"]) == (
        "Failed",
        "FAILED",
        "AppFailed",
    )


def test_no_items_leave_the_status_alone() -> None:
    assert interpreters.aggregate(RAYJOB, {"status": {"a": 1}}, [], now=NOW) is None
    assert interpreters.aggregate(SECRET, {}, [item("m1", {})], now=NOW) is None


def kubeflow_status(*conditions: str, **replicas: dict[str, int]) -> dict[str, Any]:
    return {
        "startTime": f"2026-11-26T05:00:0{len(conditions)}Z",
        "replicaStatuses": replicas,
        "conditions": [{"type": c, "status": "True"} for c in conditions],
    }


def test_pytorchjob_aggregation_sums_and_orders_conditions() -> None:
    items = [
        item(
            "m1", kubeflow_status("Created", "Running", Master={"active": 1}, Worker={"active": 2})
        ),
        item("m2", kubeflow_status("Created", Master={"active": 1})),
    ]
    result = interpreters.aggregate(PYTORCHJOB, {}, items, now=NOW)
    assert result is not None
    assert result["replicaStatuses"] == {"Master": {"active": 2}, "Worker": {"active": 2}}
    assert result["startTime"] == "2026-11-26T05:00:01Z"
    assert [(c["type"], c["status"]) for c in result["conditions"]] == [
        ("Created", "True"),
        ("Running", "True"),
    ]
    items[1] = item("m2", kubeflow_status("Created", "Failed", Master={"failed": 1}))
    result = interpreters.aggregate(PYTORCHJOB, {}, items, now=NOW)
    assert result is not None
    assert [(c["type"], c["status"]) for c in result["conditions"]] == [
        ("Created", "True"),
        ("Running", "False"),
        ("Failed", "True"),
    ]
    assert result["conditions"][2]["message"].endswith("member clusters: m2")


def test_batch_job_aggregation_like_parsing_job_status() -> None:
    complete = {
        "succeeded": 2,
        "startTime": "2026-11-26T05:00:00Z",
        "completionTime": "2026-11-26T05:02:00Z",
        "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True"},
            {"type": "Complete", "status": "True"},
        ],
    }
    running = {"active": 1, "startTime": "2026-11-26T05:00:05Z"}
    partial = interpreters.aggregate(JOB, {}, [item("a", complete), item("b", running)], now=NOW)
    assert partial == {
        "active": 1,
        "succeeded": 2,
        "startTime": "2026-11-26T05:00:00Z",
    }
    done = interpreters.aggregate(JOB, {}, [item("a", complete), item("b", complete)], now=NOW)
    assert done is not None
    assert [c["type"] for c in done["conditions"]] == ["Complete", "SuccessCriteriaMet"]
    assert done["completionTime"] == "2026-11-26T05:02:00Z"
    # a finished template is never updated again
    assert interpreters.aggregate(JOB, {"status": done}, [item("a", running)], now=NOW) is None


def cluster(
    name: str,
    *,
    region: str = "",
    labels: dict[str, str] | None = None,
    ready: bool = True,
    free_pods: int | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"region": region, "zones": ["a"]}
    if not ready:
        spec["taints"] = [{"key": "cluster.karmada.io/not-ready", "effect": "NoSchedule"}]
    obj: dict[str, Any] = {"metadata": {"name": name, "labels": labels or {}}, "spec": spec}
    if free_pods is not None:
        obj["status"] = {
            "resourceSummary": {
                "allocatable": {"pods": "110"},
                "allocated": {"pods": str(110 - free_pods)},
                "allocating": {"pods": "0"},
            }
        }
    return obj


def test_label_selector_grammar() -> None:
    labels = {"tier": "gpu", "zone": "a"}
    assert label_selector_matches({"matchLabels": {"tier": "gpu"}}, labels)
    assert not label_selector_matches({"matchLabels": {"tier": "cpu"}}, labels)
    expressions = [
        ({"key": "zone", "operator": "In", "values": ["a", "b"]}, True),
        ({"key": "zone", "operator": "NotIn", "values": ["a"]}, False),
        ({"key": "missing", "operator": "NotIn", "values": ["a"]}, True),
        ({"key": "tier", "operator": "Exists"}, True),
        ({"key": "tier", "operator": "DoesNotExist"}, False),
    ]
    for expression, expected in expressions:
        assert label_selector_matches({"matchExpressions": [expression]}, labels) is expected
    assert label_selector_matches(None, labels)


def test_schedule_spread_affinities_and_tolerations() -> None:
    clusters = [cluster("a", region="eu"), cluster("b", region="eu"), cluster("c", region="us")]
    assert schedule({}, clusters).clusters == ("a", "b", "c")
    one = {"spreadConstraints": [{"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}]}
    assert schedule(one, clusters).clusters == ("a",)  # a tie: by name
    loaded = [
        cluster("a", region="eu", free_pods=10),
        cluster("b", region="eu", free_pods=50),
        cluster("c", region="us", free_pods=30),
    ]
    assert schedule(one, loaded).clusters == ("b",)  # most available replicas
    assert schedule(one, loaded, current=["a"]).clusters == ("a",)  # locality scores first
    # Regions: the one with more feasible clusters; its best cluster, none else without a
    # cluster constraint, up to the cluster constraint's maxGroups with one.
    region = {"spreadConstraints": [{"spreadByField": "region", "maxGroups": 1}]}
    assert schedule(region, loaded).clusters == ("b",)
    both = {
        "spreadConstraints": [
            {"spreadByField": "region", "minGroups": 2, "maxGroups": 2},
            {"spreadByField": "cluster", "minGroups": 2, "maxGroups": 2},
        ]
    }
    assert schedule(both, loaded).clusters == ("b", "c")
    too_many = {"spreadConstraints": [{"spreadByField": "cluster", "minGroups": 4}]}
    assert schedule(too_many, clusters).reason == "SchedulerError"
    fallback = {
        "clusterAffinities": [
            {"affinityName": "primary", "clusterNames": ["z"]},
            {"affinityName": "backup", "clusterNames": ["c"]},
        ]
    }
    assert schedule(fallback, clusters).clusters == ("c",)
    down = [cluster("a", ready=False), cluster("b")]
    assert schedule({}, down).clusters == ("b",)
    tolerate = {
        "clusterTolerations": [
            {"key": "cluster.karmada.io/not-ready", "operator": "Exists", "effect": "NoSchedule"}
        ]
    }
    assert schedule(tolerate, down).clusters == ("a", "b")
