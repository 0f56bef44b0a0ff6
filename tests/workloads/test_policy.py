"""The Karmada PropagationPolicy of a job."""

from __future__ import annotations

import dataclasses

import pytest

from ml_platform.workloads import WorkloadKind, WorkloadSettings, WorkloadSpec, render

from .specs import spec_for

WORKLOAD_SELECTOR = {
    "apiVersion": "ray.io/v1",
    "kind": "RayJob",
    "namespace": "default",
    "name": "iris-xgb-1a2b3c4d",
}
CLAIM_SELECTOR = {
    "apiVersion": "v1",
    "kind": "PersistentVolumeClaim",
    "namespace": "default",
    "name": "iris-xgb-1a2b3c4d-results",
}


def test_reference_policy(spec: WorkloadSpec, settings: WorkloadSettings) -> None:
    policy = render(spec, settings).policy

    assert policy == {
        "apiVersion": "policy.karmada.io/v1alpha1",
        "kind": "PropagationPolicy",
        "metadata": {
            "name": "iris-xgb-1a2b3c4d-propagation",
            "namespace": "default",
            "labels": {
                "app.kubernetes.io/managed-by": "ml-platform",
                "ml-platform.io/job-id": "iris-xgb-1a2b3c4d",
                "ml-platform.io/algorithm": "xgboost",
            },
        },
        "spec": {
            "resourceSelectors": [WORKLOAD_SELECTOR, CLAIM_SELECTOR],
            "propagateDeps": True,
            "placement": {
                "clusterAffinity": {"clusterNames": ["member1"]},
                "spreadConstraints": [{"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}],
                "replicaScheduling": {"replicaSchedulingType": "Duplicated"},
            },
        },
    }


def test_several_candidates_are_listed_and_still_run_once(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    placement = render(
        dataclasses.replace(spec, target_clusters=("member1", "member2", "member3")), settings
    ).policy["spec"]["placement"]

    assert placement["clusterAffinity"] == {"clusterNames": ["member1", "member2", "member3"]}
    assert placement["spreadConstraints"] == [
        {"spreadByField": "cluster", "maxGroups": 1, "minGroups": 1}
    ]


def test_no_target_clusters_means_any_cluster(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    placement = render(dataclasses.replace(spec, target_clusters=()), settings).policy["spec"][
        "placement"
    ]

    assert "clusterAffinity" not in placement
    assert placement["spreadConstraints"][0]["maxGroups"] == 1


def test_without_created_claim_only_the_workload_is_selected(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    for variant in (
        dataclasses.replace(spec, volume_size_gb=0),
        dataclasses.replace(spec, pvc_name="existing"),
    ):
        assert render(variant, settings).policy["spec"]["resourceSelectors"] == [WORKLOAD_SELECTOR]


@pytest.mark.parametrize("priority", [-5, 0, 1000])
def test_job_priority_never_becomes_the_claim_priority(
    spec: WorkloadSpec, settings: WorkloadSettings, priority: int
) -> None:
    # A PropagationPolicy's priority only ranks policies competing for one resource; the
    # job's own policy names its workload, so a job priority there would only let it take
    # over another job's resources (Karmada: "Resource Propagating", policy priority).
    policy = render(dataclasses.replace(spec, priority=priority), settings).policy

    assert "priority" not in policy["spec"]


def test_selector_names_the_workload_of_every_kind(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    rendered = render(spec_for(kind), settings)
    selector = rendered.policy["spec"]["resourceSelectors"][0]

    assert selector == {
        "apiVersion": rendered.workload["apiVersion"],
        "kind": rendered.workload["kind"],
        "namespace": "default",
        "name": rendered.workload["metadata"]["name"],
    }
