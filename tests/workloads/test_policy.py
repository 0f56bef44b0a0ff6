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
            "resourceSelectors": [WORKLOAD_SELECTOR],
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


def test_created_claim_follows_the_workload_as_a_dependency(
    kind: WorkloadKind, settings: WorkloadSettings
) -> None:
    # Selected on its own, the PVC would get its own binding and could be scheduled to
    # another candidate than the workload; as a dependency it goes where the workload goes.
    # MPIJob's Karmada interpreter declares no dependencies: its PVC has a policy of its own
    # that puts it on every candidate, so it is there wherever the MPIJob lands.
    spec = dataclasses.replace(spec_for(kind), volume_size_gb=10, target_clusters=("a", "b"))
    rendered = render(spec, settings)
    assert rendered.volume_claim is not None
    selected = [s["kind"] for s in rendered.policy["spec"]["resourceSelectors"]]
    assert selected == [rendered.workload["kind"]]
    assert rendered.policy["spec"]["propagateDeps"] is True
    if kind is not WorkloadKind.MPI_JOB:
        assert rendered.claim_policy is None
        assert rendered.objects == (rendered.policy, rendered.volume_claim, rendered.workload)
        return
    claim_policy = rendered.claim_policy
    assert claim_policy is not None
    assert claim_policy["spec"] == {
        "resourceSelectors": [
            {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": spec.namespace,
                "name": rendered.volume_claim["metadata"]["name"],
            }
        ],
        "placement": {
            "clusterAffinity": {"clusterNames": ["a", "b"]},
            "replicaScheduling": {"replicaSchedulingType": "Duplicated"},
        },
    }
    assert rendered.objects == (
        rendered.policy,
        claim_policy,
        rendered.volume_claim,
        rendered.workload,
    )


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
