"""PyTorchJob, TFJob (kubeflow.org/v1) and MPIJob (kubeflow.org/v2beta1) rendering."""

from __future__ import annotations

from typing import Any

import pytest

from ml_platform.workloads import WorkloadKind, WorkloadSettings, render

from .specs import spec_for

REFERENCE_RESOURCES = {
    "requests": {"cpu": "4", "memory": "8Gi"},
    "limits": {"cpu": "4", "memory": "8Gi"},
}
RUN_POLICY = {"cleanPodPolicy": "Running", "activeDeadlineSeconds": 14400, "backoffLimit": 0}

LEADER_WORKER_KINDS = [
    # kind, apiVersion, replica specs field, leader, container
    (WorkloadKind.PYTORCH_JOB, "kubeflow.org/v1", "pytorchReplicaSpecs", "Master", "pytorch"),
    (WorkloadKind.TF_JOB, "kubeflow.org/v1", "tfReplicaSpecs", "Chief", "tensorflow"),
]


def workload(kind: WorkloadKind, settings: WorkloadSettings, **changes: Any) -> dict[str, Any]:
    rendered: dict[str, Any] = render(spec_for(kind, **changes), settings).workload
    return rendered


@pytest.mark.parametrize(("kind", "api_version", "field", "leader", "name"), LEADER_WORKER_KINDS)
@pytest.mark.parametrize(("instances", "workers"), [(1, 0), (2, 1), (8, 7)])
def test_one_leader_and_instance_count_minus_one_workers(
    settings: WorkloadSettings,
    kind: WorkloadKind,
    api_version: str,
    field: str,
    leader: str,
    name: str,
    instances: int,
    workers: int,
) -> None:
    job = workload(kind, settings, instance_count=instances)
    replica_specs = job["spec"][field]

    assert (job["apiVersion"], job["kind"]) == (api_version, kind.value)
    assert job["metadata"]["name"] == "iris-xgb-1a2b3c4d"
    assert job["spec"]["runPolicy"] == RUN_POLICY
    assert replica_specs[leader]["replicas"] == 1
    if workers:
        assert set(replica_specs) == {leader, "Worker"}
        assert replica_specs["Worker"]["replicas"] == workers
    else:
        assert set(replica_specs) == {leader}
    for replica in replica_specs.values():
        assert replica["restartPolicy"] == "Never"
        (container,) = replica["template"]["spec"]["containers"]
        assert container["name"] == name
        assert container["resources"] == REFERENCE_RESOURCES


@pytest.mark.parametrize(("kind", "api_version", "field", "leader", "name"), LEADER_WORKER_KINDS)
def test_images_and_entrypoint(
    settings: WorkloadSettings,
    kind: WorkloadKind,
    api_version: str,
    field: str,
    leader: str,
    name: str,
) -> None:
    default = workload(kind, settings)["spec"][field][leader]["template"]["spec"]["containers"][0]
    custom = workload(kind, settings, image="team/train:1", entrypoint="torchrun train.py")
    custom_container = custom["spec"][field][leader]["template"]["spec"]["containers"][0]

    assert default["image"] == (
        settings.pytorch_image if kind is WorkloadKind.PYTORCH_JOB else settings.tensorflow_image
    )
    # No entrypoint and no default for the algorithm: the image's own command runs.
    assert "command" not in default
    assert custom_container["image"] == "team/train:1"
    assert custom_container["command"] == ["/bin/sh", "-c", "torchrun train.py"]


def test_pytorchjob_gpu_and_driver(settings: WorkloadSettings) -> None:
    spec = spec_for(WorkloadKind.PYTORCH_JOB, gpu_count=4)
    rendered = render(spec, settings)
    for replica in rendered.workload["spec"]["pytorchReplicaSpecs"].values():
        resources = replica["template"]["spec"]["containers"][0]["resources"]
        assert resources["requests"] == resources["limits"]
        assert resources["limits"]["nvidia.com/gpu"] == "4"

    assert rendered.driver.label_selector == (
        "training.kubeflow.org/job-name=iris-xgb-1a2b3c4d,training.kubeflow.org/replica-type=master"
    )
    assert rendered.driver.container == "pytorch"


def test_tfjob_driver_is_the_chief(settings: WorkloadSettings) -> None:
    driver = render(spec_for(WorkloadKind.TF_JOB), settings).driver

    assert driver.label_selector.endswith("training.kubeflow.org/replica-type=chief")
    assert driver.container == "tensorflow"


def test_workload_ttl_is_set_only_when_configured() -> None:
    configured = WorkloadSettings(workload_ttl_seconds_after_finished=600)

    assert (
        "ttlSecondsAfterFinished"
        not in workload(WorkloadKind.PYTORCH_JOB, WorkloadSettings())["spec"]["runPolicy"]
    )
    assert (
        workload(WorkloadKind.TF_JOB, configured)["spec"]["runPolicy"]["ttlSecondsAfterFinished"]
        == 600
    )


@pytest.mark.parametrize(("instances", "gpus", "slots"), [(1, 0, 1), (2, 0, 1), (4, 8, 8)])
def test_mpijob_launcher_plus_instance_count_workers(
    settings: WorkloadSettings, instances: int, gpus: int, slots: int
) -> None:
    job = workload(
        WorkloadKind.MPI_JOB,
        settings,
        instance_count=instances,
        gpu_count=gpus,
        entrypoint="horovodrun -np 2 python train.py",
    )
    replicas = job["spec"]["mpiReplicaSpecs"]
    (launcher,) = replicas["Launcher"]["template"]["spec"]["containers"]
    (worker,) = replicas["Worker"]["template"]["spec"]["containers"]

    assert (job["apiVersion"], job["kind"]) == ("kubeflow.org/v2beta1", "MPIJob")
    assert job["spec"]["slotsPerWorker"] == slots
    assert job["spec"]["runPolicy"] == RUN_POLICY
    assert (replicas["Launcher"]["replicas"], replicas["Worker"]["replicas"]) == (1, instances)
    assert launcher["name"] == "mpi-launcher"
    assert launcher["command"] == ["/bin/sh", "-c", "horovodrun -np 2 python train.py"]
    assert launcher["resources"] == {
        "requests": {"cpu": "1", "memory": "1Gi"},
        "limits": {"cpu": "1", "memory": "1Gi"},
    }
    assert worker["name"] == "mpi-worker"
    assert "command" not in worker
    expected_worker = {"cpu": "4", "memory": "8Gi"} | (
        {"nvidia.com/gpu": str(gpus)} if gpus else {}
    )
    assert worker["resources"] == {"requests": expected_worker, "limits": expected_worker}
    assert launcher["image"] == worker["image"] == settings.mpi_image


def test_mpijob_driver_is_the_launcher(settings: WorkloadSettings) -> None:
    driver = render(spec_for(WorkloadKind.MPI_JOB), settings).driver

    assert driver.label_selector.endswith("training.kubeflow.org/replica-type=launcher")
    assert driver.container == "mpi-launcher"


@pytest.mark.parametrize(("declared", "gpus", "slots"), [("4", 0, 4), ("2", 8, 2), ("", 8, 8)])
def test_mpijob_slots_per_worker_follow_the_hyperparameter(
    settings: WorkloadSettings, declared: str, gpus: int, slots: int
) -> None:
    # The hostfile the MPI operator writes must hold the processes mpirun is asked for.
    job = workload(
        WorkloadKind.MPI_JOB,
        settings,
        gpu_count=gpus,
        hyperparameter_env={"SLOTS_PER_WORKER": declared} if declared else {},
    )
    assert job["spec"]["slotsPerWorker"] == slots
