"""Indexed batch/v1 Job rendering (jax-pjit, container algorithms)."""

from __future__ import annotations

import pytest

from ml_platform.workloads import WorkloadKind, WorkloadSettings, render

from .manifests import validate_strictly
from .specs import spec_for


@pytest.mark.parametrize("instances", [1, 2, 32])
def test_indexed_job_runs_every_instance_at_once(
    settings: WorkloadSettings, instances: int
) -> None:
    job = render(spec_for(WorkloadKind.JOB, instance_count=instances), settings).workload
    job_spec = job["spec"]

    assert (job["apiVersion"], job["kind"]) == ("batch/v1", "Job")
    assert job_spec["completionMode"] == "Indexed"
    assert job_spec["parallelism"] == job_spec["completions"] == instances
    assert job_spec["backoffLimit"] == 0
    assert job_spec["activeDeadlineSeconds"] == 14400
    assert job_spec["template"]["spec"]["restartPolicy"] == "Never"
    assert "ttlSecondsAfterFinished" not in job_spec
    validate_strictly(job)


def test_container_algorithm_uses_its_image_and_entrypoint(settings: WorkloadSettings) -> None:
    spec = spec_for(
        WorkloadKind.JOB,
        algorithm="my-trainer",
        image="registry.local/team/trainer:7",
        entrypoint="python -m trainer --epochs 3",
        gpu_count=1,
    )

    (container,) = render(spec, settings).workload["spec"]["template"]["spec"]["containers"]

    assert container["name"] == "trainer"
    assert container["image"] == "registry.local/team/trainer:7"
    assert container["command"] == ["/bin/sh", "-c", "python -m trainer --epochs 3"]
    assert container["resources"]["limits"] == {"cpu": "4", "memory": "8Gi", "nvidia.com/gpu": "1"}
    assert container["resources"]["requests"] == container["resources"]["limits"]


def test_fallback_image_and_image_command(settings: WorkloadSettings) -> None:
    (container,) = render(spec_for(WorkloadKind.JOB), settings).workload["spec"]["template"][
        "spec"
    ]["containers"]

    assert container["image"] == settings.job_image
    assert "command" not in container


def test_ttl_when_configured() -> None:
    settings = WorkloadSettings(workload_ttl_seconds_after_finished=120)

    job = render(spec_for(WorkloadKind.JOB), settings).workload

    assert job["spec"]["ttlSecondsAfterFinished"] == 120
    validate_strictly(job)


def test_driver_is_index_zero(settings: WorkloadSettings) -> None:
    driver = render(spec_for(WorkloadKind.JOB), settings).driver

    assert driver.label_selector == (
        "job-name=iris-xgb-1a2b3c4d,batch.kubernetes.io/job-completion-index=0"
    )
    assert driver.container == "trainer"
