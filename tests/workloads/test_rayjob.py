"""RayJob rendering (reference §2, ui-contract.md)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from ml_platform.workloads import (
    SecretEnvRef,
    WorkloadSettings,
    WorkloadSpec,
    WorkloadSpecError,
    render,
)

REFERENCE_RESOURCES = {
    "requests": {"cpu": "4", "memory": "8Gi"},
    "limits": {"cpu": "4", "memory": "8Gi"},
}


def rayjob(spec: WorkloadSpec, settings: WorkloadSettings) -> dict[str, Any]:
    workload: dict[str, Any] = render(spec, settings).workload
    return workload


def test_reference_request_renders_the_documented_rayjob(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    job = rayjob(spec, settings)
    job_spec = job["spec"]

    assert (job["apiVersion"], job["kind"]) == ("ray.io/v1", "RayJob")
    assert job["metadata"]["name"] == "iris-xgb-1a2b3c4d"
    assert job["metadata"]["namespace"] == "default"
    assert {k: v for k, v in job_spec.items() if k not in ("runtimeEnvYAML", "rayClusterSpec")} == {
        "entrypoint": "python /home/ray/xgboost_train.py",
        "submissionMode": "K8sJobMode",
        "shutdownAfterJobFinishes": True,
        "ttlSecondsAfterFinished": 300,
        "activeDeadlineSeconds": 14400,
        "backoffLimit": 0,
    }
    assert job_spec["rayClusterSpec"]["rayVersion"] == "2.46.0"


def test_head_group_has_ports_resources_volume_and_dashboard_host(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    head = rayjob(spec, settings)["spec"]["rayClusterSpec"]["headGroupSpec"]
    container = head["template"]["spec"]["containers"][0]

    # The dashboard binds to the pod's IP (from the downward API), not every interface.
    assert head["rayStartParams"] == {"num-cpus": "4", "dashboard-host": "$POD_IP"}
    assert {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}} in (
        container["env"]
    )
    assert container["name"] == "ray-head"
    assert container["image"] == "rayproject/ray:2.46.0"
    assert container["ports"] == [
        {"containerPort": 6379, "name": "gcs-server"},
        {"containerPort": 8265, "name": "dashboard"},
        {"containerPort": 10001, "name": "client"},
    ]
    assert container["resources"] == REFERENCE_RESOURCES
    assert container["volumeMounts"] == [
        {"name": "results", "mountPath": "/home/ray/result-storage"}
    ]
    assert head["template"]["spec"]["volumes"] == [
        {"name": "results", "persistentVolumeClaim": {"claimName": "iris-xgb-1a2b3c4d-results"}}
    ]


@pytest.mark.parametrize(("instances", "workers"), [(2, 1), (3, 2), (16, 15)])
def test_one_worker_group_with_instance_count_minus_one_replicas(
    spec: WorkloadSpec, settings: WorkloadSettings, instances: int, workers: int
) -> None:
    cluster = rayjob(dataclasses.replace(spec, instance_count=instances), settings)["spec"][
        "rayClusterSpec"
    ]
    (group,) = cluster["workerGroupSpecs"]
    container = group["template"]["spec"]["containers"][0]

    assert (group["replicas"], group["minReplicas"], group["maxReplicas"]) == (workers,) * 3
    assert group["groupName"] == "workers"
    assert group["rayStartParams"] == {"num-cpus": "4"}
    assert container["name"] == "ray-worker"
    assert container["resources"] == REFERENCE_RESOURCES
    assert "ports" not in container


def test_single_instance_is_a_head_only_cluster(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    cluster = rayjob(dataclasses.replace(spec, instance_count=1), settings)["spec"][
        "rayClusterSpec"
    ]

    assert "workerGroupSpecs" not in cluster
    assert "headGroupSpec" in cluster


def test_gpus_are_requested_and_limited_on_head_and_workers(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    cluster = rayjob(dataclasses.replace(spec, gpu_count=2), settings)["spec"]["rayClusterSpec"]
    templates = [cluster["headGroupSpec"]["template"]] + [
        g["template"] for g in cluster["workerGroupSpecs"]
    ]

    for template in templates:
        resources = template["spec"]["containers"][0]["resources"]
        assert resources["requests"] == resources["limits"]
        assert resources["limits"] == {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "2"}


def test_images_come_from_the_request_then_settings(spec: WorkloadSpec) -> None:
    settings = WorkloadSettings(ray_image="registry.local/ray:2.46.0-gpu")

    def images(s: WorkloadSpec) -> tuple[str, str]:
        cluster = rayjob(s, settings)["spec"]["rayClusterSpec"]
        head = cluster["headGroupSpec"]["template"]["spec"]["containers"][0]["image"]
        worker = cluster["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]["image"]
        return head, worker

    custom_head = dataclasses.replace(spec, head_image="team/ray:head")
    both = dataclasses.replace(custom_head, worker_image="team/ray:worker")

    assert images(spec) == ("registry.local/ray:2.46.0-gpu",) * 2
    assert images(custom_head) == ("team/ray:head", "team/ray:head")
    assert images(both) == ("team/ray:head", "team/ray:worker")


def test_entrypoint_request_overrides_the_default(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    lightgbm = dataclasses.replace(spec, algorithm="lightgbm")
    custom = dataclasses.replace(spec, entrypoint="python train.py --fast")

    assert rayjob(lightgbm, settings)["spec"]["entrypoint"] == "python /home/ray/lightgbm_train.py"
    assert rayjob(custom, settings)["spec"]["entrypoint"] == "python train.py --fast"


def test_ray_algorithm_without_any_entrypoint_is_refused(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    with pytest.raises(WorkloadSpecError, match="no entrypoint"):
        render(dataclasses.replace(spec, algorithm="catboost"), settings)


def test_named_pvc_is_mounted_and_no_claim_is_created(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    rendered = render(dataclasses.replace(spec, pvc_name="team-results"), settings)
    head = rendered.workload["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]

    assert head["volumes"] == [
        {"name": "results", "persistentVolumeClaim": {"claimName": "team-results"}}
    ]
    assert rendered.volume_claim is None


def test_credentials_are_in_pod_env_not_in_runtime_env(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    job = rayjob(spec, settings)
    head = job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]

    assert head["env"] == [
        {
            "name": "AWS_ACCESS_KEY_ID",
            "valueFrom": {
                "secretKeyRef": {
                    "name": "ml-platform-s3-credentials",
                    "key": "accessKeyId",
                    "optional": True,
                }
            },
        },
        {
            "name": "AWS_SECRET_ACCESS_KEY",
            "valueFrom": {
                "secretKeyRef": {
                    "name": "ml-platform-s3-credentials",
                    "key": "secretAccessKey",
                    "optional": True,
                }
            },
        },
        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
    ]
    assert "AWS_" not in job["spec"]["runtimeEnvYAML"]


def test_driver_is_the_submitter_pod(spec: WorkloadSpec, settings: WorkloadSettings) -> None:
    driver = render(spec, settings).driver

    assert driver.label_selector == "job-name=iris-xgb-1a2b3c4d"
    assert driver.container == "ray-job-submitter"


def test_workers_do_not_serve_a_dashboard(spec: WorkloadSpec, settings: WorkloadSettings) -> None:
    workers = rayjob(spec, settings)["spec"]["rayClusterSpec"]["workerGroupSpecs"][0]

    assert "dashboard-host" not in workers["rayStartParams"]
    container = workers["template"]["spec"]["containers"][0]
    assert "ports" not in container
    assert all(entry["name"] != "POD_IP" for entry in container["env"])


def test_secret_env_references_reach_every_container(
    spec: WorkloadSpec, settings: WorkloadSettings
) -> None:
    ref = SecretEnvRef(name="HF_TOKEN", secret_name="hf-credentials", key="token")
    job = rayjob(dataclasses.replace(spec, secret_env=(ref,)), settings)
    cluster = job["spec"]["rayClusterSpec"]
    groups = [cluster["headGroupSpec"], *cluster.get("workerGroupSpecs", [])]
    for group in groups:
        env = group["template"]["spec"]["containers"][0]["env"]
        assert {
            "name": "HF_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "hf-credentials", "key": "token"}},
        } in env
    assert "hf-credentials" not in job["spec"]["runtimeEnvYAML"]
